/**
 * Each package ships what its package.json promises, and an ESM user and a CJS user see the same
 * API. The checks live in scripts/check-packages.mjs (also runnable by hand); the test command
 * builds the packages first, so a missing dist/ here is a failure, not a skip.
 */
import { describe, expect, it } from 'vitest'
import {
  declaredFiles,
  listPackages,
  loadExports,
  loadProblems,
  missingFiles,
  parityProblems,
  requireSpecifiers,
  specifiers,
} from '../../scripts/check-packages.mjs'

const packages = listPackages()

describe('packages/*', () => {
  it('are found', () => {
    expect(packages.map((pkg) => pkg.name)).toContain('@cachewire/core')
  })
})

describe.each(packages)('$name', (pkg) => {
  it('has every file its package.json names (exports, main, module, types)', () => {
    expect(declaredFiles(pkg).length).toBeGreaterThan(0)
    expect(missingFiles(pkg)).toEqual([])
  })

  it('exposes the same names through import() and require()', async () => {
    expect(missingFiles(pkg), 'build the packages first').toEqual([])
    const [esm, cjs] = await Promise.all([loadExports(pkg, 'import'), loadExports(pkg, 'require')])
    expect(Object.keys(esm)).toEqual(specifiers(pkg))
    expect(Object.keys(cjs)).toEqual(requireSpecifiers(pkg))
    expect([...loadProblems(pkg, 'import', esm), ...loadProblems(pkg, 'require', cjs)]).toEqual([])
    expect(parityProblems(esm, cjs)).toEqual([])
  })
})

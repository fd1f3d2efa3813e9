#!/usr/bin/env node
/**
 * Checks the built packages the way a user's Node loads them, not the way our tooling does:
 * - every `exports` target (and main/module/types) of packages/<name>/package.json is on disk;
 * - `import()` from a plain .mjs file and `require()` from a plain .cjs file, each run by `node`
 *   in a child process, resolve into the package's own dist/ and expose the same export names
 *   with the same kinds (koa's load-with-esm parity test; the dual-package hazard in STYLE.md).
 *
 * Packages are resolved from the `test` workspace package (test/node_modules/@cachewire/*), so a
 * package missing from test/package.json fails here rather than in some later, stranger way.
 *
 * Usage: node scripts/check-packages.mjs   (after building; exits 1 on any problem)
 * test/packaging/exports.test.ts runs the same checks inside vitest.
 */
import { execFile } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { randomBytes } from 'node:crypto'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const RESOLVE_FROM = join(ROOT, 'test')

/**
 * @typedef {{ dir: string, name: string, manifest: Record<string, any> }} PackageInfo
 * @typedef {{ resolved: string, names: Record<string, string> } | { error: string }} Loaded
 */

/** Every packages/* folder with a package.json, in name order. @returns {PackageInfo[]} */
export function listPackages(root = ROOT) {
  const base = join(root, 'packages')
  return readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(base, entry.name, 'package.json')))
    .map((entry) => {
      const dir = join(base, entry.name)
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      return { dir, name: manifest.name, manifest }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * The import specifiers a user can write: `name` plus each subpath, minus ./package.json.
 * @param {PackageInfo} pkg @returns {string[]}
 */
export function specifiers(pkg) {
  const exports = pkg.manifest.exports
  const subpaths =
    exports && typeof exports === 'object' && Object.keys(exports).every((k) => k.startsWith('.'))
      ? Object.keys(exports)
      : ['.']
  return subpaths
    .filter((subpath) => subpath !== './package.json' && !subpath.includes('*'))
    .map((subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`))
}

/**
 * Specifiers a CJS user is offered: all of them, except subpaths whose exports entry has no
 * condition `require()` matches (require, node, default) — declared ESM-only, checked by import only.
 * @param {PackageInfo} pkg @returns {string[]}
 */
export function requireSpecifiers(pkg) {
  const exports = pkg.manifest.exports
  return specifiers(pkg).filter((spec) => {
    const subpath = spec === pkg.name ? '.' : `./${spec.slice(pkg.name.length + 1)}`
    const entry = exports && typeof exports === 'object' ? (exports[subpath] ?? exports) : exports
    return (
      !entry || typeof entry !== 'object' || ['require', 'node', 'default'].some((c) => c in entry)
    )
  })
}

/**
 * Every file path named by exports (through all conditions) and main/module/types.
 * @param {PackageInfo} pkg @returns {string[]}
 */
export function declaredFiles(pkg) {
  /** @type {Set<string>} */
  const files = new Set()
  /** @param {unknown} value */
  const walk = (value) => {
    if (typeof value === 'string') files.add(value)
    else if (Array.isArray(value)) value.forEach(walk)
    else if (value && typeof value === 'object') Object.values(value).forEach(walk)
  }
  walk(pkg.manifest.exports)
  for (const field of ['main', 'module', 'types']) walk(pkg.manifest[field])
  return [...files].filter((file) => !file.includes('*'))
}

/**
 * Problems with the files on disk: no dist/, or declared files that do not exist.
 * @param {PackageInfo} pkg @returns {string[]}
 */
export function missingFiles(pkg) {
  if (!existsSync(join(pkg.dir, 'dist'))) return [`${pkg.name}: no dist/ (build it first)`]
  return declaredFiles(pkg)
    .filter((file) => !existsSync(join(pkg.dir, file)))
    .map((file) => `${pkg.name}: ${file} is declared in package.json but does not exist`)
}

const LOADERS = {
  // Written as a user would: a bare specifier, Node's own resolution, nothing from vitest.
  import: `
const out = {}
for (const spec of JSON.parse(process.argv[2])) {
  try {
    const ns = await import(spec)
    out[spec] = { resolved: import.meta.resolve(spec), names: Object.fromEntries(Object.keys(ns).sort().map((k) => [k, typeof ns[k]])) }
  } catch (error) { out[spec] = { error: String(error?.stack ?? error) } }
}
process.stdout.write(JSON.stringify(out))
`,
  require: `
const { pathToFileURL } = require('node:url')
const out = {}
for (const spec of JSON.parse(process.argv[2])) {
  try {
    const mod = require(spec)
    const keys = Object.keys(mod).filter((k) => k !== '__esModule').sort()
    out[spec] = { resolved: pathToFileURL(require.resolve(spec)).href, names: Object.fromEntries(keys.map((k) => [k, typeof mod[k]])) }
  } catch (error) { out[spec] = { error: String(error?.stack ?? error) } }
}
process.stdout.write(JSON.stringify(out))
`,
}

/**
 * Loads every specifier of `pkg` in a child `node`, by `import()` or by `require()`.
 * @param {PackageInfo} pkg
 * @param {'import' | 'require'} mode
 * @returns {Promise<Record<string, Loaded>>}
 */
export async function loadExports(pkg, mode) {
  const modules = join(RESOLVE_FROM, 'node_modules')
  if (!existsSync(modules)) throw new Error(`${modules} is missing: run pnpm install`)
  // Inside test/node_modules (gitignored), so bare specifiers resolve from the test package.
  const tmp = join(modules, '.cache', 'cachewire-packaging', randomBytes(6).toString('hex'))
  mkdirSync(tmp, { recursive: true })
  try {
    const file = join(tmp, mode === 'import' ? 'load.mjs' : 'load.cjs')
    writeFileSync(file, LOADERS[mode])
    const specs = mode === 'import' ? specifiers(pkg) : requireSpecifiers(pkg)
    const { stdout } = await run(process.execPath, [file, JSON.stringify(specs)], {
      cwd: tmp,
      timeout: 60_000,
    })
    return JSON.parse(stdout)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

/**
 * Problems with one mode's load: errors, or files resolved outside the package's dist/.
 * @param {PackageInfo} pkg @param {'import' | 'require'} mode @param {Record<string, Loaded>} loaded
 * @returns {string[]}
 */
export function loadProblems(pkg, mode, loaded) {
  const dist = realpathSync(pkg.dir) + sep + 'dist' + sep
  return Object.entries(loaded).flatMap(([spec, result]) => {
    if ('error' in result) return [`${mode}(${spec}) failed: ${result.error.split('\n')[0]}`]
    const file = realpathSync(fileURLToPath(result.resolved))
    if (!file.startsWith(dist)) {
      return [
        `${mode}(${spec}) resolved to ${relative(ROOT, file)}, outside ${relative(ROOT, dist)}`,
      ]
    }
    if (Object.keys(result.names).length === 0) return [`${mode}(${spec}) exports nothing`]
    return []
  })
}

/**
 * Names (with kinds) that import() and require() disagree on, per specifier.
 * @param {Record<string, Loaded>} esm @param {Record<string, Loaded>} cjs @returns {string[]}
 */
export function parityProblems(esm, cjs) {
  return Object.keys(esm).flatMap((spec) => {
    const a = esm[spec]
    const b = cjs[spec]
    // Absent from cjs: a declared ESM-only subpath. Load errors are reported by loadProblems.
    if (!a || !b || 'error' in a || 'error' in b) return []
    const names = new Set([...Object.keys(a.names), ...Object.keys(b.names)])
    return [...names]
      .filter((name) => a.names[name] !== b.names[name])
      .map(
        (name) =>
          `${spec}: "${name}" is ${a.names[name] ?? 'missing'} via import(), ${b.names[name] ?? 'missing'} via require()`
      )
  })
}

/**
 * All problems of one package; empty means it ships what it says.
 * @param {PackageInfo} pkg @returns {Promise<string[]>}
 */
export async function checkPackage(pkg) {
  const missing = missingFiles(pkg)
  if (missing.length > 0) return missing
  const [esm, cjs] = await Promise.all([loadExports(pkg, 'import'), loadExports(pkg, 'require')])
  return [
    ...loadProblems(pkg, 'import', esm),
    ...loadProblems(pkg, 'require', cjs),
    ...parityProblems(esm, cjs),
  ]
}

async function main() {
  let failed = false
  for (const pkg of listPackages()) {
    const problems = await checkPackage(pkg)
    failed ||= problems.length > 0
    const esmOnly = specifiers(pkg).filter((spec) => !requireSpecifiers(pkg).includes(spec))
    const note = esmOnly.length > 0 ? `; ESM-only: ${esmOnly.join(', ')}` : ''
    console.log(
      problems.length === 0
        ? `ok   ${pkg.name} (${specifiers(pkg).join(', ')}${note})`
        : `FAIL ${pkg.name}`
    )
    for (const problem of problems) console.log(`     ${problem}`)
  }
  process.exitCode = failed ? 1 : 0
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()

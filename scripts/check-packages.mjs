#!/usr/bin/env node
/**
 * Checks the packages the way a user gets them, for every packages/<name> (so a new package is
 * covered without being listed anywhere):
 * 1. manifest: LICENSE, repository/homepage/bugs/keywords/author, engines, files, sideEffects;
 *    every exports subpath has import+require, each with types; main/module/types agree with
 *    exports["."]; typesVersions gives subpath types to TypeScript `module: commonjs`
 *    (scripts/packaging/manifest.mjs);
 * 2. built files: every file package.json names exists; import() and require() from the
 *    workspace resolve into dist/ and expose the same names (koa's ESM/CJS parity test);
 * 3. tarballs (`pnpm pack`): ship only package.json, README.md, LICENSE and dist/; publint (every
 *    level) and @arethetypeswrong/cli (node10, node16 CJS and ESM, bundler) find nothing
 *    (scripts/packaging/tarballs.mjs);
 * 4. clean install from the registry with npm, in a temp project and in one on vitest 2: no
 *    ERESOLVE, no EBADENGINE; a consumer .ts file typechecks under module commonjs, node16 and
 *    bundler; require() and import() load every entry (scripts/packaging/clean-install.mjs).
 * Problems listed in scripts/known-failures.mjs are reported but allowed.
 *
 * Usage (after building):
 *   node scripts/check-packages.mjs            all four; exits 1 on any problem not known
 *   node scripts/check-packages.mjs --offline  1–3 only (no registry)
 *   node scripts/check-packages.mjs --fix      write the derivable manifest fields, copy LICENSE
 * test/packaging runs the same checks inside `pnpm test`.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KNOWN_PACKAGING_PROBLEMS } from './known-failures.mjs'
import {
  installBesideVitest2,
  installConsumer,
  loadInConsumer,
  peerSpecs,
  typecheckConsumer,
} from './packaging/clean-install.mjs'
import { loadErrors, loadFrom, parityProblems } from './packaging/load.mjs'
import { exportsProblems, fixManifest, metadataProblems } from './packaging/manifest.mjs'
import {
  attwProblems,
  packPackages,
  publintProblems,
  tarballContentProblems,
} from './packaging/tarballs.mjs'

export { parityProblems }

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const RESOLVE_FROM = join(ROOT, 'test')

/**
 * @typedef {{ dir: string, name: string, manifest: Record<string, any> }} PackageInfo
 * @typedef {import('./packaging/load.mjs').Loaded} Loaded
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
 * condition `require()` matches (require, node, default). The manifest check reports those
 * (every subpath must ship CJS); here they are just not loaded with require().
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

/**
 * Manifest problems of one package (metadata and exports shape); no build needed.
 * @param {PackageInfo} pkg @returns {string[]}
 */
export function manifestProblems(pkg) {
  return [...metadataProblems(pkg, ROOT), ...exportsProblems(pkg.manifest)]
}

/**
 * Loads every specifier of `pkg` from the `test` workspace package (test/node_modules), so a
 * package missing from test/package.json fails here rather than in some later, stranger way.
 * @param {PackageInfo} pkg @param {'import' | 'require'} mode
 * @returns {Promise<Record<string, Loaded>>}
 */
export async function loadExports(pkg, mode) {
  if (!existsSync(join(RESOLVE_FROM, 'node_modules'))) {
    throw new Error(`${join(RESOLVE_FROM, 'node_modules')} is missing: run pnpm install`)
  }
  return loadFrom(RESOLVE_FROM, mode, mode === 'import' ? specifiers(pkg) : requireSpecifiers(pkg))
}

/**
 * Problems with one mode's load: errors, or files resolved outside the package's dist/.
 * @param {PackageInfo} pkg @param {'import' | 'require'} mode @param {Record<string, Loaded>} loaded
 * @returns {string[]}
 */
export function loadProblems(pkg, mode, loaded) {
  const dist = realpathSync(pkg.dir) + sep + 'dist' + sep
  const outside = Object.entries(loaded).flatMap(([spec, result]) => {
    if ('error' in result) return []
    const file = realpathSync(fileURLToPath(result.resolved))
    return file.startsWith(dist)
      ? []
      : [`${mode}(${spec}) resolved to ${relative(ROOT, file)}, outside ${relative(ROOT, dist)}`]
  })
  return [...loadErrors(mode, loaded), ...outside]
}

/**
 * Built-file problems of one package: declared files missing, load errors, ESM/CJS disagreement.
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

/**
 * The entry of KNOWN_PACKAGING_PROBLEMS that allows `problem`, if any.
 * @param {string} problem
 */
export function knownProblem(problem) {
  return KNOWN_PACKAGING_PROBLEMS.find((known) => problem.includes(known.match))
}

/**
 * Splits problems into those that fail and those allowed for now.
 * @param {string[]} problems @returns {{ failing: string[], known: string[] }}
 */
export function triage(problems) {
  return {
    failing: problems.filter((problem) => !knownProblem(problem)),
    known: problems.filter((problem) => knownProblem(problem)),
  }
}

/**
 * Packs every package into a fresh temp dir; the caller removes `dir`.
 * @param {PackageInfo[]} packages
 */
export async function packAll(packages) {
  const dir = mkdtempSync(join(tmpdir(), 'cachewire-packaging-'))
  const packed = await packPackages(ROOT, dir)
  for (const pkg of packages) {
    if (!packed.has(pkg.name)) throw new Error(`pnpm pack made no tarball for ${pkg.name}`)
  }
  return { dir, packed }
}

/**
 * Tarball problems of one package: contents, publint, attw.
 * @param {string} name @param {{ tarball: string, files: string[] }} packed
 * @returns {Promise<string[]>}
 */
export async function tarballProblems(name, packed) {
  const [lint, types] = await Promise.all([
    publintProblems(name, packed.tarball),
    attwProblems(name, packed.tarball),
  ])
  return [...tarballContentProblems(name, packed.files), ...lint, ...types]
}

/**
 * Clean-install problems of all packages together (they depend on each other).
 * @param {PackageInfo[]} packages @param {string[]} tarballs @param {string} workDir
 * @returns {Promise<string[]>}
 */
export async function cleanInstallProblems(packages, tarballs, workDir) {
  const specs = packages.flatMap(specifiers)
  const [consumer, vitest2] = await Promise.all([
    installConsumer(workDir, tarballs, peerSpecs(packages)),
    installBesideVitest2(workDir, tarballs),
  ])
  const problems = [...consumer.problems, ...vitest2.problems]
  if (!consumer.problems.some((p) => p.includes('exited'))) {
    const [types, loads] = await Promise.all([
      typecheckConsumer(consumer.dir, specs),
      loadInConsumer(consumer.dir, specs),
    ])
    problems.push(...types, ...loads)
  }
  return problems
}

/** @param {string} title @param {string[]} problems */
function report(title, problems) {
  const { failing, known } = triage(problems)
  const allowed = known.length > 0 ? ` (${known.length} known problems allowed for now)` : ''
  console.log(`${failing.length > 0 ? 'FAIL' : 'ok  '} ${title}${allowed}`)
  for (const problem of failing) console.log(`     ${problem}`)
  for (const problem of known) {
    console.log(`     known, allowed for now (${knownProblem(problem)?.reason}): ${problem}`)
  }
  return failing.length
}

async function main() {
  const args = new Set(process.argv.slice(2))
  const packages = listPackages()
  if (args.has('--fix')) {
    for (const pkg of packages) {
      console.log(`${fixManifest(pkg, ROOT) ? 'fixed' : 'ok   '} ${pkg.name}`)
    }
    return
  }
  const started = Date.now()
  /** @type {Array<[string, Promise<string[]>]>} */
  const checks = packages.flatMap((pkg) => [
    [`${pkg.name}: manifest`, Promise.resolve(manifestProblems(pkg))],
    [`${pkg.name}: built files, import() ≡ require()`, checkPackage(pkg)],
  ])
  const { dir, packed } = await packAll(packages)
  try {
    for (const pkg of packages) {
      const tarball = /** @type {{ tarball: string, files: string[] }} */ (packed.get(pkg.name))
      checks.push([`${pkg.name}: tarball, publint, attw`, tarballProblems(pkg.name, tarball)])
    }
    if (!args.has('--offline')) {
      const tarballs = [...packed.values()].map((entry) => entry.tarball)
      const title = `clean install with npm on Node ${process.version}`
      checks.push([title, cleanInstallProblems(packages, tarballs, dir)])
    }
    let failures = 0
    /** @type {string[]} */
    const all = []
    for (const [title, problems] of checks) {
      all.push(...(await problems))
      failures += report(title, await problems)
    }
    if (!args.has('--offline')) {
      for (const entry of KNOWN_PACKAGING_PROBLEMS.filter(
        (k) => !all.some((p) => p.includes(k.match))
      )) {
        console.log(
          `note: known problem "${entry.match}" no longer occurs: remove it from scripts/known-failures.mjs`
        )
      }
    }
    console.log(
      `${failures === 0 ? 'ok' : 'FAIL'}: packaging check in ${((Date.now() - started) / 1000).toFixed(1)} s`
    )
    process.exitCode = failures > 0 ? 1 : 0
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()

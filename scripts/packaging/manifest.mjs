/**
 * What every packages/<name>/package.json must say, read from the manifest alone (no build):
 * metadata (LICENSE, repository, homepage, bugs, keywords, author, engines, files, sideEffects),
 * the exports shape (every subpath has ESM and CJS, each with its own types), main/module/types
 * that agree with exports['.'], and the typesVersions that make subpaths resolve under TypeScript
 * `module: commonjs` (moduleResolution node10, which ignores `exports`).
 *
 * `fixManifest` writes every field these rules can derive, so a new package starts right:
 *   node scripts/check-packages.mjs --fix
 */
import { existsSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'

export const GITHUB = 'https://github.com/cachewire/cachewire'
export const AUTHOR = 'cachewire contributors'
/** What a tarball holds besides package.json; npm adds README and LICENSE anyway, we say so. */
export const FILES = ['dist', 'README.md', 'LICENSE']

/**
 * Fields every package has with one value, derived from its folder.
 * @param {{ dir: string }} pkg @returns {Record<string, unknown>}
 */
export function expectedMetadata(pkg) {
  const directory = `packages/${basename(pkg.dir)}`
  return {
    homepage: `${GITHUB}/tree/main/${directory}#readme`,
    bugs: { url: `${GITHUB}/issues` },
    repository: { type: 'git', url: `git+${GITHUB}.git`, directory },
    license: 'MIT',
    author: AUTHOR,
    type: 'module',
    sideEffects: false,
    engines: { node: '>=20' },
    files: FILES,
    publishConfig: { access: 'public' },
  }
}

/** @param {unknown} value @returns {value is Record<string, any>} */
const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The subpaths of exports a user imports (not ./package.json), '.' first.
 * @param {Record<string, any>} manifest @returns {string[]}
 */
export function subpaths(manifest) {
  const exports = manifest.exports
  if (!isObject(exports)) return []
  return Object.keys(exports).filter((key) => key.startsWith('.') && key !== './package.json')
}

/**
 * typesVersions derived from exports: each subpath but '.' maps to its CJS types, which is what
 * a `module: commonjs` project (node10 resolution, no `exports`) then loads with require().
 * @param {Record<string, any>} manifest @returns {Record<string, any> | undefined}
 */
export function expectedTypesVersions(manifest) {
  const entries = subpaths(manifest)
    .filter((subpath) => subpath !== '.' && !subpath.includes('*'))
    .map((subpath) => [subpath.slice(2), [manifest.exports[subpath]?.require?.types]])
    .filter(([, [types]]) => typeof types === 'string')
  return entries.length > 0 ? { '*': Object.fromEntries(entries) } : undefined
}

/** ext per condition and key: what tsup's esm+cjs output with dts is named. */
const SHAPE = {
  import: { types: '.d.ts', default: '.js' },
  require: { types: '.d.cts', default: '.cjs' },
}

/**
 * Problems with the exports map: every subpath `{ import: { types, default }, require: { types,
 * default } }` with types first, plus "./package.json"; main/module/types agree with '.'.
 * @param {Record<string, any>} manifest @returns {string[]}
 */
export function exportsProblems(manifest) {
  const name = manifest.name
  const exports = manifest.exports
  if (!isObject(exports) || !('.' in exports)) return [`${name}: exports has no "." entry`]
  /** @type {string[]} */
  const problems = []
  if (exports['./package.json'] !== './package.json') {
    problems.push(`${name}: exports["./package.json"] should be "./package.json"`)
  }
  for (const subpath of subpaths(manifest)) {
    const entry = exports[subpath]
    const where = `${name}: exports["${subpath}"]`
    if (!isObject(entry)) {
      problems.push(`${where} should be { import: {types, default}, require: {types, default} }`)
      continue
    }
    for (const [condition, keys] of Object.entries(SHAPE)) {
      const target = entry[condition]
      if (!isObject(target)) {
        const kind = condition === 'require' ? 'CJS' : 'ESM'
        problems.push(`${where} has no "${condition}" condition (every subpath ships ${kind} too)`)
        continue
      }
      if (Object.keys(target)[0] !== 'types') {
        problems.push(`${where}.${condition}: "types" must come first`)
      }
      for (const [key, ext] of Object.entries(keys)) {
        if (typeof target[key] !== 'string' || !target[key].endsWith(ext)) {
          problems.push(`${where}.${condition}.${key} should be a ${ext} file, got ${target[key]}`)
        }
      }
    }
  }
  const root = exports['.']
  /** @type {Array<[string, unknown]>} */
  const mains = [
    ['main', root?.require?.default],
    ['module', root?.import?.default],
    ['types', root?.require?.types],
  ]
  for (const [field, expected] of mains) {
    if (manifest[field] !== expected) {
      problems.push(`${name}: "${field}" is ${manifest[field]}, exports["."] says ${expected}`)
    }
  }
  const typesVersions = expectedTypesVersions(manifest)
  if (!isDeepStrictEqual(manifest.typesVersions, typesVersions)) {
    problems.push(
      `${name}: typesVersions should be ${JSON.stringify(typesVersions)} (subpath types for ` +
        `TypeScript module: commonjs; node scripts/check-packages.mjs --fix writes it), is ${JSON.stringify(manifest.typesVersions)}`
    )
  }
  return problems
}

/**
 * Problems with the metadata of one package, including its LICENSE and README files.
 * @param {{ dir: string, manifest: Record<string, any> }} pkg @param {string} root
 * @returns {string[]}
 */
export function metadataProblems(pkg, root) {
  const { manifest } = pkg
  const name = manifest.name ?? basename(pkg.dir)
  /** @type {string[]} */
  const problems = []
  if (manifest.name !== `@cachewire/${basename(pkg.dir)}`) {
    problems.push(`${name}: name should be @cachewire/${basename(pkg.dir)} (its folder)`)
  }
  if (manifest.private) problems.push(`${name}: is private`)
  if (typeof manifest.version !== 'string') problems.push(`${name}: no version`)
  if (typeof manifest.description !== 'string' || manifest.description.length < 20) {
    problems.push(`${name}: needs a description (one sentence)`)
  }
  const keywords = manifest.keywords
  if (!Array.isArray(keywords) || keywords.length < 3 || !keywords.includes('cachewire')) {
    problems.push(`${name}: keywords should list "cachewire" and at least two more`)
  }
  for (const [field, expected] of Object.entries(expectedMetadata(pkg))) {
    if (!isDeepStrictEqual(manifest[field], expected)) {
      problems.push(
        `${name}: "${field}" should be ${JSON.stringify(expected)}, is ${JSON.stringify(manifest[field])}`
      )
    }
  }
  const license = join(pkg.dir, 'LICENSE')
  if (!existsSync(license)) problems.push(`${name}: no LICENSE file`)
  else if (readFileSync(license, 'utf8') !== readFileSync(join(root, 'LICENSE'), 'utf8')) {
    problems.push(`${name}: LICENSE differs from the root LICENSE`)
  }
  if (!existsSync(join(pkg.dir, 'README.md'))) problems.push(`${name}: no README.md`)
  return problems
}

/** Canonical field order; a field that is missing is written after the nearest one before it. */
const ORDER = [
  'name',
  'version',
  'description',
  'keywords',
  'homepage',
  'bugs',
  'repository',
  'license',
  'author',
  'type',
  'sideEffects',
  'engines',
  'main',
  'module',
  'types',
  'typesVersions',
  'exports',
  'files',
  'publishConfig',
]

/**
 * `manifest` with `key` set to `value`, in place if present, else at its canonical position.
 * `undefined` removes the key. Other keys keep their order, so a diff shows only what changed.
 * @param {Record<string, any>} manifest @param {string} key @param {unknown} value
 */
function withField(manifest, key, value) {
  if (value === undefined) {
    const { [key]: _removed, ...rest } = manifest
    return rest
  }
  if (key in manifest) return { ...manifest, [key]: value }
  const before = ORDER.slice(0, ORDER.indexOf(key)).filter((k) => k in manifest)
  const anchor = before.at(-1)
  /** @type {Record<string, any>} */
  const out = anchor === undefined ? { [key]: value } : {}
  for (const [k, v] of Object.entries(manifest)) {
    out[k] = v
    if (k === anchor) out[key] = value
  }
  return out
}

/**
 * Writes what the rules derive into packages/<name>/package.json and copies the root LICENSE.
 * Never touches exports (their owners do): run it after adding a subpath to get typesVersions.
 * @param {{ dir: string, manifest: Record<string, any> }} pkg @param {string} root
 * @returns {boolean} whether anything changed
 */
export function fixManifest(pkg, root) {
  let manifest = pkg.manifest
  const set = (/** @type {string} */ key, /** @type {unknown} */ value) => {
    manifest = withField(manifest, key, value)
  }
  if (!Array.isArray(manifest.keywords) || !manifest.keywords.includes('cachewire')) {
    set('keywords', ['cachewire', ...(manifest.keywords ?? [])])
  }
  for (const [field, value] of Object.entries(expectedMetadata(pkg))) set(field, value)
  const rootEntry = manifest.exports?.['.']
  if (rootEntry) {
    set('main', rootEntry.require?.default)
    set('module', rootEntry.import?.default)
    set('types', rootEntry.require?.types)
  }
  set('typesVersions', expectedTypesVersions(manifest))
  const text = JSON.stringify(manifest, null, 2) + '\n'
  const file = join(pkg.dir, 'package.json')
  const changed = text !== readFileSync(file, 'utf8')
  if (changed) writeFileSync(file, text)
  const license = join(pkg.dir, 'LICENSE')
  const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8')
  if (!existsSync(license) || readFileSync(license, 'utf8') !== rootLicense) {
    copyFileSync(join(root, 'LICENSE'), license)
    return true
  }
  return changed
}

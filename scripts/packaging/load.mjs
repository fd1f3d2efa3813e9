/**
 * Loads package entry points the way a user's Node does: `node -e "require(...)"` and
 * `node --input-type=module -e "import(...)"` in a child process whose working directory is the
 * user's project, with bare specifiers and Node's own resolution (nothing from vitest or tsx).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * @typedef {{ resolved: string, names: Record<string, string> } | { error: string }} Loaded
 */

const LOADERS = {
  import: `
const out = {}
for (const spec of JSON.parse(process.env.CACHEWIRE_SPECIFIERS)) {
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
for (const spec of JSON.parse(process.env.CACHEWIRE_SPECIFIERS)) {
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
 * Loads each specifier from `cwd` in one child `node`, by import() or by require().
 * @param {string} cwd @param {'import' | 'require'} mode @param {string[]} specs
 * @returns {Promise<Record<string, Loaded>>}
 */
export async function loadFrom(cwd, mode, specs) {
  const args =
    mode === 'import' ? ['--input-type=module', '-e', LOADERS.import] : ['-e', LOADERS.require]
  const { stdout } = await run(process.execPath, args, {
    cwd,
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, CACHEWIRE_SPECIFIERS: JSON.stringify(specs), NODE_OPTIONS: '' },
  })
  return JSON.parse(stdout)
}

/**
 * Load errors and empty modules, one line each.
 * @param {'import' | 'require'} mode @param {Record<string, Loaded>} loaded @returns {string[]}
 */
export function loadErrors(mode, loaded) {
  return Object.entries(loaded).flatMap(([spec, result]) => {
    if ('error' in result) return [`${spec}: ${mode}() failed: ${result.error.split('\n')[0]}`]
    if (Object.keys(result.names).length === 0) return [`${spec}: ${mode}() exports nothing`]
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
    // Absent from cjs: a declared ESM-only subpath. Load errors are reported on their own.
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

/**
 * The packages as npm would get them: `pnpm pack` of every packages/* (workspace: ranges become
 * real ones), then publint and @arethetypeswrong/cli on each tarball. attw's default profile
 * ("strict") judges all four resolutions: node10 (TypeScript `module: commonjs`), node16 from CJS,
 * node16 from ESM, and bundler; any problem it reports is one here.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const run = promisify(execFile)
const require = createRequire(import.meta.url)

/**
 * The pnpm of package.json's packageManager: the one on PATH if it is that version (in `pnpm
 * test` and `.ci/run` it is), else through npx.
 * @param {string} root @returns {Promise<[string, string[]]>} command and leading arguments
 */
export async function pnpmCommand(root) {
  const wanted = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager
  const version = wanted.split('@')[1]
  try {
    const { stdout } = await run('pnpm', ['--version'], { timeout: 30_000 })
    if (stdout.trim() === version) return ['pnpm', []]
  } catch {
    // not on PATH: fall through to npx
  }
  return ['npx', ['-y', `pnpm@${version}`]]
}

/**
 * Packs every packages/* into `dest` with one pnpm run.
 * @param {string} root @param {string} dest
 * @returns {Promise<Map<string, { tarball: string, files: string[] }>>} by package name
 */
export async function packPackages(root, dest) {
  const [command, args] = await pnpmCommand(root)
  const { stdout } = await run(
    command,
    [...args, '-r', '--filter', './packages/*', 'pack', '--pack-destination', dest, '--json'],
    { cwd: root, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }
  )
  const parsed = JSON.parse(stdout)
  /** @type {Array<{ name: string, filename: string, files: Array<{ path: string }> }>} */
  const packed = Array.isArray(parsed) ? parsed : [parsed]
  return new Map(
    packed.map((entry) => [
      entry.name,
      { tarball: entry.filename, files: entry.files.map((file) => file.path) },
    ])
  )
}

/**
 * Files in a tarball beyond package.json, README.md, LICENSE and dist/, or those missing.
 * @param {string} name @param {string[]} files @returns {string[]}
 */
export function tarballContentProblems(name, files) {
  const allowed = (/** @type {string} */ file) =>
    ['package.json', 'README.md', 'LICENSE'].includes(file) || file.startsWith('dist/')
  return [
    ...files.filter((file) => !allowed(file)).map((file) => `${name}: tarball ships ${file}`),
    ...['package.json', 'README.md', 'LICENSE']
      .filter((file) => !files.includes(file))
      .map((file) => `${name}: tarball lacks ${file}`),
  ]
}

/**
 * publint's messages of every level (suggestions too) for a tarball.
 * @param {string} name @param {string} tarball @returns {Promise<string[]>}
 */
export async function publintProblems(name, tarball) {
  const bytes = readFileSync(tarball)
  const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  const { messages, pkg } = await publint({
    pack: { tarball: data },
    level: 'suggestion',
    strict: true,
  })
  return messages.map(
    (message) =>
      `${name}: publint ${message.type} ${message.code}: ${formatMessage(message, pkg, { color: false }) ?? ''}`
  )
}

/**
 * @arethetypeswrong/cli on a tarball (strict profile: node10, node16-cjs, node16-esm, bundler).
 * Problems read "@cachewire/core/redis: attw node10: NoResolution". --no-definitely-typed keeps it
 * off the network: our packages carry their own types.
 * @param {string} name @param {string} tarball @returns {Promise<string[]>}
 */
export async function attwProblems(name, tarball) {
  const cli = require.resolve('@arethetypeswrong/cli/package.json')
  const bin = join(cli, '..', JSON.parse(readFileSync(cli, 'utf8')).bin.attw)
  const args = [bin, tarball, '--profile', 'strict', '--no-definitely-typed', '--format', 'json']
  let stdout
  try {
    ;({ stdout } = await run(process.execPath, args, {
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    }))
  } catch (error) {
    // attw exits 1 when it finds problems; its JSON is still on stdout.
    stdout = /** @type {{ stdout?: string }} */ (error).stdout
    if (!stdout) throw error
  }
  /** @type {{ problems?: Record<string, Array<Record<string, string>>> }} */
  const result = JSON.parse(stdout)
  return Object.values(result.problems ?? {})
    .flat()
    .map((problem) => {
      const entry = problem.entrypoint
      const where = entry ? name + entry.slice(1) : `${name} (${problem.fileName ?? '?'})`
      const resolution = problem.resolutionKind ? ` ${problem.resolutionKind}` : ''
      return `${where}: attw${resolution}: ${problem.kind}`
    })
}

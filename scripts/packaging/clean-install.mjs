/**
 * The tarballs installed the way a user installs them: real npm, the real registry, a fresh
 * project in the OS temp dir. Two projects:
 * - `consumer`: `npm install <tarballs> express koa ioredis` plus our other peers (prom-client…)
 *   and the @types a TypeScript user has; then a .ts file importing every entry point typechecks under
 *   `module: commonjs` (node10), `module: node16` (a .cts and a .mts file) and `module: esnext`
 *   with `moduleResolution: bundler`, and `require()` / `import()` load every entry point;
 * - `beside-vitest-2`: a project that already has vitest 2 installs the same tarballs.
 * npm's output must hold no ERESOLVE and no EBADENGINE. Downloads are cached in an npm cache in
 * the OS temp dir that outlives the run, so a second run costs seconds.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { loadErrors, loadFrom, parityProblems } from './load.mjs'

const run = promisify(execFile)
const require = createRequire(import.meta.url)

export const NPM_CACHE = join(tmpdir(), 'cachewire-packaging-npm-cache')

/** What a user adds next to our tarballs (latest versions); every peer of ours joins them. */
export const CONSUMER_DEPENDENCIES = ['express', 'koa', 'ioredis']
/** Types a TypeScript user has. A new peer without bundled types needs its @types here. */
export const CONSUMER_DEV_DEPENDENCIES = [
  '@types/node@20',
  '@types/express',
  '@types/koa',
  '@types/pg',
]

/**
 * npm specs for the peers (optional ones too) of our packages not in CONSUMER_DEPENDENCIES, at
 * the range we declare: a user of an entry point that imports a peer installs it.
 * @param {Array<{ manifest: Record<string, any> }>} packages @returns {string[]}
 */
export function peerSpecs(packages) {
  /** @type {Map<string, string>} */
  const peers = new Map()
  for (const { manifest } of packages) {
    for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (!CONSUMER_DEPENDENCIES.includes(name) && !name.startsWith('@cachewire/')) {
        peers.set(name, String(range))
      }
    }
  }
  return [...peers].map(([name, range]) => `${name}@${range}`)
}

/**
 * The environment for a user's npm: ours without the npm_* / pnpm_* variables that `pnpm test`
 * exports (npm would read them as its own config), with a private cache and no chatter.
 * @returns {NodeJS.ProcessEnv}
 */
function npmEnv() {
  const keep =
    /^npm_config_(registry|userconfig|globalconfig|cafile|https?_proxy|proxy|noproxy|strict_ssl)$/i
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key) || keep.test(key))
  )
  return {
    ...env,
    NODE_OPTIONS: '',
    npm_config_cache: NPM_CACHE,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_loglevel: 'warn',
  }
}

/**
 * Runs npm in `cwd`; resolves with everything it printed (stdout and stderr), exit code included.
 * @param {string} cwd @param {string[]} args
 * @returns {Promise<{ code: number, output: string }>}
 */
export async function npm(cwd, args) {
  try {
    const { stdout, stderr } = await run('npm', args, {
      cwd,
      env: npmEnv(),
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    })
    return { code: 0, output: `${stderr}${stdout}` }
  } catch (error) {
    const e = /** @type {{ code?: number, stdout?: string, stderr?: string, message: string }} */ (
      error
    )
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      output: `${e.stderr ?? ''}${e.stdout ?? e.message}`,
    }
  }
}

/**
 * ERESOLVE and EBADENGINE in npm's output (and a failed install), one line each, naming the
 * packages npm complained about.
 * @param {string} label @param {{ code: number, output: string }} result @returns {string[]}
 */
export function npmProblems(label, result) {
  const lines = result.output.split('\n')
  /** @type {string[]} */
  const problems = []
  lines.forEach((line, index) => {
    if (/EBADENGINE.*Unsupported engine/.test(line)) {
      const detail = lines
        .slice(index + 1, index + 4)
        .map((l) => l.replace(/^npm (warn|WARN) EBADENGINE\s*/, '').trim())
        .join(' ')
      problems.push(`${label}: npm warned EBADENGINE: ${detail}`)
    } else if (/ERESOLVE/.test(line)) {
      problems.push(`${label}: npm ${line.replace(/^npm (warn|error|ERR!)\s*/i, '').trim()}`)
    }
  })
  if (result.code !== 0 && problems.length === 0) {
    const tail = lines.filter(Boolean).slice(-8).join(' | ')
    problems.push(`${label}: npm exited ${result.code}: ${tail}`)
  }
  return problems
}

/** @param {string} dir @param {Record<string, unknown>} manifest */
function makeProject(dir, manifest) {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, ...manifest }, null, 2))
}

// Not --prefer-offline: the point is what the registry serves today (a dependency's new release
// that drops Node 20 is what this catches); revalidating cached metadata costs about a second.
const INSTALL = ['install', '--no-audit', '--no-fund']

/**
 * The consumer project: our tarballs, the frameworks, every peer (peerSpecs), and @types.
 * @param {string} workDir @param {string[]} tarballs @param {string[]} peers from peerSpecs
 * @returns {Promise<{ dir: string, problems: string[], output: string }>}
 */
export async function installConsumer(workDir, tarballs, peers) {
  const dir = join(workDir, 'consumer')
  makeProject(dir, { name: 'consumer', version: '1.0.0' })
  const added = [...CONSUMER_DEPENDENCIES, ...peers]
  const result = await npm(dir, [...INSTALL, ...tarballs, ...added])
  const problems = npmProblems(`npm install <tarballs> ${added.join(' ')}`, result)
  if (result.code === 0) {
    const types = await npm(dir, [...INSTALL, '--save-dev', ...CONSUMER_DEV_DEPENDENCIES])
    problems.push(...npmProblems('npm install -D @types/...', types))
  }
  return { dir, problems, output: result.output }
}

/**
 * A project that already has vitest 2 (core's old `vitest >=3` peer made this ERESOLVE).
 * @param {string} workDir @param {string[]} tarballs
 * @returns {Promise<{ dir: string, problems: string[], output: string }>}
 */
export async function installBesideVitest2(workDir, tarballs) {
  const dir = join(workDir, 'beside-vitest-2')
  makeProject(dir, { name: 'beside-vitest-2', version: '1.0.0' })
  // vitest's own tree is not what we judge; --ignore-scripts skips esbuild's binary check.
  const vitest = await npm(dir, [...INSTALL, '--ignore-scripts', '--save-dev', 'vitest@2'])
  if (vitest.code !== 0)
    return { dir, problems: npmProblems('npm install vitest@2', vitest), output: vitest.output }
  const result = await npm(dir, [...INSTALL, ...tarballs, 'express', 'koa', 'ioredis'])
  return {
    dir,
    problems: npmProblems(
      '(vitest@2 installed) npm install <tarballs> express koa ioredis',
      result
    ),
    output: result.output,
  }
}

/** TypeScript settings of a consumer, one per way TypeScript resolves packages. */
export const TS_CONFIGS = {
  // moduleResolution node10 ignores `exports`: subpaths resolve through typesVersions.
  commonjs: { module: 'commonjs', moduleResolution: 'node10', files: ['consumer.ts'] },
  // node16: a .cts file resolves through `require` conditions, a .mts file through `import`.
  // Two programs, as attw judges them: one program holding both would load the .d.cts and the
  // .d.ts of a package, and their global augmentations (req.cache, ctx.cache) would clash.
  'node16-cjs': { module: 'node16', moduleResolution: 'node16', files: ['consumer.cts'] },
  'node16-esm': { module: 'node16', moduleResolution: 'node16', files: ['consumer.mts'] },
  bundler: { module: 'esnext', moduleResolution: 'bundler', files: ['consumer.ts'] },
}

/**
 * A source file importing every specifier as a namespace and using each one, so an entry point
 * that does not resolve, or resolves untyped, is an error under `strict`.
 * @param {string[]} specs @returns {string}
 */
export function consumerSource(specs) {
  const imports = specs.map((spec, i) => `import * as entry${i} from '${spec}'`)
  const uses = specs.map((spec, i) => `  [${JSON.stringify(spec)}, Object.keys(entry${i}).length],`)
  return `${imports.join('\n')}\n\nexport const entryPoints: Array<[string, number]> = [\n${uses.join('\n')}\n]\n`
}

/** Our files: the consumer's source and the @cachewire packages' declarations. */
const OURS = /(^|\/)(consumer\.[cm]?ts$|node_modules\/@cachewire\/)/

/**
 * Typechecks the consumer's source under each TS_CONFIGS entry (written as tsconfig.<name>.json,
 * so `tsc -p tsconfig.<name>.json` in the project says the same) with the repo's TypeScript.
 * Declarations are checked (skipLibCheck off) with a `lib` that predates ES2022, so ours cannot
 * lean on ErrorOptions and other ES2022 types a consumer may not have. Only our files are
 * checked: other packages' declarations (an @types package out of step with its library, say)
 * are not ours to fix, and checking them all would cost ~8 s of CPU per configuration.
 * @param {string} dir @param {string[]} specs @returns {Promise<string[]>}
 */
export async function typecheckConsumer(dir, specs) {
  const ts = require('typescript')
  const source = consumerSource(specs)
  for (const file of ['consumer.ts', 'consumer.cts', 'consumer.mts']) {
    writeFileSync(join(dir, file), source)
  }
  /** @type {import('typescript').FormatDiagnosticsHost} */
  const host = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => dir,
    getNewLine: () => '\n',
  }
  return Object.entries(TS_CONFIGS).flatMap(([name, { files, ...options }]) => {
    const compilerOptions = {
      ...options,
      target: 'ES2020',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      esModuleInterop: true,
      types: ['node'],
    }
    const configFile = join(dir, `tsconfig.${name}.json`)
    writeFileSync(configFile, JSON.stringify({ compilerOptions, files }, null, 2))
    const config = ts.getParsedCommandLineOfConfigFile(
      configFile,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
          throw new Error(ts.formatDiagnostic(diagnostic, host))
        },
      }
    )
    if (!config) throw new Error(`cannot read ${configFile}`)
    const program = ts.createProgram({ rootNames: config.fileNames, options: config.options })
    const diagnostics = [
      ...config.errors,
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...program
        .getSourceFiles()
        .filter((file) => OURS.test(file.fileName))
        .flatMap((file) => [
          ...program.getSyntacticDiagnostics(file),
          ...program.getSemanticDiagnostics(file),
        ]),
    ]
    return diagnostics.map(
      (diagnostic) =>
        `tsc (${name}): ${ts
          .formatDiagnostic(diagnostic, host)
          .trim()
          .replace(/\s*\n\s*/g, ' ')}`
    )
  })
}

/**
 * require() and import() of every specifier from the consumer, and the two agree on names.
 * @param {string} dir @param {string[]} specs @returns {Promise<string[]>}
 */
export async function loadInConsumer(dir, specs) {
  const [esm, cjs] = await Promise.all([
    loadFrom(dir, 'import', specs),
    loadFrom(dir, 'require', specs),
  ])
  return [...loadErrors('import', esm), ...loadErrors('require', cjs), ...parityProblems(esm, cjs)]
}

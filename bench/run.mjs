// `pnpm bench`: every server pinned to core 0, wrk pinned to core 1, rounds interleaved (each
// round visits every variant once), medians and same-run ratios written to bench/RESULTS.md.
// Options: --rounds 3 --duration 5 --warmup 3 --zipf-warmup 15 --connections 64 --sizes 1024,51200
// --only a,b --out RESULTS.md
// The warm-up (seconds of the same load before the measured run) is long enough for V8 to have
// optimized the paths a variant takes: a -miss server at 1 s was still measuring its interpreter.
// A -zipf variant warms up for --zipf-warmup seconds instead (warmupSeconds in load.mjs says why).
import { execFileSync, spawnSync } from 'node:child_process'
import { writeFileSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { storeEveryZipfKey } from './requests.mjs'
import { targetsAmong } from './targets.mjs'
import {
  LOAD_CORE,
  SERVER_CORE,
  loadOf,
  median,
  startServer,
  stopServer,
  warmupSeconds,
  wrk,
} from './load.mjs'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '3' },
    'zipf-warmup': { type: 'string', default: '15' },
    connections: { type: 'string', default: '64' },
    sizes: { type: 'string', default: '1024,51200' },
    only: { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
    'skip-core': { type: 'boolean', default: false },
  },
})

const VARIANTS = [
  'raw-node',
  'raw-node-same-lines',
  'express-floor',
  'express-constant',
  'apicache',
  'cachewire-express',
  'cachewire-express-front',
  'koa-floor',
  'koa-constant',
  'koa-cash',
  'cachewire-koa',
  'cachewire-koa-front',
  'fastify-floor',
  'fastify-constant',
  'cachewire-fastify',
  'cachewire-fastify-front',
  'cachewire-express-redis',
  'cachewire-express-front-redis',
  'cachewire-koa-redis',
  'cachewire-koa-front-redis',
  'cachewire-express-front-ioredis6',
  'cachewire-koa-front-ioredis6',
  'cachewire-express-front-node-redis',
  'cachewire-koa-front-node-redis',
  'cachewire-express-front-tiered',
  'cachewire-koa-front-tiered',
  // 10,000 hot keys under a Zipf law (bench/zipf.lua), and a new key on every request (bench/miss.lua).
  'apicache-zipf',
  'cachewire-express-zipf',
  'koa-cash-zipf',
  'cachewire-koa-zipf',
  'apicache-miss',
  'cachewire-express-miss',
  'koa-cash-miss',
  'cachewire-koa-miss',
]
const variants = args.only ? args.only.split(',') : VARIANTS
const sizes = args.sizes.split(',').map(Number)
const rounds = Number(args.rounds)
const serverPath = fileURLToPath(new URL('./server.mjs', import.meta.url))
const serverCore = SERVER_CORE
const loadCore = LOAD_CORE

if (spawnSync('wrk', ['--version']).error) {
  // A fresh Debian machine has no wrk; as root, fetch it from Debian's packages rather than stop.
  if (process.getuid?.() === 0 && !spawnSync('apt-get', ['--version']).error) {
    console.log('bench: wrk is not installed; installing it with apt-get')
    spawnSync('apt-get', ['install', '-y', '-q', 'wrk'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
  }
  if (spawnSync('wrk', ['--version']).error) {
    console.error('bench: wrk is not installed. On Debian: apt-get install -y wrk')
    process.exit(1)
  }
}

async function check(port, path) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`)
  const body = await response.arrayBuffer()
  const again = await fetch(`http://127.0.0.1:${port}${path}`)
  await again.arrayBuffer()
  if (response.status !== 200 || again.status !== 200)
    throw new Error(`status ${response.status}/${again.status}`)
  return {
    bytes: body.byteLength,
    cacheStatus: again.headers.get('cache-status') ?? again.headers.get('x-cached-response') ?? '',
  }
}

const results = new Map()
const notes = new Map()
const unavailable = []
for (let round = 1; round <= rounds; round++) {
  for (const size of sizes) {
    for (const variant of variants) {
      let child
      try {
        const started = await startServer(serverPath, variant, size)
        child = started.child
        const port = started.port
        const load = loadOf(variant)
        const seen = await check(port, load.path)
        notes.set(`${variant}|${size}`, seen)
        if (variant.endsWith('-zipf')) await storeEveryZipfKey(`http://127.0.0.1:${port}`)
        wrk({ port, seconds: warmupSeconds(variant, args), connections: args.connections, load })
        const sample = wrk({
          port,
          seconds: args.duration,
          connections: args.connections,
          load,
          pid: child.pid,
        })
        const key = `${variant}|${size}`
        if (!results.has(key)) results.set(key, [])
        results.get(key).push({ ...sample, round })
        console.log(
          `round ${round} ${String(size).padStart(6)} B ${variant.padEnd(30)} ${Math.round(sample.rps).toString().padStart(7)} req/s  ${sample.cpuUs?.toFixed(1) ?? '?'} CPU µs/req  p99 ${sample.p99}  non-2xx ${sample.errors}`
        )
      } catch (error) {
        unavailable.push(`round ${round}, ${size} B, ${variant}: ${error.message}`)
        console.log(
          `round ${round} ${String(size).padStart(6)} B ${variant.padEnd(30)} unavailable: ${error.message}`
        )
      } finally {
        await stopServer(child)
      }
    }
  }
}

const rps = (variant, size) => {
  const samples = results.get(`${variant}|${size}`)
  return samples ? median(samples.map((sample) => sample.rps)) : undefined
}
const ratio = (a, b, size) => {
  const x = rps(a, size)
  const y = rps(b, size)
  return x && y ? (x / y).toFixed(2) : 'n/a'
}
const cpu = (variant, size) => {
  const samples = results
    .get(`${variant}|${size}`)
    ?.map((sample) => sample.cpuUs)
    .filter((us) => us !== undefined)
  return samples?.length ? median(samples) : undefined
}
// a's req/s over b's within each round both ran in: the host's speed drifts between rounds (other
// tenants), and a ratio of medians can pair a fast round of one with a slow round of the other.
const roundRatios = (a, b, size) => {
  const other = new Map((results.get(`${b}|${size}`) ?? []).map((sample) => [sample.round, sample]))
  return (results.get(`${a}|${size}`) ?? [])
    .filter((sample) => other.has(sample.round))
    .map((sample) => sample.rps / other.get(sample.round).rps)
}
const roundRatioCell = (a, b, size) => {
  const list = roundRatios(a, b, size)
  if (list.length === 0) return 'n/a'
  return `${median(list).toFixed(2)} (${list.map((value) => value.toFixed(2)).join(', ')})`
}
// Requests per CPU-second of a over b: b's CPU time per request over a's.
const cpuRatio = (a, b, size) => {
  const x = cpu(a, size)
  const y = cpu(b, size)
  return x && y ? (y / x).toFixed(2) : 'n/a'
}

const versions = {}
for (const name of [
  'express',
  'koa',
  'fastify',
  'apicache',
  'koa-cash',
  'ioredis',
  'ioredis6',
  'redis',
  'lru-cache',
]) {
  try {
    versions[name] = JSON.parse(
      readFileSync(
        fileURLToPath(new URL(`./node_modules/${name}/package.json`, import.meta.url)),
        'utf8'
      )
    ).version
  } catch {
    versions[name] = '?'
  }
}
const wrkVersion = spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]
const lines = []
lines.push('# cachewire benchmark results', '')
lines.push(
  `Run on ${new Date().toISOString()} by \`pnpm bench\` (bench/run.mjs ${process.argv.slice(2).join(' ')}).`,
  ''
)
lines.push(
  `- Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`
)
lines.push(
  `- Node ${process.version}; ${Object.entries(versions)
    .map(([n, v]) => `${n} ${v}`)
    .join(', ')}; ${wrkVersion}`
)
lines.push(
  `- Servers pinned to core ${serverCore} (\`taskset -c ${serverCore} node bench/server.mjs <variant>\`), load from core ${loadCore} (\`taskset -c ${loadCore} wrk -t1 -c${args.connections} -d${args.duration}s --latency\`), ${args.warmup}s warm-up per server (${args['zipf-warmup']}s for a -zipf variant, which V8 is still optimizing for about 10 s after it stores its keys), ${rounds} rounds interleaved, medians reported.`
)
lines.push(
  '- `-zipf` variants: every request asks for `/data/<id>`, the id drawn from 10,000 keys under a Zipf law (`bench/zipf.lua`; each of the 10,000 is asked for once before the warm-up, so the run measures hits across many keys). `-miss` variants: every request asks for a path never asked for before (`bench/miss.lua`), so each is a miss that is stored: the cost of storing. `-tiered`: a memory L1 in front of Redis (`TieredStore` with a `RedisBus`). `raw-node-same-lines`: raw node:http sending the bytes a front-door hit sends (six header lines where raw-node sends two, given to `writeHead` as an object, which Node checks line by line).'
)
lines.push(
  "- Storing a -zipf variant's 10,000 keys first is 10,000 misses. After them V8 allocates much of what an Express middleware hit makes in the old generation (allocation-site pretenuring), so the Express -zipf rows pay full collections the one-key rows do not (`node bench/gc.mjs cachewire-express-zipf --connections 64`); `node --no-allocation-site-pretenuring` avoids it (packages/express/README.md). The servers here run with node's defaults."
)
lines.push('')
lines.push(
  `| variant | ${sizes.map((size) => `${size} B req/s (median)`).join(' | ')} | ${sizes.map((size) => `${size} B server CPU µs/req (median)`).join(' | ')} | ${sizes.map((size) => `${size} B p99 per round`).join(' | ')} | Cache-Status on 2nd request |`
)
lines.push(
  `|---|${sizes.map(() => '---:').join('|')}|${sizes.map(() => '---:').join('|')}|${sizes.map(() => '---:').join('|')}|---|`
)
for (const variant of variants) {
  const cells = sizes.map((size) =>
    rps(variant, size) ? Math.round(rps(variant, size)).toLocaleString('en-US') : 'n/a'
  )
  const cpus = sizes.map((size) => cpu(variant, size)?.toFixed(1) ?? 'n/a')
  const p99s = sizes.map(
    (size) =>
      results
        .get(`${variant}|${size}`)
        ?.map((s) => s.p99)
        .join(' / ') ?? 'n/a'
  )
  lines.push(
    `| ${variant} | ${cells.join(' | ')} | ${cpus.join(' | ')} | ${p99s.join(' | ')} | ${notes.get(`${variant}|${sizes[0]}`)?.cacheStatus ?? ''} |`
  )
}
lines.push(
  '',
  "Server CPU counts the server process only (user + system time from /proc); on the Redis variants Redis's own CPU is not in it."
)
if (unavailable.length > 0)
  lines.push(
    '',
    `Samples missing (their medians are of the rounds that ran): ${unavailable.join('; ')}.`
  )
lines.push('', '## Targets (ratios of medians from this run)', '')
lines.push(
  'By req/s, and by requests per server CPU-second (the inverse ratio of CPU µs per request), which a noisy host disturbs less.',
  ''
)
lines.push(
  `| target | goal | ${sizes.map((size) => `${size} B req/s`).join(' | ')} | ${sizes.map((size) => `${size} B per CPU-s`).join(' | ')} |`
)
lines.push(`|---|---|${sizes.map(() => '---:').join('|')}|${sizes.map(() => '---:').join('|')}|`)
const targets = targetsAmong(variants)
for (const [label, a, b, goal] of targets) {
  lines.push(
    `| ${label} | ${goal} | ${sizes.map((size) => ratio(a, b, size)).join(' | ')} | ${sizes.map((size) => cpuRatio(a, b, size)).join(' | ')} |`
  )
}
lines.push('', '## Targets round by round', '')
lines.push(
  "By req/s within each round, the median of the rounds' ratios first, then each round's in order: the host's speed drifts between rounds, and a ratio of medians can pair one variant's fast round with the other's slow one.",
  ''
)
lines.push(`| target | goal | ${sizes.map((size) => `${size} B`).join(' | ')} |`)
lines.push(`|---|---|${sizes.map(() => '---').join('|')}|`)
for (const [label, a, b, goal] of targets) {
  lines.push(
    `| ${label} | ${goal} | ${sizes.map((size) => roundRatioCell(a, b, size)).join(' | ')} |`
  )
}

if (!args['skip-core']) {
  const coreStore = execFileSync(
    'taskset',
    [
      '-c',
      serverCore,
      process.execPath,
      fileURLToPath(new URL('./core-store.mjs', import.meta.url)),
    ],
    { encoding: 'utf8' }
  )
  const coreMemory = execFileSync(
    'taskset',
    [
      '-c',
      serverCore,
      process.execPath,
      '--expose-gc',
      fileURLToPath(new URL('./core-memory.mjs', import.meta.url)),
    ],
    { encoding: 'utf8' }
  )
  lines.push(
    '',
    '## MemoryStore against lru-cache (one run, a process per case)',
    '',
    `\`taskset -c ${serverCore} node bench/core-store.mjs\``,
    '',
    coreStore.trim()
  )
  lines.push(
    '',
    '## Memory after a million distinct keys (64 MiB MemoryStore, 100-byte values)',
    '',
    `\`taskset -c ${serverCore} node --expose-gc bench/core-memory.mjs\``,
    '',
    '```',
    coreMemory.trim(),
    '```'
  )
}
writeFileSync(args.out, lines.join('\n') + '\n')
console.log(`\nwrote ${args.out}`)

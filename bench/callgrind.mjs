// Instructions per request of one bench/server.mjs variant, counted by callgrind: a figure that
// other tenants of a busy host do not move, unlike req/s or CPU time.
// `node bench/callgrind.mjs <variant> [--size 1024] [--requests 2000] [--warmup 5000] [--path /data]
// [--paths one|zipf|unique] [--connections 4] [--cache-sim] [--functions 30]
// [--rank instructions|cycles|last-level]` (needs valgrind; --paths defaults to what a -zipf or
// -miss name says).
// The server runs under callgrind with instrumentation off; after the warm-up
// requests, instrumentation goes on for the measured requests (`--connections` keep-alive
// connections, 4 by default), then the counts are dumped. Client work is not counted: the client
// is this process. `--cache-sim` also simulates the caches and branch predictor and prints, per
// request, first-level misses, last-level misses (an 8 MiB last level), mispredicted branches
// and a cycle estimate: equal instruction counts can still differ in what the work misses.
// `--functions N` runs the server with --perf-basic-prof and prints the N JavaScript functions
// that cost most a request, each with the builtins and runtime calls charged to it, and the
// totals by source (bench/callgrind-functions.mjs): by instructions, or with `--cache-sim` by
// estimated cycles (a front-door hit's own code misses the instruction cache about once every
// 14 instructions, so its cycles rank functions differently from its instructions), or with
// `--cache-sim --rank last-level` by last-level misses.
import { spawn, spawnSync } from 'node:child_process'
import http from 'node:http'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { costsByFunction } from './callgrind-functions.mjs'
import { ZIPF_KEYS, storeEveryZipfKey } from './requests.mjs'

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    size: { type: 'string', default: '1024' },
    requests: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '5000' },
    path: { type: 'string', default: '/data' },
    // A path per request: `zipf` picks among /data/0../data/9999, `unique` never repeats one.
    // Default: what the variant's name says (-zipf, -miss), else the one path.
    paths: { type: 'string' },
    port: { type: 'string', default: '3390' },
    connections: { type: 'string', default: '4' },
    'cache-sim': { type: 'boolean', default: false },
    functions: { type: 'string' },
    // What `--functions` ranks by: instructions, estimated cycles or last-level misses (the two
    // need --cache-sim). Default: cycles with --cache-sim, else instructions.
    rank: { type: 'string' },
  },
})
const variant = positionals[0]
args.paths ??= variant?.endsWith('-zipf') ? 'zipf' : variant?.endsWith('-miss') ? 'unique' : 'one'
if (variant === undefined) {
  console.error(
    'usage: node bench/callgrind.mjs <variant> [--size 1024] [--requests 2000] [--warmup 5000]'
  )
  process.exit(2)
}
/** What `--functions` can rank by: how each weighs a line's events, and what the figures are. */
const RANKS = {
  instructions: { weigh: (event) => event.Ir, unit: 'instructions' },
  cycles: { weigh: estimatedCycles, unit: 'estimated cycles' },
  'last-level': { weigh: (event) => misses(event).lastLevel, unit: 'last-level misses' },
}

args.rank ??= args['cache-sim'] ? 'cycles' : 'instructions'
if (!Object.hasOwn(RANKS, args.rank) || (args.rank !== 'instructions' && !args['cache-sim'])) {
  console.error(
    `callgrind: --rank is instructions, or with --cache-sim cycles or last-level, not ${args.rank}`
  )
  process.exit(2)
}
const connections = Number(args.connections)
if (!Number.isSafeInteger(connections) || connections < 1) {
  console.error(`callgrind: --connections must be a positive integer, not ${args.connections}`)
  process.exit(2)
}
if (spawnSync('valgrind', ['--version']).error) {
  console.error('callgrind: valgrind is not installed (apt-get install -y valgrind)')
  process.exit(1)
}

const port = Number(args.port)
const outDir = mkdtempSync(path.join(os.tmpdir(), 'cachewire-callgrind-'))
const serverPath = fileURLToPath(new URL('./server.mjs', import.meta.url))
const server = spawn(
  'valgrind',
  [
    '--tool=callgrind',
    '--instr-atstart=no',
    // The host's last level reads as 512 MiB on some virtual machines, where nothing would miss it.
    ...(args['cache-sim'] ? ['--cache-sim=yes', '--branch-sim=yes', '--LL=8388608,16,64'] : []),
    `--callgrind-out-file=${outDir}/callgrind.out.%p`,
    process.execPath,
    ...(args.functions === undefined ? [] : ['--perf-basic-prof']),
    serverPath,
    variant,
  ],
  {
    env: { ...process.env, PORT: String(port), BODY_BYTES: args.size, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  }
)
let serverLog = ''
server.stderr.on('data', (chunk) => (serverLog += chunk))
await new Promise((resolve, reject) => {
  server.stdout.on('data', (chunk) => (String(chunk).includes(' on ') ? resolve() : undefined))
  server.on('exit', () => reject(new Error(`server exited:\n${serverLog}`)))
})

const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
let sequence = 0
const zipf = zipfSampler(ZIPF_KEYS, 1)
function nextPath() {
  if (args.paths === 'zipf') return `/data/${zipf()}`
  if (args.paths === 'unique') return `/data/miss-${process.pid}-${sequence++}`
  return args.path
}
function get() {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: nextPath(), agent }, (res) => {
        res.resume()
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))
        )
      })
      .on('error', reject)
  })
}
async function load(count) {
  let left = count
  const worker = async () => {
    while (left-- > 0) await get()
  }
  await Promise.all(Array.from({ length: connections }, worker))
}
function control(...flags) {
  const result = spawnSync('callgrind_control', [...flags, String(server.pid)], {
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`callgrind_control ${flags.join(' ')}: ${result.stderr}`)
}

try {
  // As in bench/run.mjs: every key is stored before the warm-up, so the measured requests are hits
  // across many keys. Without it, keys of the Zipf tail still met their first request (a miss,
  // handler and store) among the measured ones, and those misses were most of the difference
  // between a Zipf hit and a one-key hit.
  if (args.paths === 'zipf') await storeEveryZipfKey(`http://127.0.0.1:${port}`)
  await load(Number(args.warmup))
  control('-i', 'on')
  await load(Number(args.requests))
  control('-d')
  control('-i', 'off')
} finally {
  // Also on a failed request, so no valgrind'd server is left holding the port.
  server.kill('SIGINT')
  agent.destroy()
}

// The dump of the measured requests is the numbered file. V8 may still be optimising in the
// background then; that work is reported apart, as it is warm-up, not the cost of a request.
const dump = readdirSync(outDir).find((file) => /\.\d+\.\d+$/.test(file))
if (dump === undefined) throw new Error(`no callgrind dump in ${outDir}`)
const annotate = (...flags) =>
  spawnSync('callgrind_annotate', [...flags, path.join(outDir, dump)], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  }).stdout
const annotated = annotate('--inclusive=yes', '--show=Ir')
const count = (pattern) => Number(pattern.exec(annotated)?.[1]?.replaceAll(',', '') ?? 0)
const instructions = count(/^\s*([\d,]+) \(100\.0+%\)\s+PROGRAM TOTALS/m)
const compiling = count(
  // callgrind_annotate pads a share under 10% with a space, `( 6.20%)`: such compile work counted as requests' own.
  /^\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*OptimizingCompileDispatcher::CompileTask::RunInternal/m
)
const requests = Number(args.requests)
const perRequest = (n) => Math.round(n / requests).toLocaleString('en-US')
console.log(
  `${variant} ${args.size} B ${args.paths}: ${perRequest(instructions - compiling)} instructions/request ` +
    `(+ ${perRequest(compiling)} of background optimisation; ${requests} requests; ${path.join(outDir, dump)})`
)
if (args['cache-sim']) {
  // The totals line lists every event, in the order its `Events shown:` line names them.
  const all = annotate()
  const names = /^Events shown:\s+(.+)$/m.exec(all)?.[1]?.trim().split(/\s+/) ?? []
  const totals = /^(.*)PROGRAM TOTALS/m.exec(all)?.[1] ?? ''
  const values = [...totals.matchAll(/([\d,]+) \(/g)].map((m) => Number(m[1].replaceAll(',', '')))
  const event = Object.fromEntries(names.map((name, i) => [name, values[i] ?? 0]))
  const { firstLevel, lastLevel, mispredicted } = misses(event)
  const cycles = estimatedCycles(event)
  console.log(
    `  per request, background work included: ${perRequest(firstLevel)} first-level misses, ` +
      `${perRequest(lastLevel)} last-level misses, ${perRequest(mispredicted)} mispredicted branches; ` +
      `~${perRequest(cycles)} cycles estimated`
  )
}

if (args.functions !== undefined) {
  // V8 writes the map to /tmp under the server's pid (valgrind runs node in its own process).
  const perfMap = path.join('/tmp', `perf-${server.pid}.map`)
  // With the cache simulation, functions rank by estimated cycles: instructions that miss the
  // caches or mispredict cost more than their count says. Or by the misses of the last level
  // alone: which functions touch memory the caches do not hold (a load over many keys).
  const { weigh, unit } = RANKS[args.rank]
  const { functions, files } = costsByFunction(path.join(outDir, dump), perfMap, requests, weigh)
  // Misses a request are often a few or a fraction: those keep two decimals.
  const round = (n) =>
    n >= 100 ? Math.round(n).toLocaleString('en-US') : String(Math.round(n * 100) / 100)
  console.log(`  ${unit} by source, per request (JavaScript and the builtins it calls):`)
  for (const [file, total] of files.slice(0, 20))
    console.log(`    ${round(total).padStart(7)}  ${file}`)
  console.log(`  the ${args.functions} costliest functions, ${unit} per request:`)
  for (const fn of functions.slice(0, Number(args.functions))) {
    const calls = fn.calls
      .slice(0, 4)
      .map(([name, n]) => `${name.replace(/^Builtins_/, '')} ${round(n)}`)
      .join(', ')
    console.log(
      `    ${round(fn.total).padStart(7)}  ${fn.name}  (own ${round(fn.own)}${calls ? `; ${calls}` : ''})`
    )
  }
  rmSync(perfMap, { force: true })
}

/** Cache misses (instruction and data) and mispredicted branches from callgrind's events. */
function misses(event) {
  return {
    firstLevel: (event.I1mr ?? 0) + (event.D1mr ?? 0) + (event.D1mw ?? 0),
    lastLevel: (event.ILmr ?? 0) + (event.DLmr ?? 0) + (event.DLmw ?? 0),
    mispredicted: (event.Bcm ?? 0) + (event.Bim ?? 0),
  }
}

/**
 * Cycles estimated from callgrind's events, with the usual weights: 10 cycles a first-level miss,
 * 100 a last-level one, 15 a mispredicted branch, on top of one an instruction.
 */
function estimatedCycles(event) {
  const { firstLevel, lastLevel, mispredicted } = misses(event)
  return event.Ir + 10 * firstLevel + 100 * lastLevel + 15 * mispredicted
}

/** Ranks 0..n-1 with P(rank k) proportional to 1/(k+1)^s, by inverting the cumulative weights. */
function zipfSampler(n, s) {
  const cumulative = new Float64Array(n)
  let total = 0
  for (let k = 0; k < n; k++) cumulative[k] = total += 1 / (k + 1) ** s
  return () => {
    const target = Math.random() * total
    let low = 0
    let high = n - 1
    while (low < high) {
      const mid = (low + high) >> 1
      if (cumulative[mid] < target) low = mid + 1
      else high = mid
    }
    return low
  }
}

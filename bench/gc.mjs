// Young-generation garbage collection of one bench/server.mjs variant under load: how often V8
// scavenges, how long each pause is and how much each one promotes to the old generation, and
// the other collections (full mark-compacts) of the run with their pauses. A hit whose objects
// die young costs a fraction of a millisecond per scavenge; objects that outlive their request
// (held by a long-lived structure) are copied and promoted, and a scavenge then takes several
// milliseconds.
// `node bench/gc.mjs <variant> [--size 1024] [--warmup 3] [--duration 5] [--connections 16]
// [--misses 0]` (needs wrk and the packages built). A -zipf variant first asks for each of its
// 10,000 keys once, as bench/run.mjs does; a -miss variant's load never repeats a path. `--misses N` first sends N requests with
// `Cache-Control: no-store` to the load's path, one at a time: each runs the handler live, the
// burst of misses a server sees after a deploy. `--survivors` also prints what outlived the
// scavenges of the measured run, by allocating stack (V8's sampling heap profiler, in the server).
// `--allocations` prints every allocation of the measured run instead: bytes a request (sampled)
// and the functions that allocate most, each with the bytes it allocates itself a request (the
// functions V8 inlined into it included).
// `--node-flags="<flags>"` starts the server's node with them (V8 options such as
// `--no-allocation-site-pretenuring`; with `=`, as a value that starts with `-` must be given).
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { askEach, storeEveryZipfKey } from './requests.mjs'

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    size: { type: 'string', default: '1024' },
    warmup: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    misses: { type: 'string', default: '0' },
    port: { type: 'string', default: '3380' },
    survivors: { type: 'boolean', default: false },
    allocations: { type: 'boolean', default: false },
    // Options for the server's node, space-separated (`--no-allocation-site-pretenuring`).
    'node-flags': { type: 'string', default: '' },
  },
})
const variant = positionals[0]
if (variant === undefined) {
  console.error('usage: node bench/gc.mjs <variant> [--size 1024] [--duration 5] [--misses 0]')
  process.exit(2)
}
const here = path.dirname(fileURLToPath(import.meta.url))
// Runs of wrk so far: a -miss load names its paths after its run (see `wrk`).
let wrkRuns = 0
const zipf = variant.endsWith('-zipf')
const miss = variant.endsWith('-miss')
const port = Number(args.port)
const origin = `http://127.0.0.1:${port}`
const loadPath = zipf || miss ? '/data/1' : '/data'

const traceDir = mkdtempSync(path.join(os.tmpdir(), 'cachewire-gc-'))
const traceFile = path.join(traceDir, 'trace.txt')
const server = spawn(
  'taskset',
  [
    '-c',
    '0',
    process.execPath,
    '--trace-gc-nvp',
    ...args['node-flags'].split(' ').filter((flag) => flag !== ''),
    ...(args.survivors || args.allocations
      ? ['--expose-gc', '--import', path.join(here, 'survivors-preload.mjs')]
      : []),
    path.join(here, 'server.mjs'),
    variant,
  ],
  {
    env: { ...process.env, PORT: String(port), BODY_BYTES: args.size },
    // A file, not a pipe: wrk runs synchronously here, and a pipe nobody drains would stop the
    // server at its next trace line.
    stdio: ['ignore', openSync(traceFile, 'w'), 'inherit', 'ipc'],
  }
)
const spawnedAt = Date.now()
const exited = once(server, 'exit')
let listening = false

try {
  await Promise.race([
    once(server, 'message'),
    exited.then(() => {
      if (!listening) throw new Error(`${variant} exited before listening`)
    }),
  ])
  listening = true
  if (zipf) await storeEveryZipfKey(origin)
  const misses = Number(args.misses)
  if (misses > 0)
    await askEach(origin, Array(misses).fill(loadPath), {
      headers: { 'cache-control': 'no-store' },
      concurrency: 1,
    })
  wrk(args.warmup)
  const sampling = args.survivors || args.allocations
  if (sampling) await survivorsSay('start', 'started')
  const from = Date.now() - spawnedAt
  const output = wrk(args.duration)
  const to = Date.now() - spawnedAt
  const profileFile = path.join(traceDir, 'survivors.json')
  if (sampling) await survivorsSay('stop', 'written', profileFile)
  // V8's trace reaches the file through a buffered stdout: it is read whole once the server has
  // exited, and the measured run's collections are told by their time since the server started.
  server.kill('SIGTERM')
  await exited
  const log = readFileSync(traceFile, 'utf8')
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1])
  const gcs = log
    .split('\n')
    .map((line) => ({
      at: Number(/^\[[^\]]*\]\s+(\d+) ms:/.exec(line)?.[1]),
      kind: /\bgc=(\w+)/.exec(line)?.[1],
      pause: field(line, 'pause'),
      promoted: field(line, 'promoted'),
    }))
    .filter((gc) => gc.kind !== undefined && gc.at >= from && gc.at <= to)
  const scavenges = gcs.filter((gc) => gc.kind === 's')
  const pauses = scavenges.reduce((sum, gc) => sum + gc.pause, 0)
  const promoted = scavenges.reduce((sum, gc) => sum + gc.promoted, 0)
  const seconds = (to - from) / 1000
  console.log(
    `${variant} ${args.size} B${misses > 0 ? `, after ${misses} misses` : ''}: ${Math.round(rps)} req/s; ` +
      `${(scavenges.length / seconds).toFixed(1)} scavenges/s, ` +
      `${(pauses / Math.max(1, scavenges.length)).toFixed(2)} ms and ` +
      `${Math.round(promoted / 1024 / Math.max(1, scavenges.length))} KiB promoted per scavenge, ` +
      `${shareOfRun(pauses, seconds)} of the time in scavenges; ` +
      otherCollections(
        gcs.filter((gc) => gc.kind !== 's'),
        seconds
      )
  )
  if (args.survivors) printSurvivors(JSON.parse(readFileSync(profileFile, 'utf8')))
  else if (args.allocations) {
    const requests = Number(/(\d+) requests in/.exec(output)?.[1])
    printAllocations(JSON.parse(readFileSync(profileFile, 'utf8')), requests)
  }
} finally {
  // SIGTERM: a Redis variant removes its keys before it exits.
  if (server.exitCode === null) server.kill('SIGTERM')
  rmSync(traceDir, { recursive: true, force: true })
}

async function survivorsSay(what, answer, file) {
  const answered = new Promise((resolve) =>
    server.on('message', (message) => (message?.survivors === answer ? resolve() : undefined))
  )
  server.send({ survivors: what, file, all: args.allocations })
  await answered
}

/**
 * Sampled bytes that outlived a scavenge, by their allocating stack's innermost four frames: what
 * a long-lived structure kept (and the old generation took), plus what was still in use at the end.
 */
function printSurvivors(profile) {
  const bytesByStack = new Map()
  const walk = (node, frames) => {
    const { functionName, url, lineNumber } = node.callFrame
    const here = [
      ...frames,
      `${functionName || '(anonymous)'} ${path.basename(url)}:${lineNumber + 1}`,
    ]
    if (node.selfSize > 0) {
      const stack = here.slice(-4).join(' < ')
      bytesByStack.set(stack, (bytesByStack.get(stack) ?? 0) + node.selfSize)
    }
    for (const child of node.children) walk(child, here)
  }
  walk(profile.head, [])
  const total = [...bytesByStack.values()].reduce((sum, bytes) => sum + bytes, 0)
  console.log(`outlived a scavenge: ${Math.round(total / 1024)} KiB sampled; by allocating stack:`)
  for (const [stack, bytes] of [...bytesByStack].sort((a, b) => b[1] - a[1]).slice(0, 12))
    console.log(`${String(Math.round(bytes / 1024)).padStart(7)} KiB  ${stack}`)
}

/**
 * Every sampled allocation of the measured run, a request: in all, and by the function that made
 * it (its own allocations and those of what V8 inlined into it). Samples taken between wrk's
 * requests (timers, the start and stop messages) are counted too, a small share.
 */
function printAllocations(profile, requests) {
  const bytesByFunction = new Map()
  let total = 0
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame
    if (node.selfSize > 0) {
      const name = `${functionName || '(anonymous)'} ${path.basename(url)}:${lineNumber + 1}`
      bytesByFunction.set(name, (bytesByFunction.get(name) ?? 0) + node.selfSize)
      total += node.selfSize
    }
    for (const child of node.children) walk(child)
  }
  walk(profile.head)
  console.log(`allocated: ${Math.round(total / requests)} bytes a request (sampled), by function:`)
  for (const [name, bytes] of [...bytesByFunction].sort((a, b) => b[1] - a[1]).slice(0, 20))
    console.log(`${String(Math.round(bytes / requests)).padStart(7)} B  ${name}`)
}

function field(line, name) {
  return Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? 0)
}

function wrk(seconds) {
  // A -miss load names its paths after this run, so the warm-up and the measured run never meet.
  const script = zipf
    ? ['-s', path.join(here, 'zipf.lua'), origin + loadPath]
    : miss
      ? [
          '-s',
          path.join(here, 'miss.lua'),
          origin + loadPath,
          '--',
          `gc${process.pid}x${++wrkRuns}`,
        ]
      : [origin + loadPath]
  return execFileSync(
    'taskset',
    ['-c', '1', 'wrk', '-t1', `-c${args.connections}`, `-d${seconds}s`, ...script],
    { encoding: 'utf8' }
  )
}

/**
 * The collections other than scavenges (`gc=mc` and the like in V8's trace), by kind, with their
 * pauses as a share of the run: a store whose client allocates large buffers outside the heap
 * (ioredis 5's reply pool) has V8 run full collections that scavenge figures do not show.
 */
function otherCollections(others, seconds) {
  if (others.length === 0) return '0 other collections'
  const kinds = {}
  for (const gc of others) kinds[gc.kind] = (kinds[gc.kind] ?? 0) + 1
  const pause = others.reduce((sum, gc) => sum + gc.pause, 0)
  const byKind = Object.entries(kinds)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ')
  return (
    `${others.length} other collections (${byKind}), ${pause.toFixed(1)} ms of pauses, ` +
    `${shareOfRun(pause, seconds)} of the time`
  )
}

/** Pauses of `ms` milliseconds as a share of a run of `seconds`, as printed: `2.1 %`. */
function shareOfRun(ms, seconds) {
  return `${((100 * ms) / (seconds * 1000)).toFixed(1)} %`
}

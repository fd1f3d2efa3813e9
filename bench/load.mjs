// What bench/run.mjs and bench/pair.mjs share: a variant's server started pinned to one core, a
// wrk load pinned to the other, the server's CPU time per request, and medians.
import { execFileSync, fork, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

export const SERVER_CORE = '0'
export const LOAD_CORE = os.cpus().length > 1 ? '1' : '0'

/**
 * Starts `serverPath` (a bench/server.mjs) for a variant on a free port, pinned to SERVER_CORE;
 * resolves the child and the port it listens on.
 */
export async function startServer(serverPath, variant, bodyBytes) {
  // taskset pins the server; fork keeps an IPC channel to know when it listens.
  const child = fork(serverPath, [variant], {
    env: {
      ...process.env,
      PORT: '0',
      BODY_BYTES: String(bodyBytes),
      NODE_ENV: 'production',
    },
    execPath: 'taskset',
    execArgv: ['-c', SERVER_CORE, process.execPath],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const [message] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => ['exited']),
  ])
  if (typeof message?.listening !== 'number') {
    if (child.exitCode === null) child.kill('SIGKILL')
    throw new Error(`${variant} did not start`)
  }
  return { child, port: message.listening }
}

/** Stops a server started by `startServer`: SIGTERM (a Redis variant cleans up), SIGKILL after 2 s. */
export async function stopServer(child) {
  if (child === undefined || child.exitCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))])
  if (child.exitCode === null) child.kill('SIGKILL')
}

/** What the load asks for: one path, or a wrk script choosing one per request. */
export function loadOf(variant) {
  if (variant.endsWith('-zipf'))
    return { path: '/data/0', script: fileURLToPath(new URL('./zipf.lua', import.meta.url)) }
  if (variant.endsWith('-miss'))
    return { path: '/data/check', script: fileURLToPath(new URL('./miss.lua', import.meta.url)) }
  return { path: '/data', script: undefined }
}

/**
 * Seconds of load a variant's server gets before its measured run, from the bench's options:
 * `--warmup`, or `--zipf-warmup` for a -zipf variant. A -zipf server has just stored its 10,000
 * keys (10,000 misses) when its warm-up starts, and V8 goes on optimizing its hit paths for about
 * 10 s after that. In 5 s windows of the Zipf load (-c64, node --trace-opt), cachewire-koa-zipf
 * finished 282, 82, 4, 8 and 4 optimizations and koa-cash-zipf 96, 88, 2, 6 and 2. In 3 s windows
 * of one run without tracing, cachewire-koa-zipf served 18.9 k, 21.9 k, 22.9 k, 23.2 k, then
 * 23-24.7 k req/s, and koa-cash-zipf 22.0 k, 23.4 k, 23.9 k, then 24.1 k. After 3 s, a -zipf row
 * still counted the compiler's work on the server's core, and more of it for the server with more
 * code to optimize.
 */
export function warmupSeconds(variant, options) {
  return variant.endsWith('-zipf') ? options['zipf-warmup'] : options.warmup
}

// The server's own CPU time (user + system, from /proc) per request: on a host whose other
// tenants steal or stall the core, req/s swings between runs, CPU time per request much less.
export const CLOCK_TICKS =
  Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100

/**
 * A process's counters from /proc/<pid>/stat: minor page faults, CPU ticks (user + system; see
 * CLOCK_TICKS) and resident pages. `undefined` when there is no such process here.
 */
export function processStat(pid) {
  try {
    // The fields after the command name: minflt is the 8th, utime the 12th, stime the 13th, rss the 22nd.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return {
      minorFaults: Number(fields[7]),
      cpuTicks: Number(fields[11]) + Number(fields[12]),
      rssPages: Number(fields[21]),
    }
  } catch {
    return undefined
  }
}
const cpuTicks = (pid) => processStat(pid)?.cpuTicks

let wrkRuns = 0
/**
 * One wrk run on LOAD_CORE against `port` for `seconds`, with `load` from `loadOf`; with `pid`,
 * also that process's CPU µs per request over the run.
 */
export function wrk({ port, seconds, connections, load, pid }) {
  const before = pid === undefined ? undefined : cpuTicks(pid)
  // A script gets a number no other run of this process used: the miss load's paths never repeat.
  const script = load.script === undefined ? [] : ['-s', load.script]
  const target = `http://127.0.0.1:${port}${load.script === undefined ? load.path : '/data'}`
  const scriptArgs = load.script === undefined ? [] : ['--', `${process.pid}x${++wrkRuns}`]
  const output = execFileSync(
    'taskset',
    [
      '-c',
      LOAD_CORE,
      'wrk',
      '-t1',
      `-c${connections}`,
      `-d${seconds}s`,
      '--latency',
      ...script,
      target,
      ...scriptArgs,
    ],
    { encoding: 'utf8' }
  )
  const after = pid === undefined ? undefined : cpuTicks(pid)
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1])
  const requests = Number(/(\d+) requests in/.exec(output)?.[1])
  const p99 = /99%\s+([\d.]+\w+)/.exec(output)?.[1] ?? '?'
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? '0'
  const cpuUs =
    before !== undefined && after !== undefined && requests > 0
      ? ((after - before) * 1e6) / CLOCK_TICKS / requests
      : undefined
  return { rps, p99, errors: Number(errors), cpuUs }
}

export const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

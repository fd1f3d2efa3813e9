// Where a large Redis hit spends its time: front-door variants on memory, on Redis through
// ioredis 5, ioredis 6 (`-ioredis6`) and node-redis, and tiered, run in interleaved rounds, with
// the server's CPU per request, Redis's own CPU per request (it shares the host's cores with the
// server and the load), the server's minor page faults per request and its RSS. A variant named
// `<variant>+glibc` runs the same server with glibc malloc thresholds raised (GLIBC_TUNABLES
// below), and the default list runs each Redis client both ways: ioredis 5's reply parser copies
// each reply that spans socket reads into a shared pool it replaces with a larger one as it fills,
// and with glibc's defaults each new pool is memory the kernel maps and faults in anew; the other
// clients allocate less that way, and gain less or nothing.
// `node bench/redis-large.mjs [variant…] [--size 51200] [--rounds 5] [--connections 64]
// [--warmup 2] [--duration 4] [--out file.md]` (needs wrk, a built checkout and a local Redis at
// REDIS_URL; Redis's CPU is read from /proc, so only a Redis on this host is counted).
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { CLOCK_TICKS, loadOf, median, processStat, startServer, stopServer, wrk } from './load.mjs'

const GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824'
const DEFAULT_VARIANTS = [
  'cachewire-koa-front',
  'cachewire-koa-front-redis',
  'cachewire-koa-front-redis+glibc',
  'cachewire-koa-front-ioredis6',
  'cachewire-koa-front-ioredis6+glibc',
  'cachewire-koa-front-node-redis',
  'cachewire-koa-front-node-redis+glibc',
  'cachewire-koa-front-tiered',
]

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    size: { type: 'string', default: '51200' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    warmup: { type: 'string', default: '2' },
    duration: { type: 'string', default: '4' },
    out: { type: 'string' },
  },
})
const cases = positionals.length > 0 ? positionals : DEFAULT_VARIANTS
const serverPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'server.mjs')

async function localRedisPid() {
  const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  })
  try {
    await client.connect()
    const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1])
    return processStat(pid) === undefined ? undefined : pid
  } catch {
    return undefined
  } finally {
    client.disconnect()
  }
}

const redisPid = await localRedisPid()
const CLOCK_TICK_US = 1e6 / CLOCK_TICKS
const PAGE_MIB = 4096 / 2 ** 20
const samples = new Map(cases.map((name) => [name, []]))
for (let round = 0; round < Number(args.rounds); round++) {
  for (const name of cases) {
    const [variant, tuning] = name.split('+')
    const saved = process.env.GLIBC_TUNABLES
    if (tuning === 'glibc') process.env.GLIBC_TUNABLES = GLIBC_TUNABLES
    else delete process.env.GLIBC_TUNABLES
    const server = await startServer(serverPath, variant, args.size).finally(() => {
      if (saved === undefined) delete process.env.GLIBC_TUNABLES
      else process.env.GLIBC_TUNABLES = saved
    })
    try {
      const run = { port: server.port, connections: args.connections, load: loadOf(variant) }
      wrk({ ...run, seconds: args.warmup })
      const [serverBefore, redisBefore] = [processStat(server.child.pid), processStat(redisPid)]
      const started = Date.now()
      const { rps, cpuUs } = wrk({ ...run, seconds: args.duration, pid: server.child.pid })
      const requests = (rps * (Date.now() - started)) / 1000
      const [serverAfter, redisAfter] = [processStat(server.child.pid), processStat(redisPid)]
      samples.get(name).push({
        rps,
        cpuUs,
        redisUs:
          redisBefore && redisAfter
            ? ((redisAfter.cpuTicks - redisBefore.cpuTicks) * CLOCK_TICK_US) / requests
            : undefined,
        faults: (serverAfter.minorFaults - serverBefore.minorFaults) / requests,
        rssMiB: serverAfter.rssPages * PAGE_MIB,
      })
      console.error(`round ${round + 1}: ${name} ${Math.round(rps)} req/s`)
    } finally {
      await stopServer(server.child)
    }
  }
}

const medianOf = (name, field) => {
  const values = samples.get(name).map((sample) => sample[field])
  return values.includes(undefined) ? undefined : median(values)
}
const fixed = (value, digits) => (value === undefined ? '—' : value.toFixed(digits))
// The host's speed can change between rounds; a ratio within a round sees both sides at one speed.
const roundRatios = (name) =>
  samples.get(name).map((sample, round) => sample.rps / samples.get(cases[0])[round].rps)
const lines = [
  '# Large Redis hits',
  '',
  `\`${['node bench/redis-large.mjs', ...process.argv.slice(2)].join(' ')}\` on ${new Date().toISOString().slice(0, 16)} UTC, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}.`,
  '',
  `| variant (${args.size} B, ${args.rounds} rounds, -c${args.connections}) | req/s | / ${cases[0]}, per round | median | server CPU µs/req | Redis CPU µs/req | minor faults/req | RSS MiB |`,
  '|---|---:|---|---:|---:|---:|---:|---:|',
  ...cases.map(
    (name) =>
      `| ${name} | ${fixed(medianOf(name, 'rps'), 0)} | ${roundRatios(name)
        .map((ratio) => ratio.toFixed(2))
        .join(
          ', '
        )} | ${fixed(median(roundRatios(name)), 2)} | ${fixed(medianOf(name, 'cpuUs'), 1)} | ${fixed(medianOf(name, 'redisUs'), 1)} | ${fixed(medianOf(name, 'faults'), 2)} | ${fixed(medianOf(name, 'rssMiB'), 0)} |`
  ),
  '',
  `\`+glibc\`: the same server with \`GLIBC_TUNABLES=${GLIBC_TUNABLES}\`. Medians of interleaved rounds; server on core 0, wrk on core 1, Redis where the kernel puts it.`,
]
console.log(lines.join('\n'))
if (args.out !== undefined) writeFileSync(args.out, lines.join('\n') + '\n')

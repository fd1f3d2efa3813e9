// Whether a large value read through ioredis 5 gets cheaper when Redis sends it in pieces. ioredis
// 5's reply parser copies a bulk reply that spans socket reads into a shared pool it replaces as
// it fills (see bench/redis-large.mjs); a reply of several pieces of 16 KiB leaves only the piece
// cut by a socket read to be copied. Each way reads one value of `--size` bytes from 64 readers at
// once, in a process of its own pinned to core 0 (the parser's pool is per process), in
// interleaved rounds; it reports reads a second, the reader's CPU and minor page faults a read,
// and Redis's own CPU a read (INFO cpu), medians of the rounds. The ways:
// - `whole`: GET, as the store reads;
// - `lua-pieces`: a script that GETs the value and returns it cut with string.sub;
// - `lua-ranges`: a script that returns STRLEN's worth of GETRANGE pieces;
// - `multi-ranges`: MULTI, four GETRANGEs (the last to the end), EXEC;
// - `pipelined-ranges`: the same four GETRANGEs pipelined, not atomic: a write between two of them
//   would give a value made of two (shown for what the pieces cost the client, not a way to read);
// - `list-pieces`: the value stored as a list of pieces (RPUSH), read with one LRANGE: what
//   another way of storing large values would cost to read.
// `node bench/redis-pieces.mjs [way…] [--size 51200] [--piece 16384] [--rounds 5] [--reads 400]
// [--out file.md]` (needs a Redis at REDIS_URL whose INFO this process may read).
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { SERVER_CORE, median } from './load.mjs'

const WAYS = [
  'whole',
  'lua-pieces',
  'lua-ranges',
  'multi-ranges',
  'pipelined-ranges',
  'list-pieces',
]
const READERS = 64

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    size: { type: 'string', default: '51200' },
    piece: { type: 'string', default: '16384' },
    rounds: { type: 'string', default: '5' },
    reads: { type: 'string', default: '400' },
    out: { type: 'string' },
    // Internal: run one way in this process and print its figures as JSON.
    child: { type: 'string' },
  },
})
const size = Number(args.size)
const piece = Number(args.piece)
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const key = `cachewire:bench:pieces:${size}`
const listKey = `${key}:list`

const LUA_PIECES = `local value = redis.call('GET', KEYS[1])
if not value then return false end
local piece = tonumber(ARGV[1])
if #value <= piece then return value end
local pieces = {}
for i = 1, #value, piece do pieces[#pieces + 1] = string.sub(value, i, i + piece - 1) end
return pieces`

const LUA_RANGES = `local length = redis.call('STRLEN', KEYS[1])
local piece = tonumber(ARGV[1])
if length <= piece then return redis.call('GET', KEYS[1]) end
local pieces = {}
for i = 0, length - 1, piece do pieces[#pieces + 1] = redis.call('GETRANGE', KEYS[1], i, i + piece - 1) end
return pieces`

/** Joins what a way's reply holds: one Buffer, or pieces. */
function joined(reply) {
  return Array.isArray(reply) ? Buffer.concat(reply) : reply
}

function ranges(batch) {
  for (let i = 0; i < 4; i++)
    batch.getrangeBuffer(key, i * piece, i === 3 ? -1 : (i + 1) * piece - 1)
  return batch.exec().then((results) => Buffer.concat(results.map(([, part]) => part)))
}

function reader(client, way) {
  switch (way) {
    case 'whole':
      return () => client.getBuffer(key)
    case 'lua-pieces':
      return () => client.cachewirePiecesBuffer(key, piece).then(joined)
    case 'lua-ranges':
      return () => client.cachewireRangesBuffer(key, piece).then(joined)
    case 'multi-ranges':
      return () => ranges(client.multi())
    case 'pipelined-ranges':
      return () => ranges(client.pipeline())
    case 'list-pieces':
      return () => client.lrangeBuffer(listKey, 0, -1).then(joined)
    default:
      throw new Error(`redis-pieces: no way ${JSON.stringify(way)}`)
  }
}

async function redisCpuSeconds(client) {
  const info = await client.info('cpu')
  const seconds = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN)
  return seconds('used_cpu_user') + seconds('used_cpu_sys')
}

async function runWay(way) {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  client.defineCommand('cachewirePieces', { numberOfKeys: 1, lua: LUA_PIECES })
  client.defineCommand('cachewireRanges', { numberOfKeys: 1, lua: LUA_RANGES })
  const read = reader(client, way)
  const readAll = async (count) => {
    for (let i = 0; i < count; i++) {
      const value = await read()
      if (value?.length !== size)
        throw new Error(`redis-pieces: ${way} read ${value?.length} bytes`)
    }
  }
  // Warm-up: scripts loaded, code optimised, the parser's pool grown.
  await Promise.all(Array.from({ length: READERS }, () => readAll(50)))
  const reads = READERS * Number(args.reads)
  const redisBefore = await redisCpuSeconds(client)
  const before = process.resourceUsage()
  const started = performance.now()
  await Promise.all(Array.from({ length: READERS }, () => readAll(Number(args.reads))))
  const elapsedMs = performance.now() - started
  const after = process.resourceUsage()
  const redisAfter = await redisCpuSeconds(client)
  client.disconnect()
  const cpuMicros =
    after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime
  return {
    readsPerSecond: reads / (elapsedMs / 1000),
    clientMicros: cpuMicros / reads,
    // Two INFO calls are in the window too: noise next to thousands of reads.
    redisMicros: ((redisAfter - redisBefore) * 1e6) / reads,
    faults: (after.minorPageFault - before.minorPageFault) / reads,
  }
}

if (args.child !== undefined) {
  console.log(JSON.stringify(await runWay(args.child)))
  process.exit(0)
}

const ways = positionals.length > 0 ? positionals : WAYS
const setup = new Redis(url, { maxRetriesPerRequest: 1 })
const value = Buffer.alloc(size, 'x')
await setup.set(key, value)
await setup.del(listKey)
for (let start = 0; start < size; start += piece)
  await setup.rpush(listKey, value.subarray(start, start + piece))
const results = Object.fromEntries(ways.map((way) => [way, []]))
const self = fileURLToPath(import.meta.url)
for (let round = 0; round < Number(args.rounds); round++) {
  const order = round % 2 === 0 ? ways : [...ways].reverse()
  for (const way of order) {
    const out = execFileSync('taskset', [
      '-c',
      SERVER_CORE,
      process.execPath,
      self,
      '--child',
      way,
      '--size',
      args.size,
      '--piece',
      args.piece,
      '--reads',
      args.reads,
    ])
    results[way].push(JSON.parse(out.toString()))
  }
}
await setup.del(key, listKey)
setup.disconnect()

const figure = (way, name) => median(results[way].map((result) => result[name]))
const table = [
  `| way (${size} B, pieces of ${piece} B, ${args.rounds} rounds, ${READERS} readers) | reads/s | reader CPU µs/read | Redis CPU µs/read | minor faults/read |`,
  '|---|---:|---:|---:|---:|',
  ...ways.map(
    (way) =>
      `| ${way} | ${Math.round(figure(way, 'readsPerSecond')).toLocaleString('en-US')} | ${figure(way, 'clientMicros').toFixed(1)} | ${figure(way, 'redisMicros').toFixed(1)} | ${figure(way, 'faults').toFixed(2)} |`
  ),
].join('\n')
console.log(table)
if (args.out !== undefined) {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU'
  writeFileSync(
    args.out,
    `# A large value read in pieces

\`node bench/redis-pieces.mjs --out ${args.out}\` on ${new Date().toISOString().slice(0, 16)} UTC, ${cpu}, ${os.cpus().length} cores, Node ${process.version}, ioredis 5.

${table}

Reader: the process reading, pinned to core 0 (CPU from \`process.resourceUsage\`); Redis: its
\`used_cpu_user\` + \`used_cpu_sys\` over the same reads, on whichever core the kernel gives it.
Medians of interleaved rounds, each way in a fresh process. \`pipelined-ranges\` is not atomic;
\`list-pieces\` reads the value stored another way (a list of pieces), not as the store keeps it.
`
  )
}

// What a cache server holds in memory when new responses keep coming and each is served: a
// `-miss` server (no cardinality guard, a 64 MiB MemoryStore at 1 KB bodies) is sent new keys in
// chunks of 5,000, each chunk asked for twice (stored, then served from the cache), and after
// each step its RSS, V8 heap and external memory are read after full collections, with the
// process's memory map split into malloc's heap and the rest. A full store of served entries
// is the case a memory budget has to hold to: every entry then has its decoding too.
// `node bench/http-memory.mjs [variant] [--steps 20000,60000,120000] [--size 1024]` (Linux; the
// packages must be built).
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startServer, stopServer } from './load.mjs'
import { askEach } from './requests.mjs'

const CHUNK = 5_000
const MIB = 2 ** 20

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    steps: { type: 'string', default: '20000,60000,120000' },
    size: { type: 'string', default: '1024' },
  },
})
const variant = positionals[0] ?? 'cachewire-koa-miss'
if (!variant.endsWith('-miss')) {
  console.error(
    `${variant}: name a -miss variant (no cardinality guard; it answers any /data/<id>)`
  )
  process.exit(2)
}
const steps = args.steps.split(',').map(Number)
const serverPath = fileURLToPath(new URL('./server.mjs', import.meta.url))
const preload = fileURLToPath(new URL('./heap-preload.mjs', import.meta.url))

process.env.NODE_OPTIONS = `--expose-gc --import ${preload}`
const { child, port } = await startServer(serverPath, variant, Number(args.size))
delete process.env.NODE_OPTIONS
try {
  const origin = `http://127.0.0.1:${port}`
  const mib = (bytes) => `${Math.round(bytes / MIB)} MiB`
  let asked = 0
  for (const upTo of steps) {
    for (; asked < upTo; asked += CHUNK) {
      const paths = Array.from(
        { length: Math.min(CHUNK, upTo - asked) },
        (_, i) => `/data/k${asked + i}`
      )
      await askEach(origin, paths)
      await askEach(origin, paths)
    }
    const answer = once(child, 'message')
    child.send({ heap: 'measure' })
    const { memory } = (await answer)[0]
    const map = memoryMap(child.pid)
    console.log(
      `${variant} ${args.size} B, ${upTo.toLocaleString('en-US')} keys stored and served: ` +
        `rss ${mib(map.rss)} (malloc heap ${mib(map.mallocHeap)}, other anonymous ${mib(map.anonymous)}), ` +
        `V8 heap ${mib(memory.heapUsed)} used of ${mib(memory.heapTotal)}, ` +
        `external ${mib(memory.external)} (array buffers ${mib(memory.arrayBuffers)})`
    )
  }
} finally {
  await stopServer(child)
}

/** Resident bytes of a process: all, malloc's heap (`[heap]`), and other anonymous mappings (V8's pages among them). */
function memoryMap(pid) {
  let rss = 0
  let mallocHeap = 0
  let anonymous = 0
  let name = ''
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (mapping !== null) {
      name = mapping[1]
      continue
    }
    const resident = /^Rss:\s+(\d+) kB/.exec(line)
    if (resident === null) continue
    const bytes = Number(resident[1]) * 1024
    rss += bytes
    if (name === '[heap]') mallocHeap += bytes
    else if (name === '') anonymous += bytes
  }
  return { rss, mallocHeap, anonymous }
}

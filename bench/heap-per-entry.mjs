// Heap a server keeps per cached response: the heap in use (after full collections) grows by this
// much per key when 9,000 keys are stored, again when each is first served from the cache
// (decodings and memos a cache keeps for the entry's life), and again on a second hit (should be
// nothing). Values in a MemoryStore's slabs are outside the heap; this counts the objects.
// `node bench/heap-per-entry.mjs [variant…] [--size 1024]` (default: cachewire-koa-zipf
// koa-cash-zipf); the packages must be built.
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startServer, stopServer } from './load.mjs'
import { askEach } from './requests.mjs'

// 500 warm-up keys and 9,000 measured ones stay under the default guard of 10,000 new keys a
// minute, past which new keys are served uncached.
const WARM_KEYS = 500
const KEYS = 9_000

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: '1024' } },
})
const variants = positionals.length > 0 ? positionals : ['cachewire-koa-zipf', 'koa-cash-zipf']
const serverPath = fileURLToPath(new URL('./server.mjs', import.meta.url))
const preload = fileURLToPath(new URL('./heap-preload.mjs', import.meta.url))

for (const variant of variants) {
  if (!/-(zipf|miss)$/.test(variant)) {
    console.error(`${variant}: name a -zipf variant (it answers /data/<id> for any id)`)
    process.exit(2)
  }
  process.env.NODE_OPTIONS = `--expose-gc --import ${preload}`
  const { child, port } = await startServer(serverPath, variant, Number(args.size))
  try {
    const origin = `http://127.0.0.1:${port}`
    const heapUsed = async () => {
      const answer = once(child, 'message')
      child.send({ heap: 'measure' })
      return (await answer)[0].heapUsed
    }
    const paths = (from, count) => Array.from({ length: count }, (_, i) => `/data/${from + i}`)
    // Keys of their own first, stored and hit a few times: the code paths are compiled and the
    // tables they use have grown before anything is measured.
    for (let i = 0; i < 4; i++) await askEach(origin, paths(KEYS, WARM_KEYS))
    const before = await heapUsed()
    await askEach(origin, paths(0, KEYS))
    const stored = await heapUsed()
    await askEach(origin, paths(0, KEYS))
    const firstHit = await heapUsed()
    await askEach(origin, paths(0, KEYS))
    const secondHit = await heapUsed()
    const perKey = (from, to) => Math.round((to - from) / KEYS)
    console.log(
      `${variant} ${args.size} B: heap bytes per key: stored ${perKey(before, stored)}, ` +
        `first hit +${perKey(stored, firstHit)}, second hit +${perKey(firstHit, secondHit)}`
    )
  } finally {
    delete process.env.NODE_OPTIONS
    await stopServer(child)
  }
}

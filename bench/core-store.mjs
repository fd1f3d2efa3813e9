// MemoryStore against lru-cache used directly, in one run, rounds interleaved; RSS after a million
// distinct keys is measured in its own process by core-memory.mjs.
// Run pinned to one core: taskset -c 0 node bench/core-store.mjs (pnpm bench runs it so)
// Each case runs in a process of its own (`node bench/core-store.mjs --case '<name>'`: it times the
// case's second pass, the first being warm-up), started once a round for every case in turn. In one
// process the cases shared lru-cache's code with values of other shapes (Buffers in the plain
// lru-cache, entries in the stores) and V8's type feedback with it: MemoryStore getSync read 0.62
// to 0.88 of lru-cache get from run to run, depending on what had run before, and 0.98 with a
// process per case. An application's lru-cache holds one kind of value.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { LRUCache } from 'lru-cache'
import { Cache, MemoryStore } from '@cachewire/core'

const KEYS = 10_000
const OPS = 2_000_000
// One process's figure swings by ±20 % on a shared host: of 56 pairs of lru-cache get and
// MemoryStore getSync processes run back to back (three batches, either order first), each pair's
// ratio lay in 0.76–1.16, the batches' medians in 0.93–1.02, all 56 at 0.96; the tables' medians
// read 0.90–0.98 from run to run. So the rounds are eleven, and every other one runs the cases
// in reverse, so that no case always follows the same one.
const ROUNDS = Number(process.env.ROUNDS ?? 11)
const value = Buffer.alloc(100, 1)
const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`)

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]
const opsPerSec = (ops, ns) => ops / (Number(ns) / 1e9)

async function measure(run) {
  const started = process.hrtime.bigint()
  await run()
  return opsPerSec(OPS, process.hrtime.bigint() - started)
}

// Each case fills only what it reads or writes, so a process holds one kind of value per store.
const only = process.argv[2] === '--case' ? process.argv[3] : undefined
const uses = (name) => only === undefined || only.startsWith(name)
const lru = new LRUCache({
  maxSize: 64 * 1024 * 1024,
  sizeCalculation: (v, k) => v.byteLength + k.length * 2 + 96,
})
const store = new MemoryStore({ maxBytes: 64 * 1024 * 1024 })
// Its own store: the set rows below write raw bytes the cache would read as another format (a miss).
const cache = new Cache({ store: new MemoryStore({ maxBytes: 64 * 1024 * 1024 }) })
// What the data API mostly holds: a small object, stored as JSON and read back as a fresh copy.
const record = { id: 1, name: 'item 1', tags: ['a', 'b'], ok: true }
const records = new Cache({ store: new MemoryStore({ maxBytes: 64 * 1024 * 1024 }) })
if (only !== undefined) {
  for (const key of keys) {
    if (uses('lru-cache')) lru.set(key, value, { ttl: 600_000 })
    if (uses('MemoryStore')) await store.set(key, value, { ttlMs: 600_000 })
    if (only.startsWith('Cache') && !only.includes('JSON'))
      await cache.set(key, value, { ttl: 600_000 })
    if (only.includes('JSON')) await records.set(key, record, { ttl: 600_000 })
  }
}

const cases = {
  'lru-cache get': async () => {
    for (let i = 0; i < OPS; i++) lru.get(keys[i % KEYS])
  },
  'MemoryStore getSync': async () => {
    for (let i = 0; i < OPS; i++) store.getSync(keys[i % KEYS])
  },
  // The cost of the await itself: no awaited read can beat this row.
  'lru-cache await get': async () => {
    for (let i = 0; i < OPS; i++) await lru.get(keys[i % KEYS])
  },
  'MemoryStore await get': async () => {
    for (let i = 0; i < OPS; i++) await store.get(keys[i % KEYS])
  },
  'Cache readSync (decode)': async () => {
    for (let i = 0; i < OPS; i++) cache.readSync(keys[i % KEYS])
  },
  'Cache await get (decode)': async () => {
    for (let i = 0; i < OPS; i++) await cache.get(keys[i % KEYS])
  },
  'Cache await get (JSON object)': async () => {
    for (let i = 0; i < OPS; i++) await records.get(keys[i % KEYS])
  },
  'lru-cache set': async () => {
    for (let i = 0; i < OPS; i++) lru.set(keys[i % KEYS], value, { ttl: 600_000 })
  },
  'MemoryStore await set': async () => {
    for (let i = 0; i < OPS; i++) await store.set(keys[i % KEYS], value, { ttlMs: 600_000 })
  },
  'Cache await set (JSON object)': async () => {
    for (let i = 0; i < OPS; i++) await records.set(keys[i % KEYS], record, { ttl: 600_000 })
  },
}

if (only !== undefined) {
  const run = cases[only]
  if (run === undefined) throw new Error(`core-store: no case ${JSON.stringify(only)}`)
  await measure(run)
  console.log(await measure(run))
} else {
  const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? Object.keys(cases) : Object.keys(cases).reverse()
    for (const name of order) {
      const output = execFileSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--case', name],
        { encoding: 'utf8' }
      )
      results[name].push(Number(output.trim()))
    }
  }
  const lruGet = median(results['lru-cache get'])
  const lruSet = median(results['lru-cache set'])
  console.log(
    `| case | median ops/s (${ROUNDS} rounds, a process per case, the order reversed every other round) | ratio to lru-cache |`
  )
  console.log('|---|---:|---:|')
  for (const [name, list] of Object.entries(results)) {
    const base = name.includes('set') ? lruSet : lruGet
    console.log(
      `| ${name} | ${Math.round(median(list)).toLocaleString('en-US')} | ${(median(list) / base).toFixed(2)} |`
    )
  }
}

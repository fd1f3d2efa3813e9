// Cost per call of the data-cache APIs (issue 16), next to a plain `get` hit, on memory and on
// Redis (REDIS_URL, default redis://127.0.0.1:6379; skipped if unreachable). Calls run one after
// another (latency, not throughput); each figure is the median of ROUNDS rounds.
//   taskset -c 1 node --expose-gc bench/data-api.mjs        (ROUNDS=5, MEMORY_CALLS=20000, REDIS_CALLS=1000)
import { Redis } from 'ioredis'
import { Cache, jsonSerializer, rateLimit, revocations } from '@cachewire/core'
import { RedisRevocationSync, RedisStore } from '@cachewire/core/redis'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const MEMORY_CALLS = Number(process.env.MEMORY_CALLS ?? 20_000)
const REDIS_CALLS = Number(process.env.REDIS_CALLS ?? 1_000)

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** µs per call: median over rounds of (round time / calls). `make(i)` returns the call's promise. */
async function measure(calls, make) {
  for (let i = 0; i < Math.min(calls, 200); i++) await make(i) // warm up
  const rounds = []
  let offset = 0
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now()
    for (let i = 0; i < calls; i++) await make(offset + i)
    rounds.push(((performance.now() - started) * 1000) / calls)
    offset += calls
  }
  return median(rounds)
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

const plain = { id: 42, name: 'Ada Lovelace', email: 'ada@example.com', roles: ['admin', 'user'] }
const rich = {
  id: 42,
  createdAt: new Date(0),
  tags: new Set(['a', 'b']),
  scores: new Map([['x', 1]]),
  big: 2n ** 64n,
}

/** A sync that is always trusted and has no peers: the front alone, to price it. */
const soloSync = {
  start: async () => {},
  trusted: () => true,
  broadcast: async () => {},
  close: async () => {},
}

async function suite(label, cache, calls, extra = {}) {
  const rows = []
  const add = async (name, make, example) =>
    rows.push({ name, us: await measure(calls, make), example })
  await cache.set('hot', plain, { ttl: '1h' })
  await cache.set('hot-rich', rich, { ttl: '1h' })
  for (let i = 0; i < 2000; i++) await cache.get('hot') // JIT and connection warm-up before the baseline
  await add('get (hit) — the baseline', () => cache.get('hot'), "cache.get('hot')")
  await add(
    'get (hit), strict',
    () => cache.get('hot', { strict: true }),
    "cache.get('hot', { strict: true })"
  )
  await add(
    'has (miss), strict',
    (i) => cache.has(`absent:${i}`, { strict: true }),
    "cache.has('k', { strict: true })"
  )
  await add('getWithMeta (hit)', () => cache.getWithMeta('hot'), "cache.getWithMeta('hot')")
  await add('ttl', () => cache.ttl('hot'), "cache.ttl('hot')")
  await add(
    'get (hit) of a rich value (Date, Set, Map, BigInt)',
    () => cache.get('hot-rich'),
    "cache.get('hot-rich')"
  )
  await add(
    'set (plain JSON value)',
    (i) => cache.set(`s:${i % 1000}`, plain, { ttl: '1m' }),
    "cache.set('k', value)"
  )
  await add(
    'set (rich value, V8 format)',
    (i) => cache.set(`r:${i % 1000}`, rich, { ttl: '1m' }),
    "cache.set('k', { at: new Date(), ids: new Set() })"
  )
  const strictJson = extra.jsonCache
  if (strictJson !== undefined)
    await add(
      'set with jsonSerializer (lossless check)',
      (i) => strictJson.set(`j:${i % 1000}`, plain, { ttl: '1m' }),
      'new Cache({ serializer: jsonSerializer })'
    )
  await add(
    'add (SET NX, new key)',
    (i) => cache.add(`add:${label}:${Date.now()}:${i}`, 1, { ttl: '1m' }),
    "cache.add('k', v)"
  )
  await cache.set('rep', 1, { ttl: '1h' })
  await add(
    'replace (SET XX, present)',
    () => cache.replace('rep', 2, { ttl: '1h' }),
    "cache.replace('k', v)"
  )
  await add('wrap (hit)', () => cache.wrap('hot', async () => plain), "cache.wrap('hot', load)")
  // A new key each call: the loader runs and its duration is recorded (10,000 keys are kept).
  await add(
    'wrap (miss, a new key each call)',
    (i) => cache.wrap(`load:${label}:${i}`, async () => plain, { ttl: '1m' }),
    "cache.wrap('k', load, { ttl: '1m' })"
  )
  await cache.wrap('graced', async () => plain, { ttl: '1h', grace: '1h' })
  // Until the fill's write lands, callers join the fill (no read of their own): let it land.
  await settle()
  await add(
    'wrap with grace (hit)',
    () => cache.wrap('graced', async () => plain, { ttl: '1h', grace: '1h' }),
    "cache.wrap('k', load, { ttl: '1m', grace: '1h', timeout: '200ms' })"
  )
  async function findUser(id, options) {
    return { id, options }
  }
  const keyed = cache.cached(findUser, { key: (id) => `user:${id}`, ttl: '1h' })
  const defaulted = cache.cached(findUser, { ttl: '1h' })
  await keyed(7)
  await defaulted(7, { withOrders: true })
  await settle()
  await add(
    'cached() with a key function (hit)',
    () => keyed(7),
    'cache.cached(findUser, { key: (id) => `user:${id}` })'
  )
  await add(
    'cached() with the default key (hit)',
    () => defaulted(7, { withOrders: true }),
    'cache.cached(findUser) // name + source hash + SHA-256 of the arguments'
  )
  const fixed = rateLimit(cache, {
    limit: 1e9,
    window: '1h',
    algorithm: 'fixed',
    name: `bench-fixed-${label}`,
  })
  const sliding = rateLimit(cache, { limit: 1e9, window: '1h', name: `bench-sliding-${label}` })
  await add(
    'rateLimit fixed: check',
    () => fixed.check('client'),
    "rateLimit(cache, { limit: 100, window: '1m', algorithm: 'fixed' }).check(ip)"
  )
  await add(
    'rateLimit sliding: check',
    () => sliding.check('client'),
    "rateLimit(cache, { limit: 100, window: '1m' }).check(ip)"
  )
  const listNoFront = revocations(cache.namespace('bench-revoked'))
  await add(
    'revocations: isRevoked, no front (one store read)',
    (i) => listNoFront.isRevoked(`t${i % 100}`),
    'revocations(cache).isRevoked(token)'
  )
  const sync = extra.sync ?? soloSync
  const listFront = revocations(cache.namespace('bench-revoked'), { sync })
  await listFront.start()
  await add(
    'revocations: isRevoked, front hit',
    (i) => listFront.isRevoked(`t${i % 100}`),
    'revocations(cache, { sync }).isRevoked(token)'
  )
  await add(
    'revocations: revoke',
    (i) => listFront.revoke(`revoke-${label}-${Date.now()}-${i}`, { until: Date.now() + 60_000 }),
    'list.revoke(token, { until: exp * 1000 })'
  )
  await listFront.close()
  const warmCount = Math.min(calls, 2000)
  await add(
    'warm, per entry (concurrency 8)',
    async (i) => {
      if (i % warmCount !== 0) return
      await cache.warm(
        Array.from({ length: warmCount }, (_, j) => ({ key: `w:${i}:${j}`, load: () => plain })),
        { concurrency: 8 }
      ).result
    },
    'cache.warm(entries, { concurrency: 8 })'
  )
  // `warm` ran warmCount entries per warmCount calls: the figure is per entry.
  return rows
}

function print(label, rows) {
  const base = rows[0].us
  console.log(`\n${label}`)
  console.log('| call | µs/call (median of ' + ROUNDS + ') | × get |')
  console.log('|---|---:|---:|')
  for (const row of rows)
    console.log(
      `| ${row.name} | ${row.us.toFixed(row.us < 10 ? 2 : 1)} | ${(row.us / base).toFixed(1)} |`
    )
}

async function frontMemory() {
  const cache = new Cache()
  const list = revocations(cache, { sync: soloSync, maxEntries: 200_000 })
  await list.start()
  globalThis.gc?.()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < 100_000; i++)
    await list.isRevoked(`a-token-of-typical-length-${i}-${'x'.repeat(120)}`)
  globalThis.gc?.()
  return (process.memoryUsage().heapUsed - before) / list.frontSize
}

const memoryCache = new Cache({ defaultTtl: '1h' })
print(
  'memory (MemoryStore)',
  await suite('memory', memoryCache, MEMORY_CALLS, {
    jsonCache: new Cache({ store: memoryCache.store, serializer: jsonSerializer }),
  })
)
if (globalThis.gc !== undefined)
  console.log(
    `\nrevocation front: ${(await frontMemory()).toFixed(0)} bytes of heap per remembered token (100,000 tokens)`
  )

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  lazyConnect: true,
})
redis.on('error', () => {})
let redisUp = true
await redis.connect().catch(() => (redisUp = false))
if (redisUp) {
  const prefix = `bench-data-api:${process.pid}:`
  const store = new RedisStore({ client: redis, prefix, timeout: '1s' })
  const cache = new Cache({ store, defaultTtl: '1h' })
  const sync = new RedisRevocationSync({ client: redis, channel: `${prefix}revocations` })
  print(
    `Redis (${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}, one client, calls in series)`,
    await suite('redis', cache, REDIS_CALLS, {
      sync,
      jsonCache: new Cache({ store, serializer: jsonSerializer }),
    })
  )
  await store.clear()
  redis.disconnect()
} else {
  console.log('\nRedis: not reachable, skipped')
}

import { describe, expect, it } from 'vitest'
import { Cache } from '@cachewire/core'
import { CACHE_CLIENT_DEFAULTS, RedisStore } from '@cachewire/core/redis'
import { startRedisProcess, type RedisProcess } from '../helpers/redis-process.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import {
  figures,
  kinds,
  measure,
  msUntil,
  sampleCalls,
  type CallSamples,
} from '../helpers/measure.js'
import { registerCleanup } from '../setup/cleanup.js'
import { IOREDIS6 } from '../setup/ioredis6.js'

/**
 * Redis stops answering, then answers again: the cache must cost each call at most its deadline
 * meanwhile (the breakers skip a dead node), never throw, and hit again within a second of Redis
 * answering (breakers close on a probe's answer, even a late one, and on the client's `ready`).
 * Deadlines are what these tests are about: 100 ms, with room on top for a loaded machine.
 */
const DEADLINE_MS = 100
const MARGIN_MS = 400
/** The target: hits back within 1 s of Redis answering again. */
const RECOVERY_TARGET_MS = 1000
const KEYS = 100

/**
 * How a store gets its client: built by the store from the URL (ioredis 5 here), or an ioredis 6
 * client made with the store's client defaults, as a user on that major would give it (it speaks
 * RESP3, so every reconnect starts with HELLO 3).
 */
const CLIENTS = [
  {
    name: 'ioredis 5, from the URL',
    store: (url: string, prefix: string) => new RedisStore({ url, prefix, timeout: DEADLINE_MS }),
  },
  {
    name: 'ioredis 6',
    store: (url: string, prefix: string) => {
      const client = new IOREDIS6.Redis(url, CACHE_CLIENT_DEFAULTS)
      // As an app would: without a listener ioredis prints each refused reconnect. The store's
      // own reports of the outage reach the cache's `error` event, which the test counts.
      client.on('error', () => {})
      registerCleanup(() => client.disconnect())
      return new RedisStore({ client, prefix, timeout: DEADLINE_MS })
    },
  },
]

type StoreOn = (typeof CLIENTS)[number]['store']

function cacheOn(storeOn: StoreOn, url: string, prefix: string): { cache: Cache; errors: Error[] } {
  const cache = new Cache({
    store: storeOn(url, prefix),
    invalidationQueue: { closeTimeout: 500 },
  })
  const errors: Error[] = []
  cache.on('error', (error) => errors.push(error))
  registerCleanup(() => cache.close())
  return { cache, errors }
}

async function seed(cache: Cache): Promise<void> {
  await Promise.all(Array.from({ length: KEYS }, (_, i) => cache.set(`k${i}`, i, { ttl: '5m' })))
}

const reads = (cache: Cache, durationMs: number): Promise<CallSamples> =>
  sampleCalls((i) => cache.get(`k${i % KEYS}`), { durationMs })

async function missing(cache: Cache): Promise<number> {
  const values = await Promise.all(Array.from({ length: KEYS }, (_, i) => cache.get(`k${i}`)))
  return values.filter((value) => value === undefined).length
}

/** A fault that keeps the data (frozen process, partition): the same keys hit again after. */
async function survivingFault(
  storeOn: StoreOn,
  scenario: string,
  redis: RedisProcess,
  url: string,
  start: () => void,
  stop: () => void
): Promise<void> {
  const { cache, errors } = cacheOn(storeOn, url, `${scenario}:`)
  await seed(cache)
  const before = await reads(cache, 1000)
  start()
  const during = await reads(cache, 1500)
  const stats = cache.stats()
  stop()
  const hitsBackMs = await msUntil(async () => (await cache.get('k0')) === 0)
  const lost = await missing(cache)
  measure(scenario, {
    ...figures('before', before),
    ...figures('during', during),
    skipped: stats.skipped,
    timeouts: stats.timeouts,
    hitsBackMs,
    lost,
    errorEvents: errors.length,
    errorKinds: kinds(errors),
  })

  expect(before.rejected + during.rejected).toBe(0)
  expect(during.hits).toBe(0)
  // Each call costs at most its deadline, and the breaker skips most of them.
  expect(during.max).toBeLessThan(DEADLINE_MS + MARGIN_MS)
  expect(stats.skipped).toBeGreaterThan(stats.timeouts)
  expect(hitsBackMs).toBeLessThan(RECOVERY_TARGET_MS)
  expect(lost).toBe(0)
  void redis
}

for (const { name, store: storeOn } of CLIENTS)
  describe(`the core cache through Redis outages (private redis-server; ${name})`, () => {
    it('Redis frozen (SIGSTOP), then thawed', async () => {
      const redis = await startRedisProcess()
      await survivingFault(
        storeOn,
        'frozen',
        redis,
        redis.url,
        () => redis.freeze(),
        () => redis.thaw()
      )
    })

    it('Redis behind a blackhole, then healed', async () => {
      const redis = await startRedisProcess()
      const proxy = await createTcpProxy({ targetPort: redis.port })
      await survivingFault(
        storeOn,
        'blackhole',
        redis,
        `redis://127.0.0.1:${proxy.port}`,
        () => proxy.setMode('blackhole'),
        () => proxy.setMode('pass')
      )
    })

    it('Redis shut down, then started again on the same port (empty)', async () => {
      const redis = await startRedisProcess()
      const { cache, errors } = cacheOn(storeOn, redis.url, 'restart:')
      await seed(cache)
      const before = await reads(cache, 1000)
      await redis.stop()
      const during = await reads(cache, 1500)
      await redis.start()
      // The new server is empty: back means a write and a read work again.
      const hitsBackMs = await msUntil(
        async () => (await cache.set('back', 1)) && (await cache.get('back')) === 1
      )
      const lost = await missing(cache)
      measure('restart', {
        ...figures('before', before),
        ...figures('during', during),
        hitsBackMs,
        lost,
        lostNote: 'no persistence: the restarted server is empty',
        errorEvents: errors.length,
        errorKinds: kinds(errors),
      })

      expect(before.rejected + during.rejected).toBe(0)
      expect(during.max).toBeLessThan(DEADLINE_MS + MARGIN_MS)
      expect(hitsBackMs).toBeLessThan(RECOVERY_TARGET_MS)
    })

    it('the app starts while Redis is down, then Redis comes up', async () => {
      const redis = await startRedisProcess()
      await redis.stop()
      const { cache, errors } = cacheOn(storeOn, redis.url, 'start-down:')
      const first = await sampleCalls(() => cache.wrap('k', () => 'from the source'), {
        durationMs: 1,
        count: 1,
        concurrency: 1,
      })
      const during = await reads(cache, 1500)
      await redis.start()
      const hitsBackMs = await msUntil(
        async () => (await cache.set('k0', 0)) && (await cache.get('k0')) === 0
      )
      measure('start-with-redis-down', {
        ...figures('first', first),
        ...figures('during', during),
        hitsBackMs,
        errorEvents: errors.length,
        errorKinds: kinds(errors),
      })

      expect(first.rejected + during.rejected).toBe(0)
      expect(first.max).toBeLessThan(DEADLINE_MS + MARGIN_MS)
      expect(during.max).toBeLessThan(DEADLINE_MS + MARGIN_MS)
      expect(hitsBackMs).toBeLessThan(RECOVERY_TARGET_MS)
    })
  })

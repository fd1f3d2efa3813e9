import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { Cache } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { startRedisProcess } from '../helpers/redis-process.js'
import { measure } from '../helpers/measure.js'
import { registerCleanup } from '../setup/cleanup.js'

/**
 * A burst far larger than what a connection should carry at once. The store keeps at most
 * `maxInFlight` commands on the wire and queues the rest itself, so each command's deadline
 * measures Redis, not the line in front of it: every write is stored. What
 * cannot be queued is dropped with a counted reason, never silently.
 */
describe('a burst of concurrent writes on a healthy Redis', () => {
  it('stores all of 10,000 concurrent sets: a deadline counts from the wire, not the queue', async () => {
    const redis = await startRedisProcess()
    // The default bound on the wire (256) and a 250 ms deadline, far shorter than the whole burst
    // (the last of 10,000 writes waits seconds in the store's queue on a loaded machine), so a
    // deadline that counted the queue would fail most of them. Not the default 50 ms: at load 12+
    // the Redis process itself can be off the CPU that long, which times out a whole window of
    // 256 at once. The queue's own wait bound (5 s by default) gets room too: at load 17 the last
    // write waited about 4 s.
    const store = new RedisStore({
      url: redis.url,
      prefix: 'burst:',
      timeout: '250ms',
      queueTimeout: '30s',
    })
    const cache = new Cache({ store })
    const errors: Error[] = []
    cache.on('error', (error) => errors.push(error))
    registerCleanup(() => cache.close())
    await cache.set('warm', 1) // the connections are up: this test is about the burst

    let peakPending = 0
    const gauge = setInterval(
      () => (peakPending = Math.max(peakPending, cache.stats().pendingOperations)),
      5
    )
    const started = performance.now()
    const latencies: number[] = []
    const results = await Promise.all(
      Array.from({ length: 10_000 }, async (_, i) => {
        const begun = performance.now()
        const stored = await cache.set(`item:${i}`, { i, name: `item ${i}` }, { ttl: '5m' })
        latencies.push(performance.now() - begun)
        return stored
      })
    )
    const elapsedMs = Math.round(performance.now() - started)
    clearInterval(gauge)
    latencies.sort((a, b) => a - b)

    const admin = new Redis(redis.url)
    registerCleanup(() => admin.disconnect())
    let inRedis = 0
    for await (const keys of admin.scanStream({
      match: 'burst:k:item:*',
      count: 1000,
    }) as AsyncIterable<string[]>)
      inRedis += keys.length
    const acknowledged = results.filter(Boolean).length
    const { dropped, timeouts } = cache.stats()
    measure('burst-10000-sets', {
      acknowledged,
      inRedis,
      lost: 10_000 - inRedis,
      elapsedMs,
      p50: Math.round(latencies[5000] ?? 0),
      p99: Math.round(latencies[9900] ?? 0),
      peakPending,
      timeouts,
      dropped: dropped.write,
      errorEvents: errors.length,
    })

    expect(acknowledged).toBe(10_000)
    expect(inRedis).toBe(10_000)
    expect(timeouts).toBe(0)
    expect(cache.stats().pendingOperations).toBe(0)
  })

  it('for comparison: the same burst with no bound on commands in flight (measured, not asserted)', async () => {
    const redis = await startRedisProcess()
    const cache = new Cache({
      store: new RedisStore({ url: redis.url, prefix: 'burst-unbounded:', maxInFlight: 1_000_000 }),
    })
    cache.on('error', () => {})
    registerCleanup(() => cache.close())
    await cache.set('warm', 1)
    const results = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => cache.set(`item:${i}`, { i }))
    )
    measure('burst-10000-sets-unbounded', {
      acknowledged: results.filter(Boolean).length,
      timeouts: cache.stats().timeouts,
    })
    expect(results).toHaveLength(10_000)
  })

  it('drops what does not fit its queue, counting it as queue-full', async () => {
    const redis = await startRedisProcess()
    const cache = new Cache({
      store: new RedisStore({
        url: redis.url,
        prefix: 'burst-full:',
        maxInFlight: 16,
        maxQueue: 1000,
        timeout: '1s',
      }),
    })
    cache.on('error', () => {})
    registerCleanup(() => cache.close())
    await cache.set('warm', 1)
    const results = await Promise.all(
      Array.from({ length: 5000 }, (_, i) => cache.set(`item:${i}`, i))
    )
    const acknowledged = results.filter(Boolean).length
    const { dropped, skipped } = cache.stats()
    measure('burst-queue-full', { acknowledged, dropped: dropped.write, skipped })

    expect(acknowledged + dropped.write['queue-full']).toBe(5000)
    expect(dropped.write['queue-full']).toBeGreaterThan(0)
    expect(skipped).toBe(dropped.write['queue-full'])
  })
})

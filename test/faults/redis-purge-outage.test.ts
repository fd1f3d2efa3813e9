import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { Cache, type InvalidationResult } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { startRedisProcess } from '../helpers/redis-process.js'
import { measure, msUntil } from '../helpers/measure.js'
import { registerCleanup } from '../setup/cleanup.js'

/**
 * A purge asked for while Redis does not answer (frozen: the data survives, as in a network
 * partition) must not be lost: the call says `queued`, the cache retries, and once Redis answers
 * again the purge is applied before reads come back, so no purged entry is served after.
 */
const TIMEOUT = '100ms'

describe('purges while Redis is down, then Redis is back', () => {
  it('are queued, applied within a second of recovery, and no purged entry is served after', async () => {
    const redis = await startRedisProcess()
    const cache = new Cache({
      store: new RedisStore({ url: redis.url, prefix: 'purge:', timeout: TIMEOUT }),
      invalidationQueue: { closeTimeout: '5s' },
    })
    const errors: Error[] = []
    cache.on('error', (error) => errors.push(error))
    registerCleanup(() => cache.close())
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        cache.set(`product:${i}`, i, { ttl: '5m', tags: ['products', `product:${i}`] })
      )
    )
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => cache.set(`page:${i}`, i, { ttl: '5m' }))
    )
    await cache.set('kept', 'yes', { ttl: '5m' })
    const users = cache.namespace('users')
    await users.set('1', 'ada')

    redis.freeze()
    for (let i = 0; i < 10; i++) await cache.get('kept') // the breaker notices
    const results: Record<string, InvalidationResult> = {
      tags: await cache.invalidateTags(['products']),
      delete: await cache.delete('page:0'),
      pattern: await cache.deletePattern('page:1*'),
      namespace: await users.invalidate(),
    }
    const queuedDuringOutage = cache.stats().queuedInvalidations
    // This process already reads none of what it purged by key, pattern or namespace.
    const hiddenMeanwhile =
      (await cache.get('page:0')) === undefined &&
      (await cache.get('page:12')) === undefined &&
      (await users.get('1')) === undefined

    const applied: number[] = []
    cache.on('invalidation-applied', ({ delayMs }) => applied.push(delayMs))
    const thawedAt = performance.now()
    redis.thaw()
    // Read purged entries the moment Redis answers: none may be served.
    let staleServed = 0
    const appliedMs = await msUntil(
      async () => {
        for (const key of ['product:0', 'product:50', 'product:99', 'page:0', 'page:15'])
          if ((await cache.get(key)) !== undefined) staleServed++
        return cache.stats().queuedInvalidations === 0
      },
      { intervalMs: 1 }
    )
    const hitsBackMs = await msUntil(async () => (await cache.get('kept')) === 'yes')

    const admin = new Redis(redis.url)
    registerCleanup(() => admin.disconnect())
    let productsLeft = 0
    for await (const keys of admin.scanStream({
      match: 'purge:k:product:*',
      count: 1000,
    }) as AsyncIterable<string[]>)
      productsLeft += keys.length
    const pagesLeft = (
      await Promise.all(
        ['page:0', 'page:1', 'page:10', 'page:19'].map((key) => admin.exists(`purge:k:${key}`))
      )
    ).reduce((a, b) => a + b, 0)
    const peer = new Cache({
      store: new RedisStore({ url: redis.url, prefix: 'purge:', timeout: '2s' }),
    })
    registerCleanup(() => peer.close())
    const namespaceMoved = (await peer.namespace('users').get('1')) === undefined
    measure('purge-during-outage', {
      results: Object.fromEntries(
        Object.entries(results).map(([kind, result]) => [kind, result.status])
      ),
      queuedDuringOutage,
      hiddenMeanwhile,
      appliedWithinMs: appliedMs,
      appliedDelaysMs: applied.map(Math.round),
      hitsBackMs,
      staleServedAfterRecovery: staleServed,
      taggedLeft: productsLeft,
      purgedPagesLeft: pagesLeft,
      lost: (await cache.get('kept')) === 'yes' ? 0 : 1,
      errorEvents: errors.length,
      sinceThawMs: Math.round(performance.now() - thawedAt),
    })

    expect(Object.values(results).every((result) => result.status === 'queued')).toBe(true)
    expect(queuedDuringOutage).toBe(4)
    expect(hiddenMeanwhile).toBe(true)
    expect(appliedMs).toBeLessThan(1000)
    expect(staleServed).toBe(0)
    expect(productsLeft).toBe(0)
    expect(pagesLeft).toBe(0)
    expect(namespaceMoved).toBe(true)
    expect(await cache.get('page:2')).toBe(2)
  })
})

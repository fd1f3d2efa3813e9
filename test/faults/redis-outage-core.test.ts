import { describe, expect, it, vi } from 'vitest'
import { Cache } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { startRedisProcess } from '../helpers/redis-process.js'

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now()
  const value = await run()
  return { value, ms: performance.now() - started }
}

describe('the core cache through Redis faults (private redis-server)', () => {
  it('a frozen Redis costs at most the deadline, then the breaker skips it, and hits resume after thaw', async () => {
    const redis = await startRedisProcess()
    const store = new RedisStore({ url: redis.url, timeout: 40 })
    const cache = new Cache({ store, breaker: { failureThreshold: 3, breakDuration: 300 } })
    cache.on('error', () => {})
    await cache.set('k', 'v')
    expect(await cache.get('k')).toBe('v')

    redis.freeze()
    const during = []
    for (let i = 0; i < 20; i++) during.push(await timed(() => cache.get('k')))
    expect(during.every((sample) => sample.value === undefined)).toBe(true)
    expect(Math.max(...during.map((sample) => sample.ms))).toBeLessThan(40 + 150)
    expect(cache.stats().breaker).toBe('open')
    expect(cache.stats().skipped).toBeGreaterThan(0)

    redis.thaw()
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('v'), { timeout: 5000, interval: 50 })
    await cache.close()
  })

  it('survives Redis shutting down and coming back on the same port', async () => {
    const redis = await startRedisProcess()
    const cache = new Cache({ store: new RedisStore({ url: redis.url, timeout: 40 }), breaker: { failureThreshold: 3, breakDuration: 200 } })
    cache.on('error', () => {})
    await cache.set('k', 'v')
    await redis.stop()
    const down = await timed(() => cache.get('k'))
    expect(down.value).toBeUndefined()
    expect(down.ms).toBeLessThan(200)
    await redis.start()
    // The new server is empty: recovery means writes and reads work again.
    await vi.waitFor(async () => {
      await cache.set('k', 'again')
      expect(await cache.get('k')).toBe('again')
    }, { timeout: 8000, interval: 100 })
    await cache.close()
  })

  it('serves (as misses) from the first request when Redis is down at start', async () => {
    const redis = await startRedisProcess()
    await redis.stop()
    const cache = new Cache({ store: new RedisStore({ url: redis.url, timeout: 40 }) })
    cache.on('error', () => {})
    const first = await timed(() => cache.wrap('k', () => 'from the source'))
    expect(first.value).toBe('from the source')
    expect(first.ms).toBeLessThan(500)
    await cache.close()
  })
})

/**
 * cache-manager v7 on a cachewire Cache through KeyvCachewire: the round trip a cache-manager
 * user does (set/get/del/wrap/ttl/mget/mset/clear), and invalidations made on the cachewire side
 * reaching cache-manager readers. The same on a real Redis is in test/integration/keyv-redis.test.ts.
 */
import { Cache, MemoryStore } from '@cachewire/core'
import { createCache } from 'cache-manager'
import { Keyv } from 'keyv'
import { describe, expect, it } from 'vitest'
import { KeyvCachewire } from '../src/index.js'

function setup() {
  const cache = new Cache({ store: new MemoryStore() })
  const adapter = new KeyvCachewire(cache, { tags: (key) => [key.split(':')[0] as string] })
  const manager = createCache({
    stores: [new Keyv({ store: adapter, namespace: 'cm' })],
    ttl: 60_000,
  })
  return { cache, manager }
}

describe('cache-manager on a cachewire Cache', () => {
  it('round-trips set, get, ttl and del', async () => {
    const { manager } = setup()
    const before = Date.now()
    expect(await manager.set('user:1', { name: 'Ada' }, 30_000)).toEqual({ name: 'Ada' })
    expect(await manager.get('user:1')).toEqual({ name: 'Ada' })
    const expires = await manager.ttl('user:1')
    expect(expires).toBeGreaterThanOrEqual(before + 30_000)
    expect(expires).toBeLessThanOrEqual(Date.now() + 30_000)
    expect(await manager.del('user:1')).toBe(true)
    expect(await manager.get('user:1')).toBeUndefined()
  })

  it('round-trips mset, mget, mdel and clear', async () => {
    const { manager } = setup()
    await manager.mset<unknown>([
      { key: 'a:1', value: 1 },
      { key: 'a:2', value: 'two', ttl: 5_000 },
    ])
    expect(await manager.mget(['a:1', 'a:2', 'a:3'])).toEqual([1, 'two', undefined])
    expect(await manager.mdel(['a:1'])).toBe(true)
    expect(await manager.get('a:1')).toBeUndefined()
    await manager.clear()
    expect(await manager.get('a:2')).toBeUndefined()
  })

  it('runs wrap() loaders once per key and serves the cached value after', async () => {
    const { manager } = setup()
    let calls = 0
    const load = async (): Promise<{ n: number }> => {
      calls++
      await new Promise((resolve) => setTimeout(resolve, 10))
      return { n: 42 }
    }
    const results = await Promise.all(
      Array.from({ length: 20 }, () => manager.wrap('answer:1', load, 10_000))
    )
    expect(results.every((result) => result.n === 42)).toBe(true)
    expect(await manager.wrap('answer:1', load, 10_000)).toEqual({ n: 42 })
    expect(calls).toBe(1)
  })

  it('lets values expire by the TTL cache-manager gave them', async () => {
    const { manager } = setup()
    await manager.set('brief:1', 'v', 40)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await manager.get('brief:1')).toBeUndefined()
  })

  it('sees tags invalidated from the cachewire side', async () => {
    const { cache, manager } = setup()
    await manager.set('user:1', 'Ada')
    await manager.set('user:2', 'Grace')
    await manager.set('post:1', 'Hello')
    expect(await cache.invalidateTags(['user'])).toEqual({ status: 'applied', removed: 2 })
    expect(await manager.mget(['user:1', 'user:2', 'post:1'])).toEqual([
      undefined,
      undefined,
      'Hello',
    ])
  })

  it('sees its namespace invalidated and patterns deleted from the cachewire side', async () => {
    const { cache, manager } = setup()
    await manager.set('user:1', 'Ada')
    await manager.set('post:1', 'Hello')
    expect(await cache.namespace('cm').deletePattern('user:*')).toEqual({
      status: 'applied',
      removed: 1,
    })
    expect(await manager.get('user:1')).toBeUndefined()
    expect(await manager.get('post:1')).toBe('Hello')
    await cache.namespace('cm').invalidate()
    expect(await manager.get('post:1')).toBeUndefined()
  })
})

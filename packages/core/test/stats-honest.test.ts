import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'

describe('stats that add up', () => {
  it('counts 100 concurrent wrap callers of a cold key as 1 miss and 99 hits', async () => {
    const cache = new Cache()
    await Promise.all(
      Array.from({ length: 100 }, () =>
        cache.wrap('cold', async () => (await new Promise((r) => setTimeout(r, 10)), 1))
      )
    )
    expect(cache.stats()).toMatchObject({ misses: 1, hits: 99 })
  })

  it('counts expirations apart from evictions, and leaves expired entries out of entries and bytes', async () => {
    // Not 0: lru-cache reads a start time of 0 as "no TTL".
    let now = 1000
    const store = new MemoryStore({ clock: () => now, maxBytes: 4096, maxEntryBytes: 1024 })
    const cache = new Cache({ store, clock: () => now })
    await cache.set('short', 'x', { ttl: '1s' })
    await cache.set('long', 'y', { ttl: '1h' })
    now = 3000
    expect(cache.stats()).toMatchObject({ entries: 1, expirations: 1, evictions: 0 })
    // Room-making removals of live entries are evictions.
    for (let i = 0; i < 20; i++) await cache.set(`fill:${i}`, 'z'.repeat(300), { ttl: '1h' })
    const stats = cache.stats()
    expect(stats.evictions).toBeGreaterThan(0)
    expect(stats.expirations).toBe(1)
  })

  it('counts an expired entry pushed out to make room as an expiration, not an eviction', async () => {
    let now = 1000
    const store = new MemoryStore({ clock: () => now, maxBytes: 2048, maxEntryBytes: 1024 })
    await store.set('old', Buffer.alloc(500), { ttlMs: 1000 })
    now = 5000
    for (let i = 0; i < 6; i++) await store.set(`new:${i}`, Buffer.alloc(500), { ttlMs: 60_000 })
    const size = store.size()
    expect(size.expirations).toBe(1)
  })

  it('oldest, newest and cleanupExpired, per namespace', async () => {
    let now = 1_000
    const cache = new Cache({ store: new MemoryStore({ clock: () => now }), clock: () => now })
    const users = cache.namespace('users')
    await users.set('a', 1, { ttl: '1s' })
    now += 10
    await users.set('b', 2)
    await cache.set('root', 3)
    expect(await users.oldest()).toMatchObject({ key: 'a', storedAt: 1_000, expiresAt: 2_000 })
    expect(await users.newest()).toMatchObject({ key: 'b' })
    now += 5_000
    expect(await cache.cleanupExpired()).toBe(1)
    expect((await users.oldest())?.key).toBe('b')
  })

  it('ttl(key) without reading the value; add and replace', async () => {
    const cache = new Cache()
    expect(await cache.add('k', 1, { ttl: '1m' })).toBe(true)
    expect(await cache.add('k', 2)).toBe(false)
    expect(await cache.replace('k', 3, { ttl: '2m' })).toBe(true)
    const ttl = (await cache.ttl('k')) as number
    expect(ttl).toBeGreaterThan(100_000)
    expect(await cache.ttl('nope')).toBeUndefined()
  })

  it('namespace invalidation resolves how many entries went; sweep: false leaves them to age out', async () => {
    const cache = new Cache()
    const ns = cache.namespace('n')
    await ns.set('a', 1)
    await ns.namespace('m').set('b', 2)
    expect(await ns.invalidate()).toEqual({ status: 'applied', removed: 2 })
    await ns.set('c', 1)
    expect(await ns.invalidate({ sweep: false })).toEqual({ status: 'applied', removed: 0 })
    expect(await ns.get('c')).toBeUndefined()
  })
})

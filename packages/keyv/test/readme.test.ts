/**
 * The README's snippets, run as written (memory-backed; the Redis forms are exercised in
 * test/integration/keyv-redis.test.ts). If one changes here, change it in README.md too.
 */
import { Cache } from '@cachewire/core'
import { createCache } from 'cache-manager'
import { Keyv } from 'keyv'
import { describe, expect, it } from 'vitest'
import { KeyvCachewire, KeyvStore } from '../src/index.js'

describe('README', () => {
  it('cache-manager on a cachewire Cache', async () => {
    const cache = new Cache({ defaultTtl: '10m' })
    const store = new KeyvCachewire(cache, {
      tags: (key) => (key.startsWith('user:') ? ['users'] : []),
    })
    const manager = createCache({ stores: [new Keyv({ store, namespace: 'app' })], ttl: 60_000 })

    await manager.set('user:1', { name: 'Ada' })
    await manager.wrap('user:2', async () => ({ name: 'Grace' }), 30_000)

    // From the cachewire side: tags, namespaces, patterns.
    await cache.invalidateTags(['users']) // both users gone for cache-manager too
    await cache.namespace('app').deletePattern('report:*')
    await cache.namespace('app').invalidate() // what manager.clear() does

    expect(await manager.mget(['user:1', 'user:2'])).toEqual([undefined, undefined])
  })

  it('a cachewire Cache on a Keyv store', async () => {
    const keyv = new Keyv({ namespace: 'app', throwOnErrors: true })
    const cache = new Cache({ store: new KeyvStore(keyv, { timeout: '200ms' }) })

    await cache.set('user:1', { name: 'Ada' }, { ttl: '1m', tags: ['users'] })
    await cache.wrap('user:2', async () => ({ name: 'Grace' }), { ttl: '30s', tags: ['users'] })
    await cache.increment('visits', 1, { ttl: '1h' })
    await cache.invalidateTags(['users'])
    await cache.deletePattern('visit*')

    expect(await cache.get('user:1')).toBeUndefined()
    expect(await cache.get('visits')).toBeUndefined()
  })

  it('from cache-manager', async () => {
    // Before: cache-manager with its own in-memory Keyv.
    const before = createCache({ stores: [new Keyv()], ttl: 60_000 })
    await before.set('user:1', { name: 'Ada' })

    // After, step 1: the same cache-manager calls, on cachewire.
    const cache = new Cache({ defaultTtl: '1m' })
    const manager = createCache({
      stores: [new Keyv({ store: new KeyvCachewire(cache) })],
      ttl: 60_000,
    })
    await manager.set('user:1', { name: 'Ada' })
    const user = await manager.wrap('user:1', async () => ({ name: 'Ada' }))

    // After, step 2: cachewire's own API, call site by call site.
    await cache.set('user:1', { name: 'Ada' }, { ttl: '1m', tags: ['users'] }) // manager.set(key, value, 60_000)
    await cache.get('user:1') // manager.get(key)
    await cache.wrap('user:1', async () => ({ name: 'Ada' }), { ttl: '1m' }) // manager.wrap(key, fn, 60_000)
    await cache.delete('user:1') // manager.del(key)

    expect(user).toEqual({ name: 'Ada' })
    expect(await before.get('user:1')).toEqual({ name: 'Ada' })
  })
})

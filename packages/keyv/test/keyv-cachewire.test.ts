import { Cache, InvalidOptionError, MemoryStore, StoreError, type Store } from '@cachewire/core'
import { Keyv, type KeyvStoreAdapter } from 'keyv'
import { describe, expect, it } from 'vitest'
import { KeyvCachewire } from '../src/index.js'

/** A MemoryStore whose reads can be made to fail: a real store with an injected fault. */
class FlakyStore extends MemoryStore {
  failing = false
  override async get(key: string): Promise<Uint8Array | undefined> {
    if (this.failing) throw new Error('flaky: read failed')
    return super.get(key)
  }
  // The cache reads a memory store synchronously when it can: fail that read too.
  override getSync(key: string): Uint8Array | undefined {
    if (this.failing) throw new Error('flaky: read failed')
    return super.getSync(key)
  }
}

function setup(
  options: ConstructorParameters<typeof KeyvCachewire>[1] = {},
  keyvOptions: Record<string, unknown> = {}
) {
  const store = new MemoryStore()
  const cache = new Cache({ store })
  const adapter = new KeyvCachewire(cache, options)
  const keyv = new Keyv({ store: adapter, ...keyvOptions })
  const ttls = new Map<string, number>()
  cache.on('set', (event) => ttls.set(event.key, event.ttlMs))
  return { store, cache, adapter, keyv, ttls }
}

describe('KeyvCachewire', () => {
  describe('namespaces', () => {
    it("maps Keyv's namespace onto cache.namespace(name)", async () => {
      const { cache, keyv } = setup()
      await keyv.set('user:1', { name: 'Ada' })
      expect(await cache.namespace('keyv').has('user:1')).toBe(true)
      expect(await cache.has('keyv:user:1')).toBe(false)
    })

    it('sees a namespace invalidated from the cachewire side', async () => {
      const { cache, keyv } = setup({}, { namespace: 'sessions' })
      await keyv.set('s1', 'alive')
      await cache.namespace('sessions').invalidate()
      expect(await keyv.get('s1')).toBeUndefined()
    })

    it('clears only its namespace, in O(1), on keyv.clear()', async () => {
      const { cache, keyv } = setup()
      await cache.set('outside', 1)
      await keyv.set('inside', 2)
      await keyv.clear()
      expect(await keyv.get('inside')).toBeUndefined()
      expect(await cache.get('outside')).toBe(1)
    })

    it('follows a namespace changed after construction', async () => {
      const { cache, keyv } = setup()
      keyv.namespace = 'other'
      await keyv.set('k', 'v')
      expect(await cache.namespace('other').has('k')).toBe(true)
    })

    it('without a Keyv namespace, keeps keys as given and clear() clears the cache it was given', async () => {
      const { cache, keyv } = setup({}, { namespace: undefined })
      await keyv.set('plain', 'v')
      expect(await cache.has('plain')).toBe(true)
      await keyv.clear()
      expect(await cache.has('plain')).toBe(false)

      const root = new Cache()
      const view = root.namespace('legacy')
      const scoped = new Keyv({ store: new KeyvCachewire(view), namespace: undefined })
      await root.set('kept', 1)
      await scoped.set('dropped', 2)
      await scoped.clear()
      expect(await scoped.get('dropped')).toBeUndefined()
      expect(await root.get('kept')).toBe(1)
    })
  })

  describe('TTLs', () => {
    it("passes Keyv's milliseconds through as the entry's TTL", async () => {
      const { keyv, ttls } = setup()
      await keyv.set('short', 'v', 1_500)
      await keyv.set('tiny', 'v', 5)
      expect(ttls.get('short')).toBe(1_500)
      expect(ttls.get('tiny')).toBe(5)
    })

    it('gives values set without a TTL the adapter defaultTtl, else the cache default', async () => {
      const withDefault = setup({ defaultTtl: '1h' })
      await withDefault.keyv.set('forever', 'v')
      expect(withDefault.ttls.get('forever')).toBe(3_600_000)
      const cacheDefault = setup()
      await cacheDefault.keyv.set('forever', 'v')
      expect(cacheDefault.ttls.get('forever')).toBe(300_000)
    })

    it('expires values when the TTL runs out', async () => {
      const { keyv } = setup()
      await keyv.set('gone', 'v', 30)
      await new Promise((resolve) => setTimeout(resolve, 80))
      expect(await keyv.get('gone')).toBeUndefined()
      expect(await keyv.has('gone')).toBe(false)
    })
  })

  describe('tags', () => {
    it('files values under the tags computed from their key, for cache.invalidateTags', async () => {
      const { cache, keyv } = setup({
        tags: (key, namespace) => [key.split(':')[0] as string, `ns:${namespace}`],
      })
      await keyv.set('user:1', 'Ada')
      await keyv.set('user:2', 'Grace')
      await keyv.set('post:1', 'Hello')
      expect(await cache.invalidateTags(['user'])).toEqual({ status: 'applied', removed: 2 })
      expect(await keyv.get('user:1')).toBeUndefined()
      expect(await keyv.get('post:1')).toBe('Hello')
      expect(await cache.invalidateTags(['ns:keyv'])).toEqual({ status: 'applied', removed: 1 })
      expect(await keyv.get('post:1')).toBeUndefined()
    })
  })

  describe('many at once', () => {
    it('reads, writes, checks and deletes several keys', async () => {
      const { keyv } = setup()
      expect(
        await keyv.setMany([
          { key: 'a', value: 1 },
          { key: 'b', value: 2, ttl: 60_000 },
        ])
      ).toEqual([true, true])
      expect(await keyv.getMany(['a', 'b', 'c'])).toEqual([1, 2, undefined])
      expect(await keyv.hasMany(['a', 'c'])).toEqual([true, false])
      expect(await keyv.deleteMany(['a', 'c'])).toBe(true)
      expect(await keyv.deleteMany(['a', 'c'])).toBe(false)
      expect(await keyv.get('b')).toBe(2)
    })
  })

  describe('values', () => {
    it('stores what Keyv hands over, serialized or raw', async () => {
      const serialized = setup()
      await serialized.keyv.set('buf', Buffer.from([0, 255]))
      expect(await serialized.keyv.get('buf')).toEqual(Buffer.from([0, 255]))
      expect(typeof (await serialized.cache.namespace('keyv').get('buf'))).toBe('string')

      const raw = setup({}, { serialize: undefined, deserialize: undefined })
      await raw.keyv.set('obj', { list: [1, 'two'] }, 60_000)
      expect(await raw.keyv.get('obj')).toEqual({ list: [1, 'two'] })
      expect(await raw.keyv.getRaw('obj')).toMatchObject({
        value: { list: [1, 'two'] },
        expires: expect.any(Number),
      })
    })
  })

  describe('errors', () => {
    it("forwards the cache's errors to Keyv while someone listens, and stops on disconnect()", async () => {
      const store = new FlakyStore()
      const cache = new Cache({ store: store as Store })
      const keyv = new Keyv({ store: new KeyvCachewire(cache) })
      const seen: unknown[] = []
      keyv.on('error', (error: unknown) => seen.push(error))
      await keyv.set('k', 'v')
      store.failing = true
      expect(await keyv.get('k')).toBeUndefined()
      expect(seen).toHaveLength(1)
      expect(seen[0]).toBeInstanceOf(StoreError)
      await keyv.disconnect()
      expect(await keyv.get('k')).toBeUndefined()
      expect(seen).toHaveLength(1)
    })

    it('adds no listener to the cache until someone listens for errors', async () => {
      const store = new FlakyStore()
      const cache = new Cache({ store: store as Store })
      const adapter = new KeyvCachewire(cache)
      store.failing = true
      // With no listener anywhere, a cache error must not become an unhandled 'error' event.
      expect(await adapter.get('k')).toBeUndefined()
      const seen: unknown[] = []
      const listener = (error: unknown): void => void seen.push(error)
      adapter.on('error', listener)
      await adapter.get('k')
      adapter.off('error', listener)
      await adapter.get('k')
      expect(seen).toHaveLength(1)
    })
  })

  describe('options', () => {
    it('refuses something that is not a Cache', () => {
      expect(() => new KeyvCachewire(new MemoryStore() as never)).toThrow(InvalidOptionError)
      expect(() => new KeyvCachewire(undefined as never)).toThrow(
        /options\.cache to be a cachewire Cache/
      )
    })

    it('refuses unknown options and bad values, naming them', () => {
      const cache = new Cache()
      expect(() => new KeyvCachewire(cache, { tag: () => [] } as never)).toThrow(
        /options\.tag .*did you mean "tags"/
      )
      expect(() => new KeyvCachewire(cache, { defaultTtl: 60 })).toThrow(/options\.defaultTtl/)
      expect(() => new KeyvCachewire(cache, { tags: ['users'] as never })).toThrow(/options\.tags/)
    })
  })
})

describe('KeyvCachewire types', () => {
  it("is a Keyv storage adapter by Keyv's own type", () => {
    const adapter: KeyvStoreAdapter = new KeyvCachewire(new Cache())
    expect(typeof adapter.get).toBe('function')
  })
})

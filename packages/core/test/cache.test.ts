import { describe, expect, it, vi } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import {
  CachewireError,
  DecodeError,
  InvalidArgumentError,
  InvalidOptionError,
  SerializationError,
  StoreError,
} from '../src/errors.js'
import { parseDuration } from '../src/duration.js'
import { globToRegExp } from '../src/glob.js'
import { ChaosStore } from './chaos-store.js'

describe('Cache', () => {
  describe('TTLs', () => {
    it.each([
      [1500, 1500],
      ['500ms', 500],
      ['30s', 30_000],
      ['5m', 300_000],
      ['1.5h', 5_400_000],
      ['2 d', 172_800_000],
      ['5 minutes', 300_000],
      ['90 Seconds', 90_000],
    ] as const)('reads %j as %i ms', (input, ms) => {
      expect(parseDuration(input, 'ttl')).toBe(ms)
    })

    it.each([0, -5, Number.NaN, '5 fortnights', '', 'm5', '0s'])(
      'rejects %j naming the option',
      (input) => {
        expect(() => parseDuration(input as never, 'defaultTtl')).toThrow(/options\.defaultTtl/)
      }
    )

    it('applies the default TTL when none is given', async () => {
      let now = 10_000
      const cache = new Cache({ store: new MemoryStore({ clock: () => now }), defaultTtl: '1s' })
      await cache.set('k', 1)
      now = 10_999
      expect(await cache.get('k')).toBe(1)
      now = 11_001
      expect(await cache.get('k')).toBeUndefined()
    })
  })

  describe('options', () => {
    it('rejects a store missing methods', () => {
      expect(() => new Cache({ store: { name: 'x' } as never })).toThrow(InvalidOptionError)
    })
    it('rejects a bad default TTL by name', () => {
      expect(() => new Cache({ defaultTtl: 'soon' as never })).toThrow(/options\.defaultTtl/)
    })
  })

  describe('arguments', () => {
    it('rejects empty keys, undefined values and reserved keys', async () => {
      const cache = new Cache()
      await expect(cache.get('')).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.set('k', undefined)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.set('@cachewire/ns:x', 1)).rejects.toBeInstanceOf(InvalidArgumentError)
      // A value no serializer can hold is refused (a BigInt, refused by the old JSON-only codec, now round-trips).
      await expect(cache.set('k', () => 1)).rejects.toBeInstanceOf(SerializationError)
    })

    it('rejects bad writes through the returned promise, never by throwing at the call', async () => {
      const cache = new Cache()
      const calls: Array<[() => Promise<boolean>, new (...args: never[]) => Error]> = [
        [() => cache.set('', 1), InvalidArgumentError],
        [() => cache.add('k', undefined), InvalidArgumentError],
        [() => cache.replace('k', 1, { ttl: 60 }), InvalidOptionError],
        [() => cache.set('k', 1, { tll: '1m' } as never), InvalidOptionError],
        [() => cache.set('k', 1, { tags: [''] }), InvalidArgumentError],
        [() => cache.add('k', () => 1), SerializationError],
      ]
      for (const [call, refusal] of calls) {
        let pending: Promise<boolean> | undefined
        expect(() => (pending = call())).not.toThrow()
        await expect(pending).rejects.toBeInstanceOf(refusal)
      }
    })
  })

  describe('when the store fails', () => {
    it('turns reads into misses, writes into false, and emits typed errors', async () => {
      const store = new ChaosStore(new MemoryStore())
      const cache = new Cache({ store })
      const errors: Error[] = []
      cache.on('error', (error) => errors.push(error))
      await cache.set('k', 1)
      store.failing = true
      expect(await cache.get('k')).toBeUndefined()
      expect(await cache.set('k', 2)).toBe(false)
      expect(await cache.has('k')).toBe(false)
      expect(await cache.increment('n')).toBeUndefined()
      expect(await cache.invalidateTags(['t'])).toEqual({ status: 'queued', removed: 0 })
      expect(errors.length).toBe(5)
      expect(errors[0]).toBeInstanceOf(StoreError)
      expect(cache.stats()).toMatchObject({ errors: 5, misses: 1 })
    })

    it('does not crash when nobody listens for errors', async () => {
      const store = new ChaosStore(new MemoryStore())
      store.failing = true
      const cache = new Cache({ store })
      await expect(cache.get('k')).resolves.toBeUndefined()
    })

    it('never asks the store to skip itself: breakers live in stores that need them (RedisStore)', async () => {
      const store = new ChaosStore(new MemoryStore())
      store.failing = true
      const cache = new Cache({ store })
      for (let i = 0; i < 10; i++) await cache.get('k')
      expect(store.calls).toBe(10)
      expect(cache.stats()).toMatchObject({
        breaker: 'closed',
        breakers: [],
        errors: 10,
        skipped: 0,
      })
      store.failing = false
      await cache.set('k', 'back')
      expect(await cache.get('k')).toBe('back')
    })
  })

  describe('when a stored value cannot be decoded', () => {
    it('is a miss, emits DecodeError and deletes the value', async () => {
      const store = new MemoryStore()
      const cache = new Cache({ store })
      const errors: Error[] = []
      cache.on('error', (error) => errors.push(error))
      await store.set('bad', Buffer.from('{not json'), { ttlMs: 10_000 })
      expect(await cache.get('bad')).toBeUndefined()
      expect(errors[0]).toBeInstanceOf(DecodeError)
      expect(errors[0]).toBeInstanceOf(CachewireError)
      expect(await store.has('bad')).toBe(false)
    })

    it('never pollutes prototypes from stored JSON', async () => {
      const store = new MemoryStore()
      const cache = new Cache({ store })
      await store.set('evil', Buffer.from('{"__proto__":{"polluted":true}}'), { ttlMs: 10_000 })
      const value = await cache.get<Record<string, unknown>>('evil')
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    })
  })

  describe('events and stats', () => {
    it('tells hit and miss listeners as they come and go, once ones included', async () => {
      const cache = new Cache()
      await cache.set('k', 'v')
      const seen: string[] = []
      await cache.get('k')
      const first = (): number => seen.push('first')
      const second = (): number => seen.push('second')
      cache
        .on('hit', first)
        .on('hit', second)
        .once('miss', () => seen.push('once'))
      await cache.get('k')
      cache.off('hit', first)
      await cache.get('k')
      await cache.get('absent')
      await cache.get('absent')
      cache.off('hit', second)
      expect(cache.readSync('k')).toEqual({ value: 'v' })
      cache.once('hit', () => seen.push('again'))
      await cache.get('k')
      await cache.get('k')
      expect(seen).toEqual(['first', 'second', 'second', 'once', 'again'])
      expect(cache.stats()).toMatchObject({ hits: 6, misses: 2 })
    })

    it('emits hit, miss, set and delete and counts them', async () => {
      const cache = new Cache()
      const seen: string[] = []
      for (const event of ['hit', 'miss', 'set', 'delete'] as const)
        cache.on(event, () => seen.push(event))
      await cache.get('k')
      await cache.set('k', 'v')
      await cache.get('k')
      await cache.delete('k')
      expect(seen).toEqual(['miss', 'set', 'hit', 'delete'])
      expect(cache.stats()).toMatchObject({
        hits: 1,
        misses: 1,
        hitRate: 0.5,
        sets: 1,
        deletes: 1,
        entries: 0,
      })
    })

    it('reports entries and bytes from the memory store', async () => {
      const cache = new Cache()
      await cache.set('k', 'x'.repeat(1000))
      const stats = cache.stats()
      expect(stats.entries).toBe(1)
      expect(stats.bytes).toBeGreaterThan(1000)
    })
  })

  describe('tags and patterns', () => {
    it('invalidates by tag across namespaces', async () => {
      const cache = new Cache()
      await cache.set('a', 1, { tags: ['t'] })
      await cache.namespace('n').set('b', 2, { tags: ['t'] })
      expect(await cache.invalidateTags(['t'])).toEqual({ status: 'applied', removed: 2 })
      expect(await cache.namespace('n').get('b')).toBeUndefined()
    })

    it('deletes by pattern only inside a namespace', async () => {
      const cache = new Cache()
      const ns = cache.namespace('n')
      await ns.set('user:1', 1)
      await cache.set('user:1', 1)
      expect(await ns.deletePattern('user:*')).toEqual({ status: 'applied', removed: 1 })
      expect(await cache.get('user:1')).toBe(1)
    })

    it('treats glob characters in a namespace name literally', async () => {
      const cache = new Cache()
      await cache.namespace('a*').set('k', 1)
      await cache.namespace('ab').set('k', 1)
      expect(await cache.namespace('a*').deletePattern('*')).toEqual({
        status: 'applied',
        removed: 1,
      })
      expect(await cache.namespace('ab').get('k')).toBe(1)
    })

    it('compiles Redis-style globs for the memory store', () => {
      expect(globToRegExp('user:*').test('user:42')).toBe(true)
      expect(globToRegExp('user:?').test('user:42')).toBe(false)
      expect(globToRegExp('h[ae]llo').test('hallo')).toBe(true)
      expect(globToRegExp('h[^e]llo').test('hello')).toBe(false)
      expect(globToRegExp('a\\*b').test('a*b')).toBe(true)
      expect(globToRegExp('a\\*b').test('axb')).toBe(false)
    })
  })

  describe('wrap (cache-aside)', () => {
    it('hands a loader error to every waiter and caches nothing', async () => {
      const cache = new Cache()
      const loader = vi.fn(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        throw new Error('db down')
      })
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => cache.wrap('k', loader))
      )
      expect(loader).toHaveBeenCalledTimes(1)
      expect(
        results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'db down')
      ).toBe(true)
      expect(await cache.has('k')).toBe(false)
      await expect(cache.wrap('k', async () => 'ok')).resolves.toBe('ok')
    })

    it('serves a cached value without calling the loader', async () => {
      const cache = new Cache()
      await cache.set('k', 'cached')
      const loader = vi.fn(async () => 'loaded')
      expect(await cache.getOrSet('k', loader)).toBe('cached')
      expect(loader).not.toHaveBeenCalled()
    })

    it('skips caching when cacheIf says no', async () => {
      const cache = new Cache()
      await cache.wrap('k', async () => ({ ok: false }), { cacheIf: (v) => v.ok })
      await new Promise((resolve) => setTimeout(resolve, 5))
      expect(await cache.has('k')).toBe(false)
    })

    it('still loads when the store is down', async () => {
      const store = new ChaosStore(new MemoryStore())
      store.failing = true
      const cache = new Cache({ store })
      expect(await cache.wrap('k', () => 7)).toBe(7)
    })

    it('wraps a function with cached()', async () => {
      const cache = new Cache()
      const fn = vi.fn(async (id: number) => ({ id }))
      const getUser = cache.cached(fn, {
        key: (id) => `user:${id}`,
        ttl: '1m',
        tags: (id) => [`user:${id}`],
      })
      expect(await getUser(1)).toEqual({ id: 1 })
      await new Promise((resolve) => setTimeout(resolve, 5))
      expect(await getUser(1)).toEqual({ id: 1 })
      expect(fn).toHaveBeenCalledTimes(1)
      await cache.invalidateTags(['user:1'])
      await getUser(1)
      expect(fn).toHaveBeenCalledTimes(2)
    })

    it("tags each call of a cached() function with that call's own tags, or the fixed list", async () => {
      const cache = new Cache()
      const byCall = vi.fn(async (id: number) => ({ id }))
      const getUser = cache.cached(byCall, {
        key: (id) => `user:${id}`,
        tags: (id) => [`user:${id}`],
      })
      const fixed = vi.fn(async (id: number) => ({ id }))
      const getOrder = cache.cached(fixed, { key: (id) => `order:${id}`, tags: ['orders'] })
      await Promise.all([getUser(1), getUser(2), getOrder(1), getOrder(2)])
      await cache.invalidateTags(['user:2'])
      await Promise.all([getUser(1), getUser(2)])
      // Only the call tagged user:2 was dropped: the tags of one call do not carry to the next.
      expect(byCall.mock.calls.map(([id]) => id)).toEqual([1, 2, 2])
      await cache.invalidateTags(['orders'])
      await Promise.all([getOrder(1), getOrder(2)])
      expect(fixed).toHaveBeenCalledTimes(4)
    })
  })

  describe('writeThrough', () => {
    it('persists first, then caches', async () => {
      const cache = new Cache()
      const order: string[] = []
      cache.on('set', () => order.push('cache'))
      await cache.writeThrough('k', 1, async () => {
        order.push('persist')
      })
      expect(order).toEqual(['persist', 'cache'])
      expect(await cache.get('k')).toBe(1)
    })

    it('leaves the cache unchanged and rethrows when persist fails', async () => {
      const cache = new Cache()
      await cache.set('k', 'old')
      await expect(
        cache.writeThrough('k', 'new', async () => Promise.reject(new Error('db')))
      ).rejects.toThrow('db')
      expect(await cache.get('k')).toBe('old')
    })
  })
})

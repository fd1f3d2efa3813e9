import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TieredStore } from '../src/stores/tiered-store.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { Cache } from '../src/cache.js'
import { defineStoreContract } from '../src/testing.js'
import type { Bus, InvalidationMessage } from '../src/types.js'
import { ChaosStore } from './chaos-store.js'

/** An in-process bus: every subscriber but the sender gets each message, as with Redis pub/sub. */
class LocalBus {
  readonly #handlers = new Map<object, (message: InvalidationMessage) => void>()
  member(): Bus {
    const self = {}
    return {
      publish: async (message) => {
        for (const [owner, handler] of this.#handlers) if (owner !== self) handler(message)
      },
      subscribe: async (handler) => void this.#handlers.set(self, handler),
    }
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5))

function pair(): { a: TieredStore; b: TieredStore; l2: ChaosStore } {
  const l2 = new ChaosStore(new MemoryStore())
  const bus = new LocalBus()
  const a = new TieredStore({ l2, bus: bus.member() })
  const b = new TieredStore({ l2, bus: bus.member() })
  return { a, b, l2 }
}

defineStoreContract({
  name: 'TieredStore (memory over memory)',
  create: () => new TieredStore({ l2: new MemoryStore() }),
  runner: { describe, it, beforeEach, afterEach },
  capabilities: { conditionalSet: true, rateWindows: true, ttl: true, measure: true },
})

describe('TieredStore', () => {
  it('serves a repeated read from L1 without asking L2', async () => {
    const { a, l2 } = pair()
    await a.start()
    await a.set('k', Buffer.from('v'), { ttlMs: 60_000 })
    const calls = l2.calls
    await a.get('k')
    await a.get('k')
    expect(l2.calls).toBe(calls)
  })

  it('evicts a peer L1 copy when a key is overwritten', async () => {
    const { a, b } = pair()
    await Promise.all([a.start(), b.start()])
    await a.set('k', Buffer.from('one'), { ttlMs: 60_000 })
    expect(Buffer.from((await b.get('k')) as Uint8Array).toString()).toBe('one')
    await a.set('k', Buffer.from('two'), { ttlMs: 60_000 })
    await settle()
    expect(Buffer.from((await b.get('k')) as Uint8Array).toString()).toBe('two')
  })

  it('evicts a peer L1 copy on a tag invalidation, even though the peer read it untagged from L2', async () => {
    const { a, b } = pair()
    await Promise.all([a.start(), b.start()])
    await a.set('k', Buffer.from('v'), { ttlMs: 60_000, tags: ['t'] })
    await b.get('k')
    expect(await a.invalidateTags(['t'])).toBe(1)
    await settle()
    expect(await b.get('k')).toBeUndefined()
  })

  it('evicts peer copies on pattern deletes and clear', async () => {
    const { a, b } = pair()
    await Promise.all([a.start(), b.start()])
    await a.set('user:1', Buffer.from('v'), { ttlMs: 60_000 })
    await b.get('user:1')
    await a.deletePattern('user:*')
    await settle()
    expect(await b.get('user:1')).toBeUndefined()
  })

  it('invalidates a namespace for the peer through its L1', async () => {
    const { a, b } = pair()
    await Promise.all([a.start(), b.start()])
    const cacheA = new Cache({ store: a })
    const cacheB = new Cache({ store: b })
    await cacheA.namespace('n').set('k', 1)
    expect(await cacheB.namespace('n').get('k')).toBe(1)
    await cacheA.namespace('n').invalidate()
    await settle()
    expect(await cacheB.namespace('n').get('k')).toBeUndefined()
  })

  it('keeps serving L1 copies while L2 is down', async () => {
    const { a, l2 } = pair()
    await a.set('k', Buffer.from('v'), { ttlMs: 60_000 })
    l2.failing = true
    expect(Buffer.from((await a.get('k')) as Uint8Array).toString()).toBe('v')
    await expect(a.get('other')).rejects.toThrow()
  })

  it('caps an L1 copy at l1MaxTtl', async () => {
    let now = 10_000
    const l1 = new MemoryStore({ clock: () => now })
    const store = new TieredStore({ l1, l2: new MemoryStore(), l1MaxTtl: '100ms' })
    await store.set('k', Buffer.from('v'), { ttlMs: 60_000 })
    now += 101
    expect(await l1.get('k')).toBeUndefined()
    expect(await store.get('k')).toBeDefined()
  })

  it('drops its own L1 copy, read untagged from L2, when a tag is invalidated', async () => {
    const { a, b } = pair()
    await b.set('k', Buffer.from('v'), { ttlMs: 60_000, tags: ['t'] })
    expect(await a.get('k')).toBeDefined()
    expect(await a.l1.get('k')).toBeDefined()
    expect(await a.invalidateTags(['t'])).toBe(1)
    expect(await a.l1.get('k')).toBeUndefined()
  })

  it('drops its L1 copies at once when L2 cannot take a tag invalidation, and the queue applies it later', async () => {
    const { a, l2 } = pair()
    const cache = new Cache({ store: a })
    cache.on('error', () => {})
    await cache.set('tagged', 1, { tags: ['t'] })
    await l2.set('untagged-copy', Buffer.from('2'), { ttlMs: 60_000, tags: ['t'] })
    expect(await cache.get('untagged-copy')).toBe(2)
    l2.failOnly = new Set(['invalidateTags'])
    l2.failing = true
    expect(await cache.invalidateTags(['t'])).toEqual({ status: 'queued', removed: 0 })
    // Which L1 copies carry the tag only L2 knows: L1 is emptied, so nothing purged is served here.
    expect(await a.l1.get('tagged')).toBeUndefined()
    expect(await a.l1.get('untagged-copy')).toBeUndefined()
    // L1 keeps serving what is written afterwards.
    await cache.set('after', 3)
    expect(await a.l1.get('after')).toBeDefined()
    l2.failing = false
    expect((await cache.whenIdle()).drained).toBe(true)
    expect(await l2.get('tagged')).toBeUndefined()
    expect(await l2.get('untagged-copy')).toBeUndefined()
  })

  it('drops its whole L1 when the bus reconnects (messages may have been missed)', async () => {
    let reconnect: () => void = () => {}
    const bus: Bus = {
      publish: async () => {},
      subscribe: async (_handler, onReconnect) => void (reconnect = onReconnect ?? reconnect),
    }
    const store = new TieredStore({ l2: new MemoryStore(), bus })
    await store.start()
    await store.set('k', Buffer.from('v'), { ttlMs: 60_000 })
    reconnect()
    await settle()
    expect(await store.l1.get('k')).toBeUndefined()
  })
})

describe('Cache.wrap with a fill lock', () => {
  it('runs the loader once across caches sharing one store', async () => {
    const store = new MemoryStore()
    const caches = [new Cache({ store }), new Cache({ store }), new Cache({ store })]
    let calls = 0
    const loader = async (): Promise<string> => {
      calls++
      await new Promise((resolve) => setTimeout(resolve, 50))
      return 'value'
    }
    const results = await Promise.all(
      caches.map((cache) => cache.wrap('k', loader, { lock: { ttl: '5s', wait: '2s' } }))
    )
    expect(results).toEqual(['value', 'value', 'value'])
    expect(calls).toBe(1)
  })

  it('fails open after the wait when the lock holder never writes', async () => {
    const store = new MemoryStore()
    const cache = new Cache({ store })
    const held = await cache.acquireLock('fill:k', { ttl: '10s' })
    expect(held).toBeDefined()
    expect(await cache.wrap('k', () => 'mine', { lock: { wait: 60 } })).toBe('mine')
  })

  it('lets only the owner release a lock', async () => {
    const cache = new Cache()
    const first = await cache.acquireLock('job')
    expect(await cache.acquireLock('job')).toBeUndefined()
    await first?.release()
    expect(await cache.acquireLock('job')).toBeDefined()
  })
})

describe('Cache.wrap with earlyRefresh (XFetch)', () => {
  it('refreshes a hot key in the background when expiry is near', async () => {
    let now = 10_000
    // rand is injected so that the test does not fail one run in a thousand.
    const cache = new Cache({ store: new MemoryStore({ clock: () => now }), random: () => 0.5 })
    let version = 0
    const loader = async (): Promise<number> => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      return ++version
    }
    expect(await cache.wrap('k', loader, { ttl: 1000, earlyRefresh: 1 })).toBe(1)
    await settle()
    // 1 ms before expiry, with a 20 ms loader and beta 50: -delta * beta * ln(rand) >= 1 for any
    // rand up to 0.999, so for the injected 0.5.
    now += 999
    expect(await cache.wrap('k', loader, { ttl: 1000, earlyRefresh: 50 })).toBe(1)
    await vi.waitFor(async () => expect(await cache.get('k')).toBe(2), {
      timeout: 5000,
      interval: 10,
    })
  })

  it('does not refresh far from expiry', async () => {
    const cache = new Cache()
    let calls = 0
    const loader = async (): Promise<number> => ++calls
    await cache.wrap('k', loader, { ttl: '1h', earlyRefresh: true })
    await settle()
    for (let i = 0; i < 50; i++) await cache.wrap('k', loader, { ttl: '1h', earlyRefresh: true })
    expect(calls).toBe(1)
  })
})

import { describe, expect, it, vi } from 'vitest'
import { Cache } from '../src/cache.js'
import { InvalidArgumentError, QueueFullError } from '../src/errors.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import type { CacheEvents } from '../src/types.js'
import { ChaosStore } from './chaos-store.js'

/** A cache over a store that refuses invalidations (and whatever else `failOnly` names) while `failing`. */
function refusing(
  methods: readonly string[] = ['delete', 'invalidateTags', 'deletePattern', 'clear', 'set']
): { cache: Cache; store: ChaosStore; inner: MemoryStore } {
  const inner = new MemoryStore()
  const store = new ChaosStore(inner)
  store.failOnly = new Set(methods)
  const cache = new Cache({ store, invalidationQueue: { closeTimeout: '3s' } })
  cache.on('error', () => {})
  return { cache, store, inner }
}

function collect<K extends keyof CacheEvents>(cache: Cache, event: K): Array<CacheEvents[K][0]> {
  const seen: Array<CacheEvents[K][0]> = []
  cache.on(event, ((payload: CacheEvents[K][0]) => seen.push(payload)) as never)
  return seen
}

describe('invalidations when the store cannot take them', () => {
  it('queues a tag invalidation, says so, and applies it once the store is back', async () => {
    const { cache, store } = refusing()
    await cache.set('a', 1, { tags: ['t'] })
    await cache.set('b', 2, { tags: ['t'] })
    const queued = collect(cache, 'invalidation-queued')
    const applied = collect(cache, 'invalidation-applied')
    store.failing = true
    expect(await cache.invalidateTags(['t'])).toEqual({ status: 'queued', removed: 0 })
    expect(queued).toMatchObject([{ target: { kind: 'tags', tags: ['t'] }, queued: 1 }])
    expect(cache.stats()).toMatchObject({ queuedInvalidations: 1, pendingOperations: 1 })
    store.failing = false
    await vi.waitFor(() => expect(applied).toHaveLength(1), { timeout: 3000, interval: 20 })
    expect(applied[0]).toMatchObject({ target: { kind: 'tags', tags: ['t'] }, removed: 2 })
    expect(applied[0]?.attempts).toBeGreaterThanOrEqual(2)
    expect(await cache.get('a')).toBeUndefined()
    expect(cache.stats().queuedInvalidations).toBe(0)
  })

  it('retries in the background with retry: true, the first attempt without', async () => {
    const { cache, store } = refusing()
    store.failing = true
    await cache.delete('k')
    await vi.waitFor(() => expect(store.retries.length).toBeGreaterThanOrEqual(2), {
      timeout: 3000,
      interval: 20,
    })
    expect(store.retries[0]).toBe(false)
    expect(store.retries.slice(1).every(Boolean)).toBe(true)
    store.failing = false
    expect((await cache.whenIdle()).drained).toBe(true)
  })

  it('applies queued invalidations in the order they were asked for', async () => {
    const { cache, store } = refusing()
    const order: string[] = []
    cache.on('invalidation-applied', ({ target }) => order.push(target.kind))
    store.failing = true
    await cache.invalidateTags(['t'])
    await cache.delete('k')
    await cache.deletePattern('user:*')
    await cache.clear()
    store.failing = false
    expect(await cache.whenIdle()).toEqual({ drained: true, pending: 0 })
    expect(order).toEqual(['tags', 'delete', 'pattern', 'clear'])
  })

  it('an invalidation the store takes while others wait is applied, and drains the queue', async () => {
    const { cache, store } = refusing()
    const applied = collect(cache, 'invalidation-applied')
    store.failing = true
    await cache.invalidateTags(['first'])
    store.failing = false
    expect(await cache.invalidateTags(['second'])).toEqual({ status: 'applied', removed: 0 })
    await vi.waitFor(
      () =>
        expect(applied.map(({ target }) => target)).toEqual([{ kind: 'tags', tags: ['first'] }]),
      { timeout: 1000, interval: 5 }
    )
    expect(cache.stats().queuedInvalidations).toBe(0)
  })

  it('keeps one copy of the same invalidation asked again while queued', async () => {
    const { cache, store } = refusing()
    store.failing = true
    await cache.invalidateTags(['t', 'u'])
    expect(await cache.invalidateTags(['u', 't'])).toEqual({ status: 'queued', removed: 0 })
    expect(cache.stats().queuedInvalidations).toBe(1)
    store.failing = false
    await cache.whenIdle()
  })

  it('fails (and says why) when the queue is full', async () => {
    const store = new ChaosStore(new MemoryStore())
    store.failing = true
    const cache = new Cache({ store, invalidationQueue: { maxSize: 2, closeTimeout: 100 } })
    const errors = collect(cache, 'error')
    await cache.invalidateTags(['a'])
    await cache.invalidateTags(['b'])
    expect(await cache.invalidateTags(['c'])).toEqual({ status: 'failed', removed: 0 })
    expect(errors.some((error) => error instanceof QueueFullError)).toBe(true)
  })

  it('hides a queued delete and a queued pattern from reads here, while the store still answers reads', async () => {
    const { cache, store, inner } = refusing(['delete', 'deletePattern'])
    await cache.set('gone', 'stale')
    await cache.set('user:1', 'stale')
    await cache.set('kept', 'fresh')
    store.failing = true
    expect((await cache.delete('gone')).status).toBe('queued')
    expect((await cache.deletePattern('user:*')).status).toBe('queued')
    // The store still holds them and serves reads, but this cache was asked to purge them.
    expect(await inner.has('gone')).toBe(true)
    expect(await cache.get('gone')).toBeUndefined()
    expect(await cache.has('user:1')).toBe(false)
    expect(cache.readSync('gone')).toBeUndefined()
    expect(await cache.get('kept')).toBe('fresh')
    store.failing = false
    await cache.whenIdle()
    expect(await inner.has('gone')).toBe(false)
    expect(await inner.has('user:1')).toBe(false)
  })

  it('hides everything while a clear is queued', async () => {
    const { cache, store } = refusing(['clear'])
    await cache.set('k', 'v')
    store.failing = true
    expect((await cache.clear()).status).toBe('queued')
    expect(await cache.get('k')).toBeUndefined()
  })

  it('moves a namespace here at once when its new version cannot be written, and everywhere once it is', async () => {
    const inner = new MemoryStore()
    const store = new ChaosStore(inner)
    const cache = new Cache({ store })
    const peer = new Cache({ store: inner })
    cache.on('error', () => {})
    const users = cache.namespace('users')
    await users.set('1', 'old')
    expect(await peer.namespace('users').get('1')).toBe('old')
    store.failOnly = new Set(['set'])
    store.failing = true
    expect(await users.invalidate()).toEqual({ status: 'queued', removed: 0 })
    // This process moved; another view of the same namespace moved too.
    expect(await users.get('1')).toBeUndefined()
    expect(await cache.namespace('users').get('1')).toBeUndefined()
    // Others have not heard yet.
    expect(await peer.namespace('users').get('1')).toBe('old')
    store.failing = false
    await cache.whenIdle()
    expect(await peer.namespace('users').get('1')).toBeUndefined()
  })

  it('a second invalidate of a queued namespace moves it again', async () => {
    const store = new ChaosStore(new MemoryStore())
    store.failOnly = new Set(['set'])
    const cache = new Cache({ store })
    cache.on('error', () => {})
    const view = cache.namespace('n')
    store.failing = true
    await view.invalidate()
    store.failing = false
    await view.set('k', 'between')
    store.failing = true
    await view.invalidate()
    expect(await view.get('k')).toBeUndefined()
    store.failing = false
    await cache.whenIdle()
    expect(await view.get('k')).toBeUndefined()
  })

  it('close() waits for the queue, and says what it could not apply', async () => {
    const store = new ChaosStore(new MemoryStore())
    store.failing = true
    const cache = new Cache({ store, invalidationQueue: { closeTimeout: 200 } })
    const errors = collect(cache, 'error')
    await cache.invalidateTags(['t'])
    await cache.close()
    expect(
      errors.some((error) =>
        /1 queued invalidations were not applied before close/.test(error.message)
      )
    ).toBe(true)
  })

  it('does not queue what the store says it cannot do: failed, reported, and the queue moves on', async () => {
    class NoPatterns extends MemoryStore {
      override async deletePattern(): Promise<number> {
        throw new InvalidArgumentError('deletePattern', 'supported by this store', 'a pattern')
      }
    }
    const cache = new Cache({ store: new NoPatterns() })
    const errors = collect(cache, 'error')
    await cache.set('k', 1, { tags: ['t'] })
    expect(await cache.deletePattern('*')).toEqual({ status: 'failed', removed: 0 })
    expect(errors[0]).toBeInstanceOf(InvalidArgumentError)
    expect(cache.stats().queuedInvalidations).toBe(0)
    expect(await cache.invalidateTags(['t'])).toEqual({ status: 'applied', removed: 1 })
  })

  it('goes straight to the store, side by side, while nothing is queued; drains a backlog in rounds', async () => {
    class Counting extends MemoryStore {
      inFlight = 0
      peak = 0
      failing = false
      override async delete(key: string): Promise<boolean> {
        this.inFlight++
        this.peak = Math.max(this.peak, this.inFlight)
        await new Promise((resolve) => setTimeout(resolve, 5))
        this.inFlight--
        if (this.failing) throw new Error('down')
        return super.delete(key)
      }
    }
    const store = new Counting()
    const cache = new Cache({ store })
    cache.on('error', () => {})
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => cache.delete(`k${i}`)))
    expect(results.every((result) => result.status === 'applied')).toBe(true)
    expect(store.peak).toBeGreaterThan(1)
    store.failing = true
    await Promise.all(Array.from({ length: 200 }, (_, i) => cache.delete(`q${i}`)))
    expect(cache.stats().queuedInvalidations).toBe(200)
    store.failing = false
    store.peak = 0
    expect(await cache.whenIdle()).toEqual({ drained: true, pending: 0 })
    expect(store.peak).toBeGreaterThan(1)
  })

  it('whenIdle() resolves at once when nothing is queued', async () => {
    const cache = new Cache()
    expect(await cache.whenIdle()).toEqual({ drained: true, pending: 0 })
    expect(await cache.invalidateTags([])).toEqual({ status: 'applied', removed: 0 })
  })
})

describe('error events', () => {
  it('are rate-limited per kind, with a count of the ones held back', async () => {
    let now = 0
    const store = new ChaosStore(new MemoryStore())
    store.failing = true
    const cache = new Cache({ store, clock: () => now })
    const errors = collect(cache, 'error')
    for (let i = 0; i < 100; i++) await cache.get('k')
    await cache.set('k', 1)
    // One `get` error and one `set` error: different kinds.
    expect(errors).toHaveLength(2)
    expect(cache.stats().errors).toBe(101)
    now = 1000
    await cache.get('k')
    expect(errors).toHaveLength(3)
    expect((errors[2] as { suppressed?: number }).suppressed).toBe(99)
  })
})

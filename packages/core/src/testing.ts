import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Cache } from './cache.js'
import type { PendingWrite } from './patterns/write-behind.js'
import type { Store } from './types.js'

export interface StoreContractOptions {
  /** Shown in the test names. */
  name: string
  /** A fresh, empty store. Called once per test. */
  create: () => Store | Promise<Store>
  /**
   * A second store over the same backing data as the last one `create` returned (another process
   * sharing one Redis). Omit for stores that cannot be shared; cross-instance cases then skip.
   */
  createPeer?: () => Store | Promise<Store>
  /** Cleans up after each test (delete keys, quit clients). */
  cleanup?: () => void | Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The behaviour every `Store` must have, written once and run against each implementation
 * (memory, Redis, Redis Cluster, or a store of your own), through the raw contract and the
 * `Cache` facade on top of it.
 *
 * @example
 * ```ts
 * import { defineStoreContract } from '@cachewire/core/testing'
 * import { MemoryStore } from '@cachewire/core'
 *
 * defineStoreContract({ name: 'MemoryStore', create: () => new MemoryStore() })
 * ```
 */
export function defineStoreContract(options: StoreContractOptions): void {
  describe(`Store contract: ${options.name}`, () => {
    let store: Store
    let cache: Cache

    beforeEach(async () => {
      store = await options.create()
      cache = new Cache({ store, breaker: false })
    })
    afterEach(async () => {
      await options.cleanup?.()
    })

    describe('get and set', () => {
      it('round-trips every byte value unchanged', async () => {
        const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
        await store.set('bytes', bytes, { ttlMs: 10_000 })
        expect(Buffer.from((await store.get('bytes')) as Uint8Array).equals(bytes)).toBe(true)
      })

      it('answers undefined for an absent key', async () => {
        expect(await store.get('absent')).toBeUndefined()
        expect(await store.has('absent')).toBe(false)
      })

      it('overwrites an existing value', async () => {
        await store.set('k', Buffer.from('one'), { ttlMs: 10_000 })
        await store.set('k', Buffer.from('two'), { ttlMs: 10_000 })
        expect(Buffer.from((await store.get('k')) as Uint8Array).toString()).toBe('two')
      })

      it('expires a value after its TTL', async () => {
        await store.set('short', Buffer.from('x'), { ttlMs: 40 })
        expect(await store.has('short')).toBe(true)
        await sleep(120)
        expect(await store.get('short')).toBeUndefined()
        expect(await store.has('short')).toBe(false)
      })

      it('deletes one key and reports whether it existed', async () => {
        await store.set('gone', Buffer.from('x'), { ttlMs: 10_000 })
        expect(await store.delete('gone')).toBe(true)
        expect(await store.delete('gone')).toBe(false)
        expect(await store.get('gone')).toBeUndefined()
      })

      it('keeps keys with glob and separator characters distinct', async () => {
        await store.set('a*b', Buffer.from('1'), { ttlMs: 10_000 })
        await store.set('a:b', Buffer.from('2'), { ttlMs: 10_000 })
        await store.set('a[b]', Buffer.from('3'), { ttlMs: 10_000 })
        expect(Buffer.from((await store.get('a*b')) as Uint8Array).toString()).toBe('1')
        expect(Buffer.from((await store.get('a[b]')) as Uint8Array).toString()).toBe('3')
      })
    })

    describe('tags', () => {
      it('invalidates every key under a tag and nothing else', async () => {
        await store.set('u1', Buffer.from('1'), { ttlMs: 10_000, tags: ['users'] })
        await store.set('u2', Buffer.from('2'), { ttlMs: 10_000, tags: ['users', 'admins'] })
        await store.set('p1', Buffer.from('3'), { ttlMs: 10_000, tags: ['posts'] })
        expect(await store.invalidateTags(['users'])).toBe(2)
        expect(await store.get('u1')).toBeUndefined()
        expect(await store.get('u2')).toBeUndefined()
        expect(await store.get('p1')).toBeDefined()
        expect(await store.invalidateTags(['users'])).toBe(0)
      })

      it('invalidates several tags at once, counting each key once', async () => {
        await store.set('a', Buffer.from('1'), { ttlMs: 10_000, tags: ['t1', 't2'] })
        await store.set('b', Buffer.from('2'), { ttlMs: 10_000, tags: ['t2'] })
        expect(await store.invalidateTags(['t1', 't2'])).toBe(2)
      })

      it('re-files a key that is set again after its tag was invalidated', async () => {
        await store.set('a', Buffer.from('1'), { ttlMs: 10_000, tags: ['t'] })
        await store.invalidateTags(['t'])
        await store.set('a', Buffer.from('2'), { ttlMs: 10_000, tags: ['t'] })
        expect(await store.invalidateTags(['t'])).toBe(1)
        expect(await store.get('a')).toBeUndefined()
      })
    })

    describe('deletePattern', () => {
      it('removes only the keys the glob matches', async () => {
        await store.set('user:1', Buffer.from('1'), { ttlMs: 10_000 })
        await store.set('user:2', Buffer.from('2'), { ttlMs: 10_000 })
        await store.set('post:1', Buffer.from('3'), { ttlMs: 10_000 })
        expect(await store.deletePattern('user:*')).toBe(2)
        expect(await store.get('user:1')).toBeUndefined()
        expect(await store.get('post:1')).toBeDefined()
      })

      it('matches many keys spread over the keyspace', async () => {
        await Promise.all(Array.from({ length: 300 }, (_, i) => store.set(`many:${i}`, Buffer.from('x'), { ttlMs: 10_000 })))
        expect(await store.deletePattern('many:*')).toBe(300)
      })
    })

    describe('increment', () => {
      it('counts atomically under concurrency', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, () => store.increment('hits', 1, 10_000)))
        expect(Math.max(...results)).toBe(50)
        expect(new Set(results).size).toBe(50)
      })

      it('gives a new counter its TTL and keeps it on later increments', async () => {
        expect(await store.increment('window', 5, 60)).toBe(5)
        expect(await store.increment('window', -2, 100_000)).toBe(3)
        await sleep(150)
        expect(await store.get('window')).toBeUndefined()
      })
    })

    describe('clear', () => {
      it('removes every key the store owns', async () => {
        await store.set('a', Buffer.from('1'), { ttlMs: 10_000, tags: ['t'] })
        await store.set('b', Buffer.from('2'), { ttlMs: 10_000 })
        await store.clear()
        expect(await store.get('a')).toBeUndefined()
        expect(await store.get('b')).toBeUndefined()
      })
    })

    describe('through the Cache facade', () => {
      it('round-trips JSON values and bytes', async () => {
        await cache.set('json', { a: 1, list: [1, 'two', null] })
        await cache.set('buf', Buffer.from([0, 1, 2, 255]))
        expect(await cache.get('json')).toEqual({ a: 1, list: [1, 'two', null] })
        expect(await cache.get('buf')).toEqual(Buffer.from([0, 1, 2, 255]))
      })

      it('reads a counter as a number', async () => {
        await cache.increment('count', 3, { ttl: '1m' })
        expect(await cache.get('count')).toBe(3)
      })

      it('invalidates a namespace without touching other keys', async () => {
        const users = cache.namespace('users')
        await users.set('1', 'ada')
        await cache.set('1', 'root')
        expect(await users.get('1')).toBe('ada')
        await users.invalidate()
        expect(await users.get('1')).toBeUndefined()
        expect(await cache.get('1')).toBe('root')
        await users.set('1', 'grace')
        expect(await users.get('1')).toBe('grace')
      })

      it('runs the loader once for 1,000 concurrent wrap callers of a cold key', async () => {
        let calls = 0
        const loader = async (): Promise<{ n: number }> => {
          calls++
          await sleep(20)
          return { n: 42 }
        }
        const results = await Promise.all(Array.from({ length: 1000 }, () => cache.wrap('cold', loader, { ttl: '1m' })))
        expect(calls).toBe(1)
        expect(results.every((r) => r.n === 42)).toBe(true)
        await sleep(10)
        expect(await cache.get('cold')).toEqual({ n: 42 })
      })

      it('persists every acknowledged write-behind write after close()', async () => {
        const persisted = new Map<string, number>()
        const writer = cache.writeBehind<number>({
          persist: async (batch: ReadonlyArray<PendingWrite<number>>) => {
            for (const write of batch) persisted.set(write.key, write.value)
          },
          batchSize: 25,
          flushIntervalMs: 60_000,
          flushOnSignals: false,
        })
        await Promise.all(Array.from({ length: 200 }, (_, i) => writer.write(`wb:${i}`, i)))
        expect(await cache.get('wb:7')).toBe(7)
        await writer.close()
        expect(persisted.size).toBe(200)
        expect(persisted.get('wb:199')).toBe(199)
        expect(writer.stats()).toMatchObject({ queued: 0, persisted: 200, failed: 0 })
      })
    })

    describe.runIf(options.createPeer !== undefined)('shared between instances', () => {
      it('sees values and tag invalidations made by another instance', async () => {
        const peer = await (options.createPeer as () => Store | Promise<Store>)()
        try {
          await store.set('shared', Buffer.from('1'), { ttlMs: 10_000, tags: ['shared-tag'] })
          expect(await peer.get('shared')).toBeDefined()
          expect(await peer.invalidateTags(['shared-tag'])).toBe(1)
          expect(await store.get('shared')).toBeUndefined()
        } finally {
          await peer.close?.()
        }
      })

      it('invalidates a namespace for every instance', async () => {
        const peer = new Cache({ store: await (options.createPeer as () => Store | Promise<Store>)(), breaker: false })
        try {
          await cache.namespace('ns').set('k', 'v')
          expect(await peer.namespace('ns').get('k')).toBe('v')
          await peer.namespace('ns').invalidate()
          expect(await cache.namespace('ns').get('k')).toBeUndefined()
        } finally {
          await peer.close()
        }
      })
    })
  })
}

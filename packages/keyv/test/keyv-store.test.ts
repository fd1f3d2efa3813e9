import { Cache, InvalidOptionError, StoreError, StoreTimeoutError } from '@cachewire/core'
import { defineStoreContract } from '@cachewire/core/testing'
import { Keyv } from 'keyv'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { KeyvStore, KeyvUnsupportedError } from '../src/index.js'
import { ALL_BYTES, PlainAdapter } from './helpers.js'

// One contract, each way a Keyv can be set up: Keyv's key prefixing changes what its iterator
// yields, and the serializer changes what reaches the store.
const runner = { describe, it, beforeEach, afterEach }
let shared = new Map<unknown, unknown>()
defineStoreContract({
  runner,
  name: 'KeyvStore on Keyv (namespace, default Map)',
  create: () => {
    shared = new Map()
    return new KeyvStore(new Keyv({ store: shared, namespace: 'cw' }))
  },
  createPeer: () => new KeyvStore(new Keyv({ store: shared, namespace: 'cw' })),
})
defineStoreContract({
  runner,
  name: 'KeyvStore on a bare Map',
  create: () => new KeyvStore(new Map()),
})
defineStoreContract({
  runner,
  name: 'KeyvStore on Keyv without a namespace',
  create: () => new KeyvStore(new Keyv({ namespace: undefined })),
})
defineStoreContract({
  runner,
  name: 'KeyvStore on Keyv with a namespace holding ":"',
  create: () => new KeyvStore(new Keyv({ namespace: 'app:cache' })),
})
defineStoreContract({
  runner,
  name: 'KeyvStore on Keyv without key prefixes',
  create: () => new KeyvStore(new Keyv({ namespace: 'cw', useKeyPrefix: false })),
})
defineStoreContract({
  runner,
  name: 'KeyvStore on Keyv with a JSON.stringify serializer',
  create: () => new KeyvStore(new Keyv({ serialize: JSON.stringify, deserialize: JSON.parse })),
})

describe('KeyvStore', () => {
  describe('values', () => {
    it('keeps every byte value as base64 text in the Keyv store', async () => {
      const keyv = new Keyv({ namespace: 'bytes' })
      const store = new KeyvStore(keyv)
      await store.set('all', ALL_BYTES, { ttlMs: 60_000 })
      expect(await keyv.get('k:all')).toBe(ALL_BYTES.toString('base64'))
      expect(Buffer.from((await store.get('all')) as Uint8Array).equals(ALL_BYTES)).toBe(true)
    })

    it('round-trips bytes when Keyv serialises nothing (raw objects in the Map)', async () => {
      const store = new KeyvStore(new Keyv({ serialize: undefined, deserialize: undefined }))
      await store.set('raw', ALL_BYTES, { ttlMs: 60_000 })
      expect(Buffer.from((await store.get('raw')) as Uint8Array).equals(ALL_BYTES)).toBe(true)
    })

    it('hands the TTL to Keyv in milliseconds', async () => {
      const keyv = new Keyv()
      const store = new KeyvStore(keyv)
      const before = Date.now()
      await store.set('ttl', Buffer.from('x'), { ttlMs: 90_000 })
      const raw = await keyv.get('k:ttl', { raw: true })
      expect(raw?.expires).toBeGreaterThanOrEqual(before + 90_000)
      expect(raw?.expires).toBeLessThanOrEqual(Date.now() + 90_000)
      const withTtl = await store.getWithTtl('ttl')
      expect(withTtl?.ttlMs).toBeGreaterThan(80_000)
      expect(withTtl?.ttlMs).toBeLessThanOrEqual(90_000)
    })

    it('works on a Keyv storage adapter passed alone', async () => {
      const adapter = new PlainAdapter()
      const cache = new Cache({ store: new KeyvStore(adapter) })
      await cache.set('user:1', { name: 'Ada' }, { ttl: '1m' })
      expect(await cache.get('user:1')).toEqual({ name: 'Ada' })
      expect([...adapter.map.keys()]).toEqual(['keyv:k:user:1'])
    })

    it('has the name it is given', () => {
      expect(new KeyvStore(new Keyv()).name).toBe('keyv')
      expect(new KeyvStore(new Keyv(), { name: 'sessions' }).name).toBe('sessions')
    })
  })

  describe('tags', () => {
    it('files every key of a burst of concurrent sets under their tag', async () => {
      const store = new KeyvStore(new Keyv())
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.set(`burst:${i}`, Buffer.from('x'), { ttlMs: 60_000, tags: ['burst', `own:${i}`] })
        )
      )
      expect(await store.countTagged(['burst'])).toBe(200)
      expect(await store.invalidateTags(['burst'])).toBe(200)
      expect(await store.get('burst:0')).toBeUndefined()
    })

    it('keeps a tag record as long as its longest-lived key', async () => {
      const keyv = new Keyv()
      const store = new KeyvStore(keyv)
      await store.set('short', Buffer.from('1'), { ttlMs: 2_000, tags: ['t'] })
      await store.set('long', Buffer.from('2'), { ttlMs: 600_000, tags: ['t'] })
      await store.set('shorter', Buffer.from('3'), { ttlMs: 1_000, tags: ['t'] })
      const record = await keyv.get('t:t', { raw: true })
      expect(JSON.parse(record?.value as string)).toEqual(['short', 'long', 'shorter'])
      expect(record?.expires).toBeGreaterThan(Date.now() + 500_000)
    })

    it('counts only live keys in countTagged and removes nothing', async () => {
      const store = new KeyvStore(new Keyv())
      await store.set('a', Buffer.from('1'), { ttlMs: 60_000, tags: ['t'] })
      await store.set('b', Buffer.from('2'), { ttlMs: 60_000, tags: ['t'] })
      await store.delete('b')
      expect(await store.countTagged(['t'])).toBe(1)
      expect(await store.get('a')).toBeDefined()
    })

    it('returns the removed keys, for peers that evict their own copies', async () => {
      const store = new KeyvStore(new Keyv())
      await store.set('a', Buffer.from('1'), { ttlMs: 60_000, tags: ['t'] })
      await store.set('b', Buffer.from('2'), { ttlMs: 60_000, tags: ['u'] })
      expect(await store.invalidateTagsReturningKeys(['t', 'u'])).toEqual(['a', 'b'])
    })
  })

  describe('deletePattern', () => {
    it('rejects with KeyvUnsupportedError when Keyv cannot iterate the store', async () => {
      const store = new KeyvStore(new PlainAdapter())
      await store.set('user:1', Buffer.from('1'), { ttlMs: 60_000 })
      const error = await store.deletePattern('user:*').catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(KeyvUnsupportedError)
      expect(error).toMatchObject({ code: 'CACHEWIRE_STORE_ERROR', operation: 'deletePattern' })
      expect((error as Error).message).toMatch(/cannot list keys/)
      expect(await store.get('user:1')).toBeDefined()
    })

    it('reaches the Cache as an error event and 0 removed', async () => {
      const cache = new Cache({ store: new KeyvStore(new PlainAdapter()) })
      const errors: Error[] = []
      cache.on('error', (error) => errors.push(error))
      expect(await cache.deletePattern('*')).toEqual({ status: 'failed', removed: 0 })
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(KeyvUnsupportedError)
    })

    it('leaves tag records and other namespaces alone', async () => {
      const map = new Map<unknown, unknown>()
      const mine = new KeyvStore(new Keyv({ store: map, namespace: 'mine' }))
      const theirs = new KeyvStore(new Keyv({ store: map, namespace: 'theirs' }))
      await mine.set('x:1', Buffer.from('1'), { ttlMs: 60_000, tags: ['x:1'] })
      await theirs.set('x:1', Buffer.from('2'), { ttlMs: 60_000 })
      expect(await mine.deletePattern('x:*')).toBe(1)
      expect(await theirs.get('x:1')).toBeDefined()
      expect(await mine.countTagged(['x:1'])).toBe(0)
    })
  })

  describe('faults', () => {
    it('gives up on a hung Keyv store at the deadline: a miss and a StoreTimeoutError', async () => {
      const adapter = new PlainAdapter()
      const store = new KeyvStore(adapter, { timeout: '50ms' })
      const cache = new Cache({ store })
      const errors: Error[] = []
      cache.on('error', (error) => errors.push(error))
      adapter.hanging = true
      expect(await cache.get('k')).toBeUndefined()
      expect(await cache.set('k', 'v')).toBe(false)
      expect(errors.map((error) => error.constructor.name)).toEqual([
        'StoreTimeoutError',
        'StoreTimeoutError',
      ])
      expect(errors[0]).toBeInstanceOf(StoreTimeoutError)
    })

    it('reports a failing adapter to the Cache (the Keyv it builds throws store errors)', async () => {
      const adapter = new PlainAdapter()
      const cache = new Cache({ store: new KeyvStore(adapter) })
      const errors: Error[] = []
      cache.on('error', (error) => errors.push(error))
      adapter.failing = true
      expect(await cache.set('k', 'v')).toBe(false)
      expect(await cache.get('k')).toBeUndefined()
      expect(errors).toHaveLength(2)
      expect(errors[0]).toBeInstanceOf(StoreError)
      expect((errors[0] as Error).message).toMatch(/backend unavailable/)
    })

    it('says a write was not stored when a Keyv that swallows errors refuses it', async () => {
      const adapter = new PlainAdapter()
      const keyv = new Keyv({ store: adapter })
      keyv.on('error', () => {})
      const cache = new Cache({ store: new KeyvStore(keyv) })
      const errors: Error[] = []
      cache.on('error', (error) => errors.push(error))
      adapter.failing = true
      expect(await cache.set('k', 'v')).toBe(false)
      expect(errors[0]).toBeInstanceOf(StoreError)
      expect((errors[0] as Error).message).toMatch(/refused the write/)
    })
  })

  describe('options', () => {
    it('refuses an unknown option, naming the nearest known one', () => {
      expect(() => new KeyvStore(new Keyv(), { timout: '1s' } as never)).toThrow(InvalidOptionError)
      expect(() => new KeyvStore(new Keyv(), { timout: '1s' } as never)).toThrow(
        /timout.*did you mean "timeout"/
      )
    })

    it('refuses a bad timeout or name, naming the option', () => {
      expect(() => new KeyvStore(new Keyv(), { timeout: -1 })).toThrow(/options\.timeout/)
      expect(() => new KeyvStore(new Keyv(), { bulkTimeout: 'soon' as never })).toThrow(
        /options\.bulkTimeout/
      )
      expect(() => new KeyvStore(new Keyv(), { name: '' })).toThrow(/options\.name/)
    })

    it('refuses something that is not a Keyv, an adapter or a Map', () => {
      expect(() => new KeyvStore({ get: () => undefined } as never)).toThrow(InvalidOptionError)
      expect(() => new KeyvStore(undefined as never)).toThrow(/options\.keyv to be a Keyv instance/)
    })

    it('uses the Keyv it is given, and builds one around an adapter', () => {
      const keyv = new Keyv()
      expect(new KeyvStore(keyv).keyv).toBe(keyv)
      const adapter = new PlainAdapter()
      const built = new KeyvStore(adapter).keyv
      expect(built.store).toBe(adapter)
      expect(built.throwOnErrors).toBe(true)
    })
  })
})

/**
 * The Keyv bridge on a real Redis, both ways:
 * - cache-manager v7 on a cachewire Cache (RedisStore) through KeyvCachewire, with invalidations
 *   made by another Cache on the same Redis (another process, as far as Redis can tell) reaching
 *   cache-manager readers; and Keyv's own adapter test suite on that Cache;
 * - KeyvStore on @keyv/redis (node-redis underneath), through the store contract and a Cache.
 */
import { Cache, type Store } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { defineStoreContract } from '@cachewire/core/testing'
import { KeyvCachewire, KeyvStore } from '@cachewire/keyv'
import { createKeyv } from '@keyv/redis'
import keyvTestSuite from '@keyv/test-suite'
import { createCache } from 'cache-manager'
import type { Redis } from 'ioredis'
import { Keyv } from 'keyv'
import * as vitest from 'vitest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  createClient,
  deleteKeysWithPrefix,
  describeRedis,
  redisUrl,
  uniquePrefix,
} from '../setup/redis.js'

describeRedis('cache-manager on a cachewire Cache over Redis (KeyvCachewire)', () => {
  let client: Redis
  let prefix = uniquePrefix('keyv-cachewire')

  beforeAll(async () => {
    client = createClient()
    // Connected before the first test, so RedisStore's request deadline measures commands, not the connect.
    await client.ping()
  })
  // Each test on its own prefix: tags are per store, so one test's tagged keys stay out of another's counts.
  beforeEach(() => {
    prefix = uniquePrefix('keyv-cachewire')
  })
  const opened: Cache[] = []
  afterEach(async () => {
    // Each store opened a write connection of its own.
    await Promise.all(opened.splice(0).map((cache) => cache.close()))
    await deleteKeysWithPrefix(client, prefix)
  })

  /** A Cache on the shared Redis: each call is another process's view of the same data. */
  const cacheOnRedis = (): Cache => {
    const cache = new Cache({ store: new RedisStore({ client, prefix }) })
    opened.push(cache)
    return cache
  }

  function cacheManager(cache: Cache, namespace: string) {
    const adapter = new KeyvCachewire(cache, { tags: (key) => [key.split(':')[0] as string] })
    return createCache({ stores: [new Keyv({ store: adapter, namespace })], ttl: 60_000 })
  }

  it('round-trips set, get, ttl, wrap and del', async () => {
    const manager = cacheManager(cacheOnRedis(), 'roundtrip')
    const before = Date.now()
    await manager.set('user:1', { name: 'Ada' }, 30_000)
    expect(await manager.get('user:1')).toEqual({ name: 'Ada' })
    expect(await manager.ttl('user:1')).toBeGreaterThanOrEqual(before + 30_000)
    let loads = 0
    const load = async (): Promise<string> => {
      loads++
      return 'loaded'
    }
    expect(await manager.wrap('report:1', load, 10_000)).toBe('loaded')
    expect(await manager.wrap('report:1', load, 10_000)).toBe('loaded')
    expect(loads).toBe(1)
    expect(await manager.del('user:1')).toBe(true)
    expect(await manager.get('user:1')).toBeUndefined()
  })

  it('stores every value in Redis with a TTL, under the cachewire prefix', async () => {
    const manager = cacheManager(cacheOnRedis(), 'layout')
    await manager.set('user:9', 'x', 45_000)
    const keys = await client.keys(`${prefix}*`)
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(0)
  })

  it('sees tags invalidated by another cachewire process on the same Redis', async () => {
    const manager = cacheManager(cacheOnRedis(), 'tags')
    const otherProcess = cacheOnRedis()
    await manager.mset<string>([
      { key: 'user:1', value: 'Ada' },
      { key: 'user:2', value: 'Grace' },
      { key: 'post:1', value: 'Hello' },
    ])
    expect(await otherProcess.invalidateTags(['user'])).toEqual({ status: 'applied', removed: 2 })
    expect(await manager.mget(['user:1', 'user:2', 'post:1'])).toEqual([
      undefined,
      undefined,
      'Hello',
    ])
  })

  it('sees its namespace invalidated, and patterns deleted, by another cachewire process', async () => {
    const manager = cacheManager(cacheOnRedis(), 'ns')
    const otherProcess = cacheOnRedis().namespace('ns')
    await manager.set('user:1', 'Ada')
    await manager.set('post:1', 'Hello')
    expect(await otherProcess.deletePattern('user:*')).toEqual({ status: 'applied', removed: 1 })
    expect(await manager.get('user:1')).toBeUndefined()
    expect(await manager.get('post:1')).toBe('Hello')
    await otherProcess.invalidate()
    expect(await manager.get('post:1')).toBeUndefined()
  })

  describe("Keyv's adapter test suite", () => {
    keyvTestSuite(vitest, Keyv, () => new KeyvCachewire(cacheOnRedis()))
  })
})

describeRedis('KeyvStore on @keyv/redis', () => {
  let client: Redis
  let prefix = uniquePrefix('keyv-store')
  const opened: Keyv[] = []

  beforeAll(() => {
    client = createClient()
  })
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((keyv) => keyv.disconnect()))
  })

  /** A Keyv on node-redis whose keys all start with `prefix`, throwing store errors (so the Cache sees them). */
  function keyvOnRedis(): Keyv {
    const keyv = createKeyv(redisUrl(), { namespace: prefix, throwOnErrors: true })
    opened.push(keyv)
    return keyv
  }

  /**
   * Each Keyv connects on its first call, inside that call's deadline: a generous deadline keeps a
   * connect on a loaded machine from reading as a timeout. Deadlines themselves are tested on a
   * hung adapter in packages/keyv/test.
   */
  const storeOn = (keyv: Keyv): KeyvStore => new KeyvStore(keyv, { timeout: '5s' })

  defineStoreContract({
    runner: { describe, it, beforeEach, afterEach },
    name: 'KeyvStore on @keyv/redis',
    create: () => {
      prefix = uniquePrefix('keyv-store')
      return storeOn(keyvOnRedis())
    },
    createPeer: () => storeOn(keyvOnRedis()),
    cleanup: async () => {
      await deleteKeysWithPrefix(client, prefix)
    },
  })

  describe('storage layout', () => {
    it('keeps entries as base64 text and tag records, each with a TTL in Redis', async () => {
      prefix = uniquePrefix('keyv-layout')
      const store: Store = storeOn(keyvOnRedis())
      const bytes = Buffer.from([0, 255, 10, 13, 0x7b])
      await store.set('entry', bytes, { ttlMs: 60_000, tags: ['t1'] })
      await store.increment('counter', 1, 60_000)
      const keys = (await client.keys(`${prefix}*`)).sort()
      expect(keys).toEqual([`${prefix}::k:counter`, `${prefix}::k:entry`, `${prefix}::t:t1`])
      for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(0)
      expect(Buffer.from((await store.get('entry')) as Uint8Array).equals(bytes)).toBe(true)
      await deleteKeysWithPrefix(client, prefix)
    })
  })

  describe('under a Cache', () => {
    it('round-trips values and tag invalidations between two processes', async () => {
      prefix = uniquePrefix('keyv-cache')
      const one = new Cache({ store: storeOn(keyvOnRedis()) })
      const two = new Cache({ store: storeOn(keyvOnRedis()) })
      await one.set('user:1', { name: 'Ada' }, { ttl: '1m', tags: ['users'] })
      await one.set('bin', Buffer.from([1, 2, 3]), { ttl: '1m' })
      expect(await two.get('user:1')).toEqual({ name: 'Ada' })
      expect(await two.get('bin')).toEqual(Buffer.from([1, 2, 3]))
      expect(await two.invalidateTags(['users'])).toEqual({ status: 'applied', removed: 1 })
      expect(await one.get('user:1')).toBeUndefined()
      expect(await one.wrap('slow', async () => 7, { ttl: '1m' })).toBe(7)
      expect(await two.get('slow')).toBe(7)
      await deleteKeysWithPrefix(client, prefix)
    })
  })
})

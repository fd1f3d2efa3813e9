import { defineStoreContract } from '@cachewire/core/testing'
import { CACHE_CLIENT_DEFAULTS, RedisStore } from '@cachewire/core/redis'
import { Cache, StoreTimeoutError, StoreUnavailableError } from '@cachewire/core'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Redis } from 'ioredis'
import {
  createClient,
  deleteKeysWithPrefix,
  describeRedis,
  redisUrl,
  uniquePrefix,
} from '../setup/redis.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { expectManyStoresShareOneClient } from '../helpers/shared-client.js'
import { REDIS_LIBRARIES } from '../setup/node-redis.js'
import { IOREDIS_MAJORS } from '../setup/ioredis6.js'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { countSocketWrites } from '../helpers/socket-writes.js'

/**
 * The contract tests what the store does, not how fast: the default 50 ms deadline also covers a
 * fresh client's connect, which a loaded test machine can exceed. The deadline itself is tested
 * below, against a blackholed Redis.
 */
const CONTRACT_TIMEOUT = '2s'

// ioredis 5, and ioredis 6 as it comes (RESP3); on RESP2, 6 reads replies as 5 does, and
// redis-store-ioredis6.test.ts checks a store on it.
for (const { name, createClient: connect } of IOREDIS_MAJORS)
  describeRedis(`RedisStore on a standalone Redis through ${name}`, () => {
    let client: Redis
    let prefix = uniquePrefix('redis-store')
    let store: RedisStore | undefined
    // In a hook, not the describe body, which vitest runs even when the describe is skipped.
    beforeAll(() => {
      client = connect()
    })

    defineStoreContract({
      name: `RedisStore (standalone, ${name})`,
      create: () => {
        prefix = uniquePrefix('redis-store')
        store = new RedisStore({ client, prefix, timeout: CONTRACT_TIMEOUT })
        return store
      },
      createPeer: () => new RedisStore({ client: connect(), prefix, timeout: CONTRACT_TIMEOUT }),
      cleanup: async () => {
        // The store's own write connection; the client is the file's.
        await store?.close()
        await deleteKeysWithPrefix(client, prefix)
      },
      runner: { describe, it, beforeEach, afterEach },
      capabilities: { conditionalSet: true, rateWindows: true, ttl: true, measure: true },
    })

    it('many stores share one client without a MaxListenersExceededWarning, and leave its listener limit as it was once closed', async () => {
      await expectManyStoresShareOneClient(connect(), CONTRACT_TIMEOUT)
    })

    it("sends the commands of one event-loop turn in one socket write, the app's own commands on a shared client with them, and releases the socket after the turn", async () => {
      const own = uniquePrefix('one-write')
      // No auto-pipelining: ioredis would send the EXISTS and the PING in a pipeline of its own.
      const shared = connect()
      const store = new RedisStore({ client: shared, prefix: own, timeout: CONTRACT_TIMEOUT })
      const keys = Array.from({ length: 30 }, (_, i) => `item:${i}`)
      await Promise.all(keys.map((key) => store.set(key, Buffer.from(key), { ttlMs: 60_000 })))
      // The store writes on a connection of its own: on a loaded machine the shared client may
      // still be connecting, and its offline queue would send the reads in writes of its own.
      await shared.ping()

      const writes = countSocketWrites(shared.stream)
      const reads = keys.map((key) => store.get(key))
      const found = [store.has('item:0'), store.has('absent')]
      const ping = shared.ping()
      expect(writes.calls).toBe(0)
      const values = await Promise.all(reads)
      expect(await Promise.all(found)).toEqual([true, false])
      expect(await ping).toBe('PONG')
      writes.restore()
      expect(values.map((value) => Buffer.from(value as Uint8Array).toString())).toEqual(keys)
      expect({ calls: writes.calls, chunks: writes.chunks }).toEqual({ calls: 1, chunks: 33 })

      await nextTurn()
      expect(shared.stream.writableCorked).toBe(0)
      await store.clear()
      await store.close()
    })
  })

describeRedis('RedisStore on a standalone Redis', () => {
  const client = createClient()

  describe('storage layout', () => {
    it('stores one binary string per entry, with a TTL on every key', async () => {
      const own = uniquePrefix('layout')
      const store = new RedisStore({ client, prefix: own, timeout: CONTRACT_TIMEOUT })
      const body = Buffer.from([0, 255, 10, 13, 0x7b])
      await store.set('entry', body, { ttlMs: 60_000, tags: ['t1'] })
      await store.increment('counter', 1, 60_000)
      expect(await client.type(`${own}k:entry`)).toBe('string')
      expect((await client.getBuffer(`${own}k:entry`))?.equals(body)).toBe(true)
      const keys = await client.keys(`${own}*`)
      expect(keys.length).toBe(3)
      for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(0)
      await store.close()
      await deleteKeysWithPrefix(client, own)
    })

    it('clear() leaves other prefixes alone', async () => {
      const mine = new RedisStore({
        client,
        prefix: uniquePrefix('mine'),
        timeout: CONTRACT_TIMEOUT,
      })
      const theirsPrefix = uniquePrefix('theirs')
      const theirs = new RedisStore({ client, prefix: theirsPrefix, timeout: CONTRACT_TIMEOUT })
      await mine.set('k', Buffer.from('1'), { ttlMs: 60_000 })
      await theirs.set('k', Buffer.from('2'), { ttlMs: 60_000 })
      await mine.clear()
      expect(await theirs.get('k')).toBeDefined()
      await Promise.all([mine.close(), theirs.close()])
      await deleteKeysWithPrefix(client, theirsPrefix)
    })

    it('builds and owns a client from a URL', async () => {
      const own = uniquePrefix('url')
      const store = new RedisStore({ url: redisUrl(), prefix: own, timeout: CONTRACT_TIMEOUT })
      await store.set('k', Buffer.from('v'), { ttlMs: 60_000 })
      expect(Buffer.from((await store.get('k')) as Uint8Array).toString()).toBe('v')
      await store.clear()
      await store.close()
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(['close', 'end']).toContain(store.client.status)
    })

    it('sends the read of a hit alone, and auto-pipelines the other commands of a tick', async () => {
      // Each HTTP request reads in a tick of its own: a pipeline built for one GET was pure cost.
      const own = uniquePrefix('pipelining')
      const store = new RedisStore({ url: redisUrl(), prefix: own, timeout: CONTRACT_TIMEOUT })
      await store.set('k', Buffer.from('v'), { ttlMs: 60_000 })
      expect(await store.get('k')).toBeDefined()
      const read = store.get('k')
      expect(store.client.autoPipelineQueueSize).toBe(0)
      const batched = [store.client.exists(`${own}x`), store.client.exists(`${own}y`)]
      expect(store.client.autoPipelineQueueSize).toBe(2)
      expect(Buffer.from((await read) as Uint8Array).toString()).toBe('v')
      expect(await Promise.all(batched)).toEqual([0, 0])

      // The defaults as a user's own client takes them (a loaded test machine may connect slowly).
      const client = createClient({ ...CACHE_CLIENT_DEFAULTS, connectTimeout: 5_000 })
      await client.ping()
      const reads = [client.getBuffer(`${own}k`), client.pttl(`${own}k`)]
      expect(client.autoPipelineQueueSize).toBe(0)
      const writes = [client.set(`${own}w`, 'v', 'PX', 60_000), client.pexpire(`${own}w`, 60_000)]
      expect(client.autoPipelineQueueSize).toBe(2)
      expect(await Promise.all([...reads, ...writes])).toEqual([null, -2, 'OK', 1])
      await store.clear()
      await store.close()
    })
  })

  describe('the commands of one event-loop turn', () => {
    it('on the cache client defaults, the reads go out in one write and the auto-pipelined commands in one more', async () => {
      const own = uniquePrefix('one-write-defaults')
      const store = new RedisStore({ url: redisUrl(), prefix: own, timeout: CONTRACT_TIMEOUT })
      const keys = Array.from({ length: 30 }, (_, i) => `item:${i}`)
      await Promise.all(keys.map((key) => store.set(key, Buffer.from(key), { ttlMs: 60_000 })))
      // The read client may still be connecting (the sets went on the store's write connection).
      await store.client.ping()

      const writes = countSocketWrites(store.client.stream)
      const reads = keys.map((key) => store.get(key))
      const found = [store.has('item:0'), store.has('absent')]
      const values = await Promise.all(reads)
      expect(await Promise.all(found)).toEqual([true, false])
      writes.restore()
      expect(values.map((value) => Buffer.from(value as Uint8Array).toString())).toEqual(keys)
      expect({ calls: writes.calls, chunks: writes.chunks }).toEqual({ calls: 2, chunks: 31 })
      await store.clear()
      await store.close()
    })

    it('a command sent from a setImmediate callback, after the turn released its socket, is answered, and the socket is released again', async () => {
      const own = uniquePrefix('late-write')
      const store = new RedisStore({ url: redisUrl(), prefix: own, timeout: CONTRACT_TIMEOUT })
      await store.set('k', Buffer.from('v'), { ttlMs: 60_000 })
      const late = await new Promise<Uint8Array | undefined>((resolve, reject) => {
        void store.get('k')
        setImmediate(() => {
          store.get('k').then(resolve, reject)
        })
      })
      expect(Buffer.from(late as Uint8Array).toString()).toBe('v')
      await nextTurn()
      expect(store.client.stream.writableCorked).toBe(0)
      await store.clear()
      await store.close()
    })

    it('a socket destroyed while held leaves the reconnected one writable', async () => {
      const own = uniquePrefix('held-reconnect')
      const shared = createClient({ ...CACHE_CLIENT_DEFAULTS, connectTimeout: 5_000 })
      const store = new RedisStore({ client: shared, prefix: own, timeout: CONTRACT_TIMEOUT })
      await store.set('k', Buffer.from('v'), { ttlMs: 60_000 })
      // Ready, so the read below corks its socket (the set went on the store's write connection).
      await shared.ping()
      const held = shared.stream
      const reconnected = new Promise((resolve) => shared.once('ready', resolve))
      const lost = store.get('k')
      expect(held.writableCorked).toBe(1)
      held.destroy()
      // ioredis sends it again on the new connection (maxRetriesPerRequest: 1), or the store
      // answers "absent": either way it settles, and does not throw.
      expect([undefined, 'v']).toContain((await lost)?.toString())
      await reconnected
      expect(shared.stream).not.toBe(held)
      expect(Buffer.from((await store.get('k')) as Uint8Array).toString()).toBe('v')
      await nextTurn()
      expect(shared.stream.writableCorked).toBe(0)
      await store.clear()
      await store.close()
    })
  })

  for (const library of REDIS_LIBRARIES) {
    describe(`when Redis stops answering (${library.name})`, () => {
      it('times out within the deadline and the Cache serves a miss', async () => {
        const proxy = await createTcpProxy({
          targetPort: Number(new URL(redisUrl()).port || 6379),
          targetHost: new URL(redisUrl()).hostname,
        })
        const proxied = await library.connect({ port: proxy.port })
        const store = new RedisStore({ client: proxied, prefix: uniquePrefix('hung'), timeout: 30 })
        const cache = new Cache({ store })
        const errors: Error[] = []
        cache.on('error', (error) => errors.push(error))
        await cache.set('k', 'v')
        proxy.setMode('blackhole')
        const started = performance.now()
        expect(await cache.get('k')).toBeUndefined()
        expect(performance.now() - started).toBeLessThan(1000)
        expect(errors[0]).toBeInstanceOf(StoreTimeoutError)
        proxy.setMode('pass')
        await store.clear()
        await store.close()
      })

      it('a strict read throws StoreUnavailableError (reason "timeout") where a lenient one answers "absent"', async () => {
        const proxy = await createTcpProxy({
          targetPort: Number(new URL(redisUrl()).port || 6379),
          targetHost: new URL(redisUrl()).hostname,
        })
        const proxied = await library.connect({ port: proxy.port })
        const store = new RedisStore({
          client: proxied,
          prefix: uniquePrefix('strict'),
          timeout: 50,
        })
        const cache = new Cache({ store, breaker: false })
        cache.on('error', () => {})
        // Polled, as the read after the fault: a healthy write can miss a 50 ms deadline under load.
        await vi.waitFor(async () => expect(await cache.set('revoked:abc', 1)).toBe(true), {
          timeout: 10_000,
          interval: 20,
        })
        proxy.setMode('blackhole')
        expect(await cache.has('revoked:abc')).toBe(false)
        const error = await cache.has('revoked:abc', { strict: true }).then(
          () => undefined,
          (e: unknown) => e
        )
        expect(error).toBeInstanceOf(StoreUnavailableError)
        expect((error as StoreUnavailableError).reason).toBe('timeout')
        proxy.setMode('pass')
        await vi.waitFor(
          async () => expect(await cache.has('revoked:abc', { strict: true })).toBe(true),
          {
            timeout: 10_000,
            interval: 20,
          }
        )
        await store.clear()
        await proxy.close()
      })
    })
  }
})

import { Cluster } from 'ioredis'
import { Cache, StoreTimeoutError, StoreUnavailableError } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { REDIS_LIBRARIES, type RedisLibrary } from '../setup/node-redis.js'
import {
  clusterNodes,
  createClient,
  createClusterClient,
  deleteKeysWithPrefix,
  describeCluster,
  describeRedis,
  redisUrl,
  uniquePrefix,
} from '../setup/redis.js'

/** A store on the shared Redis through a fault proxy, with a breaker that opens after 3 failures, on a client of `library`. */
async function proxiedStore(
  library: RedisLibrary,
  breaker: { failureThreshold: number; breakDuration: string }
): Promise<{
  cache: Cache
  store: RedisStore
  proxy: Awaited<ReturnType<typeof createTcpProxy>>
  errors: Error[]
}> {
  const target = new URL(redisUrl())
  const proxy = await createTcpProxy({
    targetPort: Number(target.port || 6379),
    targetHost: target.hostname,
  })
  const client = await library.connect({ port: proxy.port })
  const store = new RedisStore({
    client,
    prefix: uniquePrefix('breakers'),
    timeout: '100ms',
    breaker,
  })
  const cache = new Cache({ store })
  const errors: Error[] = []
  cache.on('error', (error) => errors.push(error))
  return { cache, store, proxy, errors }
}

/** `k` stored before the fault: on a loaded machine a 100 ms write may need a second try. */
async function storeOnce(cache: Cache): Promise<void> {
  await vi.waitFor(async () => expect(await cache.set('k', 'v')).toBe(true), {
    timeout: 10_000,
    interval: 50,
  })
}

describeRedis('RedisStore breakers (per node, per direction)', () => {
  for (const library of REDIS_LIBRARIES) {
    describe(`on ${library.name}`, () => {
      it('opens after failureThreshold failures and stops sending that direction', async () => {
        const { cache, store, proxy, errors } = await proxiedStore(library, {
          failureThreshold: 3,
          breakDuration: '1m',
        })
        await storeOnce(cache)
        const timeoutsBefore = cache.stats().timeouts
        proxy.setMode('blackhole')
        for (let i = 0; i < 10; i++) expect(await cache.get('k')).toBeUndefined()
        const stats = cache.stats()
        expect(stats.dropped.read['breaker-open']).toBe(7)
        expect(stats).toMatchObject({ breaker: 'open', skipped: 7 })
        expect(stats.timeouts - timeoutsBefore).toBe(3)
        // The breaker opening reaches the error event (and so an app's onError), as the faults do, rate-limited.
        expect(
          errors.some(
            (error) =>
              error instanceof StoreUnavailableError &&
              error.reason === 'breaker-open' &&
              /skipped for 1m|skipped for 60000 ms/.test(error.message)
          )
        ).toBe(true)
        expect(errors.filter((error) => error instanceof StoreTimeoutError).length).toBeLessThan(3)
        // A strict read says why it could not ask (ported from the Cache-level breaker's strict-read test).
        await expect(cache.get('k', { strict: true })).rejects.toMatchObject({
          name: 'StoreUnavailableError',
          reason: 'breaker-open',
        })
        expect(stats.breakers.find((b) => b.direction === 'read')?.state).toBe('open')
        // Writes are judged on their own: nothing failed there yet.
        expect(stats.breakers.find((b) => b.direction === 'write')?.state).toBe('closed')
        proxy.setMode('pass')
        await store.close()
      })

      it('probes after the break and closes when Redis answers again', async () => {
        const { cache, store, proxy } = await proxiedStore(library, {
          failureThreshold: 3,
          breakDuration: '100ms',
        })
        const transitions: string[] = []
        cache.on(
          'breaker',
          ({ from, to, node, direction }) =>
            void transitions.push(
              `${direction}@${node === undefined ? '?' : 'node'}: ${from}->${to}`
            )
        )
        await storeOnce(cache)
        proxy.setMode('blackhole')
        for (let i = 0; i < 5; i++) await cache.get('k')
        expect(cache.stats().breaker).toBe('open')
        proxy.setMode('pass')
        await vi.waitFor(async () => expect(await cache.get('k')).toBe('v'), {
          timeout: 5000,
          interval: 20,
        })
        expect(cache.stats().breakers.every((b) => b.state === 'closed')).toBe(true)
        // Every transition of the read breaker reached the cache's `breaker` event, with its node.
        const reads = transitions.filter((transition) => transition.startsWith('read@node'))
        expect(reads[0]).toBe('read@node: closed->open')
        expect(reads.at(-1)).toMatch(/->closed$/)
        await store.close()
      })
    })
  }

  it('reports its health: breakers, nothing pending at rest, no drops', async () => {
    const client = createClient()
    const store = new RedisStore({ client, prefix: uniquePrefix('health'), timeout: '2s' })
    const cache = new Cache({ store })
    await cache.set('k', 1)
    await cache.get('k')
    const { port } = new URL(redisUrl())
    expect(cache.stats()).toMatchObject({
      breaker: 'closed',
      pendingOperations: 0,
      queuedInvalidations: 0,
      dropped: {
        read: { 'breaker-open': 0, 'queue-full': 0, 'queue-timeout': 0 },
        write: { 'breaker-open': 0, 'queue-full': 0, 'queue-timeout': 0 },
      },
    })
    expect(
      cache
        .stats()
        .breakers.map((b) => `${b.node.split(':')[1]}/${b.direction}`)
        .sort()
    ).toEqual([`${port || 6379}/read`, `${port || 6379}/write`])
    await store.clear()
    await store.close()
  })

  it('drops what its queue cannot hold, counted as queue-full, never silently', async () => {
    const client = createClient()
    const store = new RedisStore({
      client,
      prefix: uniquePrefix('queue-full'),
      timeout: '2s',
      maxInFlight: 1,
      maxQueue: 10,
    })
    const cache = new Cache({ store })
    const errors: Error[] = []
    cache.on('error', (error) => errors.push(error))
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => cache.set(`k${i}`, i)))
    const stored = results.filter(Boolean).length
    const { dropped, skipped } = cache.stats()
    expect(stored).toBeGreaterThanOrEqual(11)
    expect(dropped.write['queue-full']).toBe(50 - stored)
    expect(skipped).toBe(50 - stored)
    expect(errors.some((error) => (error as { reason?: string }).reason === 'queue-full')).toBe(
      true
    )
    await store.clear()
    await store.close()
  })
})

describeRedis('RedisStore tag index under concurrent writes', () => {
  it('a key set again while its tag is invalidated stays reachable from the tag', async () => {
    const client = createClient()
    const prefix = uniquePrefix('generations')
    const store = new RedisStore({ client, prefix, timeout: '2s' })
    for (let round = 0; round < 150; round++) {
      await Promise.all([
        store.set('k', Buffer.from(String(round)), { ttlMs: 60_000, tags: ['t'] }),
        store.invalidateTags(['t']),
        store.set('k2', Buffer.from(String(round)), { ttlMs: 60_000, tags: ['t'] }),
      ])
      for (const key of ['k', 'k2']) {
        if ((await client.exists(`${prefix}k:${key}`)) === 1)
          expect(await client.zscore(`${prefix}tag:t`, key)).not.toBeNull()
      }
    }
    await store.invalidateTags(['t'])
    expect(await client.exists(`${prefix}k:k`, `${prefix}k:k2`)).toBe(0)
    await store.close()
    await deleteKeysWithPrefix(client, prefix)
  })

  it('two processes racing on a bounded set never pass its cap', async () => {
    const prefix = uniquePrefix('bounded')
    const a = new Cache({
      store: new RedisStore({ client: createClient(), prefix, timeout: '2s' }),
    })
    const b = new Cache({
      store: new RedisStore({ client: createClient(), prefix, timeout: '2s' }),
    })
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? a : b).addToBoundedSet('variants:/products', `variant-${i}`, {
          max: 32,
          ttl: '1m',
        })
      )
    )
    expect(results.filter((result) => result?.added)).toHaveLength(32)
    expect(Math.max(...results.map((result) => result?.size ?? 0))).toBe(32)
    await a.clear()
    await Promise.all([a.close(), b.close()])
  })
})

describeCluster('RedisStore on a Cluster: slot map refresh', () => {
  it('gives a Cluster built without slotsRefreshInterval one, before it is ready', () => {
    const cluster = createClusterClient({ lazyConnect: true })
    expect(cluster.options.slotsRefreshInterval).toBeUndefined()
    const store = new RedisStore({ client: cluster, prefix: uniquePrefix('refresh') })
    expect(cluster.options.slotsRefreshInterval).toBe(2000)
    return store.close()
  })

  it('refreshes the slot map of a Cluster that was already ready, and leaves one with its own interval alone', async () => {
    const ready = new Cluster(clusterNodes(), { redisOptions: { connectTimeout: 5000 } })
    await new Promise((resolve) => ready.once('ready', resolve))
    let refreshes = 0
    ready.on('refresh', () => refreshes++)
    const store = new RedisStore({ client: ready, prefix: uniquePrefix('refresh'), timeout: '2s' })
    await vi.waitFor(() => expect(refreshes).toBeGreaterThan(0), { timeout: 6000, interval: 100 })
    await store.close()
    ready.disconnect()

    const tuned = createClusterClient({ lazyConnect: true, slotsRefreshInterval: 10_000 })
    const untouched = new RedisStore({ client: tuned, prefix: uniquePrefix('refresh') })
    expect(tuned.options.slotsRefreshInterval).toBe(10_000)
    await untouched.close()
  })

  it('warns once about a Cluster with auto-pipelining on, and writes on a connection without it', async () => {
    const warnings: Error[] = []
    const listen = (warning: Error): void => void warnings.push(warning)
    process.on('warning', listen)
    onTestFinished(() => void process.off('warning', listen))
    const autoPipelined = createClusterClient({ lazyConnect: true, enableAutoPipelining: true })
    const stores = [
      new RedisStore({ client: autoPipelined, prefix: uniquePrefix('auto-pipelined') }),
      new RedisStore({ client: autoPipelined, prefix: uniquePrefix('auto-pipelined') }),
      new RedisStore({
        client: createClusterClient({ lazyConnect: true }),
        prefix: uniquePrefix('plain'),
      }),
    ]
    await new Promise((resolve) => setImmediate(resolve))
    const about = warnings.filter(
      (warning) =>
        (warning as Error & { code?: string }).code === 'CACHEWIRE_CLUSTER_AUTO_PIPELINING'
    )
    // One: the client's. The write connection each store duplicates from it would be a second.
    expect(about).toHaveLength(1)
    expect(about[0]?.message).toMatch(/enableAutoPipelining: false/)
    await Promise.all(stores.map((store) => store.close()))
  })

  it('keeps one breaker per master and direction', async () => {
    const cluster = createClusterClient()
    const prefix = uniquePrefix('per-master')
    const cache = new Cache({ store: new RedisStore({ client: cluster, prefix, timeout: '2s' }) })
    await Promise.all(Array.from({ length: 60 }, (_, i) => cache.set(`key:${i}`, i)))
    await Promise.all(Array.from({ length: 60 }, (_, i) => cache.get(`key:${i}`)))
    // Calls made before the Cluster knew its slots are counted under 'cluster'.
    const masters = cache.stats().breakers.filter((b) => b.node !== 'cluster')
    expect(new Set(masters.map((b) => b.node)).size).toBe(3)
    expect(masters).toHaveLength(6)
    await cache.clear()
    await cache.close()
  })
})

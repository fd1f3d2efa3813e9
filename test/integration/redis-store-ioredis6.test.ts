import { defineStoreContract } from '@cachewire/core/testing'
import { RedisBus, RedisJournal, RedisRevocationSync, RedisStore } from '@cachewire/core/redis'
import { Cache, revocations } from '@cachewire/core'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  createClient,
  createClusterClient,
  deleteKeysWithPrefix,
  describeCluster,
  describeRedis,
  uniquePrefix,
} from '../setup/redis.js'
import { createIoredis6Client, createIoredis6ClusterClient } from '../setup/ioredis6.js'
import { expectManyStoresShareOneClient } from '../helpers/shared-client.js'
import { countSocketWrites } from '../helpers/socket-writes.js'
import { CORE_README, snippet, typecheckSources } from '../migration/readme-snippets.js'

/**
 * The store's peer range takes ioredis 5 and 6; the other files drive v5. ioredis 6 speaks RESP3
 * by default and reads replies with its own decoder: the contract, the one-write-per-turn corking
 * and the ioredis-only parts (journal, revocation sync) run here on it, RESP3 and RESP2.
 */
const CONTRACT_TIMEOUT = '2s'
const CAPABILITIES = { conditionalSet: true, rateWindows: true, ttl: true, measure: true }

for (const protocol of [3, 2] as const) {
  describeRedis(`RedisStore on ioredis 6, RESP${protocol} (standalone)`, () => {
    let client: ReturnType<typeof createIoredis6Client>
    let prefix = uniquePrefix('ioredis6')
    let store: RedisStore | undefined
    // In a hook, not the describe body, which vitest runs even when the describe is skipped.
    beforeAll(() => {
      client = createIoredis6Client({ protocol })
    })

    defineStoreContract({
      name: `RedisStore (ioredis 6, RESP${protocol}, standalone)`,
      create: () => {
        prefix = uniquePrefix(`ioredis6-resp${protocol}`)
        store = new RedisStore({ client, prefix, timeout: CONTRACT_TIMEOUT })
        return store
      },
      createPeer: () =>
        new RedisStore({
          client: createIoredis6Client({ protocol }),
          prefix,
          timeout: CONTRACT_TIMEOUT,
        }),
      cleanup: async () => {
        await store?.close()
        await deleteKeysWithPrefix(createClient(), prefix)
      },
      runner: { describe, it, beforeEach, afterEach },
      capabilities: CAPABILITIES,
    })
  })
}

describeRedis('RedisStore on ioredis 6 (standalone)', () => {
  it('shares one client among many stores without a MaxListenersExceededWarning', async () => {
    await expectManyStoresShareOneClient(createIoredis6Client(), CONTRACT_TIMEOUT)
  })

  it('stores one binary string per entry, readable through ioredis 5: the two majors share a store', async () => {
    const own = uniquePrefix('ioredis6-layout')
    const store = new RedisStore({
      client: createIoredis6Client(),
      prefix: own,
      timeout: CONTRACT_TIMEOUT,
    })
    const body = Buffer.from([0, 255, 10, 13, 0x7b])
    await store.set('entry', body, { ttlMs: 60_000, tags: ['t1'] })
    const v5 = createClient()
    expect((await v5.getBuffer(`${own}k:entry`))?.equals(body)).toBe(true)
    const peer = new RedisStore({ client: v5, prefix: own, timeout: CONTRACT_TIMEOUT })
    expect(Buffer.from((await peer.get('entry')) as Uint8Array).equals(body)).toBe(true)
    expect(await peer.invalidateTags(['t1'])).toBe(1)
    expect(await store.get('entry')).toBeUndefined()
    await Promise.all([store.close(), peer.close()])
    await deleteKeysWithPrefix(v5, own)
  })

  it('reads a value larger than a socket read whole (a reply that spans reads)', async () => {
    const own = uniquePrefix('ioredis6-large')
    const store = new RedisStore({
      client: createIoredis6Client(),
      prefix: own,
      timeout: CONTRACT_TIMEOUT,
    })
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(200_000 + i, i + 1))
    await Promise.all(bodies.map((body, i) => store.set(`big:${i}`, body, { ttlMs: 60_000 })))
    const read = await Promise.all(bodies.map((_, i) => store.get(`big:${i}`)))
    expect(read.map((value, i) => Buffer.from(value as Uint8Array).equals(bodies[i]!))).toEqual(
      bodies.map(() => true)
    )
    await store.clear()
    await store.close()
  })

  it("sends the commands of one event-loop turn in one socket write, the app's own with them, and releases the socket after the turn", async () => {
    const own = uniquePrefix('ioredis6-one-write')
    const shared = createIoredis6Client()
    const store = new RedisStore({ client: shared, prefix: own, timeout: CONTRACT_TIMEOUT })
    const keys = Array.from({ length: 30 }, (_, i) => `item:${i}`)
    await Promise.all(keys.map((key) => store.set(key, Buffer.from(key), { ttlMs: 60_000 })))

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

  it('carries RedisBus invalidations to a bus on ioredis 5 and back (the subscriber is a duplicate)', async () => {
    const channel = `${uniquePrefix('ioredis6-bus')}invalidate`
    const six = new RedisBus({ client: createIoredis6Client(), channel })
    const five = new RedisBus({ client: createClient(), channel })
    const onSix: unknown[] = []
    const onFive: unknown[] = []
    await six.subscribe((message) => onSix.push(message))
    await five.subscribe((message) => onFive.push(message))
    await six.publish({ op: 'tags', tags: ['product:1'] })
    await five.publish({ op: 'keys', keys: ['k1'] })
    // A bus hears the other's messages, not its own (its process invalidated already).
    await vi.waitFor(
      () => {
        expect(onSix).toEqual([{ op: 'keys', keys: ['k1'] }])
        expect(onFive).toEqual([{ op: 'tags', tags: ['product:1'] }])
      },
      { timeout: 5000, interval: 20 }
    )
    await Promise.all([six.close(), five.close()])
  })

  it('keeps a write-behind journal: what is appended and not acknowledged is replayed, in order', async () => {
    const key = `${uniquePrefix('ioredis6-journal')}journal`
    const client = createIoredis6Client()
    const journal = new RedisJournal<{ n: number }>({ client, key })
    const ids = [
      await journal.append('a', { n: 1 }, 1),
      await journal.append('b', { n: 2 }, 2),
      await journal.append('a', { n: 3 }, 3),
    ]
    await journal.acknowledge([ids[0]!])
    const replayed = await new RedisJournal<{ n: number }>({
      client: createIoredis6Client(),
      key,
    }).replay()
    expect(replayed.map(({ key, value, version }) => [key, value.n, version])).toEqual([
      ['b', 2, 2],
      ['a', 3, 3],
    ])
    expect(await client.pttl(key)).toBeGreaterThan(0)
    await client.unlink(key)
  })

  it('sees a revoke made through another process at once (RedisRevocationSync on RESP3 pub/sub)', async () => {
    const own = uniquePrefix('ioredis6-revocations')
    const lists = [createIoredis6Client(), createIoredis6Client()].map((client) =>
      revocations(
        new Cache({
          store: new RedisStore({ client, prefix: own, timeout: CONTRACT_TIMEOUT }),
          breaker: false,
        }),
        { sync: new RedisRevocationSync({ client, channel: `${own}revocations` }) }
      )
    )
    const [a, b] = lists as [(typeof lists)[0], (typeof lists)[0]]
    await Promise.all([a.start(), b.start()])
    try {
      const tokens = Array.from({ length: 10 }, (_, i) => `token-${i}`)
      for (const token of tokens) expect(await b.isRevoked(token)).toBe(false)
      for (const token of tokens) {
        await a.revoke(token, { until: Date.now() + 60_000 })
        expect(await b.isRevoked(token)).toBe(true)
      }
    } finally {
      await Promise.all([a.close(), b.close()])
      await deleteKeysWithPrefix(createClient(), own)
    }
  })

  it("runs the core README's ioredis 6 snippet, its import of ioredis given v6", async () => {
    const code = snippet('ioredis6-store', CORE_README).replace("from 'ioredis'", "from 'ioredis6'")
    const dir = fileURLToPath(new URL('../migration/.snippets/', import.meta.url))
    mkdirSync(dir, { recursive: true })
    const file = `${dir}ioredis6-store-${process.pid}-${Date.now()}.ts`
    writeFileSync(file, `${code}\nexport { user }\n`)
    const { user } = (await import(/* @vite-ignore */ file)) as { user: unknown }
    expect(user).toEqual({ name: 'Ada' })
  })

  it("typechecks in a project whose ioredis is v6: its clients and Clusters given to RedisStore, RedisBus, RedisJournal and RedisRevocationSync, and the core README's snippet", async () => {
    const source = [
      "import { Cluster, Redis } from 'ioredis'",
      "import { CACHE_CLIENT_DEFAULTS, RedisBus, RedisJournal, RedisRevocationSync, RedisStore } from '@cachewire/core/redis'",
      'const clients = [new Redis(), new Redis({ protocol: 2 }), new Redis(CACHE_CLIENT_DEFAULTS), new Cluster([])]',
      'for (const client of clients) {',
      '  new RedisStore({ client })',
      '  new RedisStore(client)',
      "  new RedisBus({ client, channel: 'typecheck' })",
      "  new RedisJournal({ client, key: 'typecheck' })",
      '  new RedisRevocationSync({ client })',
      '}',
    ].join('\n')
    // `paths` sends every import of ioredis (the declarations of @cachewire/core's included) to v6.
    const ioredis6 = fileURLToPath(
      new URL('../node_modules/ioredis6/built/index.d.ts', import.meta.url)
    )
    expect(
      await typecheckSources(
        { 'ioredis6-clients': source, 'ioredis6-store': snippet('ioredis6-store', CORE_README) },
        { paths: { ioredis: [ioredis6] } }
      )
    ).toBe('')
  }, 120_000)
})

describeCluster('RedisStore on ioredis 6 (Cluster, 3 masters, 3 replicas)', () => {
  let cluster: ReturnType<typeof createIoredis6ClusterClient>
  let prefix = uniquePrefix('ioredis6-cluster')
  let store: RedisStore | undefined
  beforeAll(() => {
    cluster = createIoredis6ClusterClient()
  })

  defineStoreContract({
    name: 'RedisStore (ioredis 6, cluster)',
    create: () => {
      prefix = uniquePrefix('ioredis6-cluster')
      store = new RedisStore({ client: cluster, prefix, timeout: CONTRACT_TIMEOUT })
      return store
    },
    createPeer: () =>
      new RedisStore({
        client: createIoredis6ClusterClient(),
        prefix,
        timeout: CONTRACT_TIMEOUT,
      }),
    cleanup: async () => {
      await store?.close()
      await deleteKeysWithPrefix(createClusterClient(), prefix)
    },
    runner: { describe, it, beforeEach, afterEach },
    capabilities: CAPABILITIES,
  })

  it('spreads keys over every master and clears them all (no CROSSSLOT), each master read in one write a turn', async () => {
    const own = uniquePrefix('ioredis6-spread')
    const store = new RedisStore({ client: cluster, prefix: own, timeout: CONTRACT_TIMEOUT })
    const keys = Array.from({ length: 60 }, (_, i) => `item:${i}`)
    await Promise.all(
      keys.map((key, i) =>
        store.set(key, Buffer.from(key), { ttlMs: 60_000, tags: ['all', `even:${i % 2}`] })
      )
    )
    await Promise.all(cluster.nodes('master').map((node) => node.ping()))
    const masters = cluster.nodes('master')
    const writes = masters.map((node) => countSocketWrites(node.stream))
    const values = await Promise.all(keys.map((key) => store.get(key)))
    for (const counted of writes) counted.restore()
    expect(values.map((value) => Buffer.from(value as Uint8Array).toString())).toEqual(keys)
    expect(writes.map((counted) => counted.calls)).toEqual([1, 1, 1])
    await nextTurn()
    expect(cluster.nodes('all').map((node) => node.stream?.writableCorked ?? 0)).toEqual(
      cluster.nodes('all').map(() => 0)
    )
    expect(await store.invalidateTags(['even:0'])).toBe(30)
    expect(await store.deletePattern('item:1*')).toBeGreaterThan(0)
    await store.clear()
    const left = await Promise.all(cluster.nodes('master').map((node) => node.keys(`${own}*`)))
    expect(left.flat()).toEqual([])
    await store.close()
  })

  it('carries RedisBus invalidations across the Cluster', async () => {
    const channel = `${uniquePrefix('ioredis6-cluster-bus')}invalidate`
    const a = new RedisBus({ client: cluster, channel })
    const b = new RedisBus({ client: createIoredis6ClusterClient(), channel })
    const received: unknown[] = []
    await b.subscribe((message) => received.push(message))
    await a.publish({ op: 'keys', keys: ['k1', 'k2'] })
    await vi.waitFor(() => expect(received).toEqual([{ op: 'keys', keys: ['k1', 'k2'] }]), {
      timeout: 5000,
      interval: 20,
    })
    await Promise.all([a.close(), b.close()])
  })
})

import { defineStoreContract } from '@cachewire/core/testing'
import { RedisBus, RedisJournal, RedisRevocationSync, RedisStore } from '@cachewire/core/redis'
import { createClient as createNodeRedisClient } from 'redis'
import type { RedisClient } from '@cachewire/core/redis'
import { InvalidOptionError } from '@cachewire/core'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { startRedisProcess } from '../helpers/redis-process.js'
import {
  expectManyStoresShareOneClient,
  expectStoreSharedWithIoredis5,
} from '../helpers/shared-client.js'
import { expectBusCarries } from '../helpers/bus.js'
import { CORE_README, runSnippet, snippet, typecheckSources } from '../migration/readme-snippets.js'
import {
  connectNodeRedis,
  connectNodeRedisCluster,
  type NodeRedisVersion,
} from '../setup/node-redis.js'
import {
  createClient,
  createClusterClient,
  deleteKeysWithPrefix,
  describeCluster,
  describeRedis,
  uniquePrefix,
} from '../setup/redis.js'

/** As in redis-store.test.ts: the contract tests behaviour; deadlines are tested through a proxy (redis-breakers.test.ts). */
const CONTRACT_TIMEOUT = '2s'
const CAPABILITIES = { conditionalSet: true, rateWindows: true, ttl: true, measure: true }
const VERSIONS: NodeRedisVersion[] = [4, 5]

/** How often each of EVALSHA and EVAL reached the server (executed or refused), from INFO commandstats. */
async function scriptCalls(client: RedisClient): Promise<{ evalsha: number; eval: number }> {
  const info = String(
    await (client as { sendCommand(args: string[]): Promise<unknown> }).sendCommand([
      'INFO',
      'commandstats',
    ])
  )
  const count = (command: string): number => {
    const line = info.split('\r\n').find((each) => each.startsWith(`cmdstat_${command}:`)) ?? ''
    return (
      Number(/\bcalls=(\d+)/.exec(line)?.[1] ?? 0) +
      Number(/rejected_calls=(\d+)/.exec(line)?.[1] ?? 0)
    )
  }
  return { evalsha: count('evalsha'), eval: count('eval') }
}

for (const version of VERSIONS) {
  describeRedis(`RedisStore on node-redis v${version} (standalone)`, () => {
    let client: RedisClient
    let prefix = uniquePrefix('node-redis')
    let store: RedisStore | undefined
    beforeAll(async () => {
      client = await connectNodeRedis(version)
    })

    defineStoreContract({
      name: `RedisStore (node-redis v${version}, standalone)`,
      create: () => {
        prefix = uniquePrefix(`node-redis-v${version}`)
        store = new RedisStore({ client, prefix, timeout: CONTRACT_TIMEOUT })
        return store
      },
      createPeer: async () =>
        new RedisStore({
          client: await connectNodeRedis(version),
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

    describe('many stores on one client', () => {
      it('share it without a MaxListenersExceededWarning, and leave its listener limit as it was once closed', async () => {
        const shared = (await connectNodeRedis(version)) as unknown as RedisClient & {
          getMaxListeners(): number
        }
        await expectManyStoresShareOneClient(shared, CONTRACT_TIMEOUT)
      })
    })

    describe('storage layout and lifetime', () => {
      it('stores one binary string per entry, readable by ioredis: the two libraries share a store', async () => {
        const own = uniquePrefix('node-redis-layout')
        const store = new RedisStore({ client, prefix: own, timeout: CONTRACT_TIMEOUT })
        await expectStoreSharedWithIoredis5(store, own, CONTRACT_TIMEOUT)
      })

      it('closes its own write connection and leaves the client it was given open', async () => {
        const own = await connectNodeRedis(version)
        const store = new RedisStore({
          client: own,
          prefix: uniquePrefix('node-redis-close'),
          timeout: CONTRACT_TIMEOUT,
        })
        await store.set('k', Buffer.from('v'), { ttlMs: 60_000 })
        await store.clear()
        await store.close()
        expect(own.isOpen).toBe(true)
        expect(await own.ping()).toBe('PONG')
      })

      it('reports its health per node and direction, named host:port', async () => {
        const store = new RedisStore({
          client,
          prefix: uniquePrefix('node-redis-health'),
          timeout: CONTRACT_TIMEOUT,
        })
        await store.set('k', Buffer.from('v'), { ttlMs: 60_000 })
        await store.get('k')
        expect(
          store
            .health()
            .breakers.map((b) => `${b.node}/${b.direction}/${b.state}`)
            .sort()
        ).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/:\d+\/read\/closed$/),
            expect.stringMatching(/:\d+\/write\/closed$/),
          ])
        )
        await store.clear()
        await store.close()
      })
    })

    describe('Lua scripts', () => {
      it('are sent as EVALSHA, and as EVAL once when the server does not know them (new server, SCRIPT FLUSH)', async () => {
        const server = await startRedisProcess()
        const own = await connectNodeRedis(version, { port: server.port })
        const store = new RedisStore({ client: own, prefix: 'scripts:', timeout: CONTRACT_TIMEOUT })
        expect(await store.increment('n', 1, 60_000)).toBe(1)
        expect(await scriptCalls(own)).toEqual({ evalsha: 1, eval: 1 })
        expect(await store.increment('n', 1, 60_000)).toBe(2)
        expect(await scriptCalls(own)).toEqual({ evalsha: 2, eval: 1 })
        await (own as { sendCommand(args: string[]): Promise<unknown> }).sendCommand([
          'SCRIPT',
          'FLUSH',
        ])
        expect(await store.increment('n', 1, 60_000)).toBe(3)
        expect(await scriptCalls(own)).toEqual({ evalsha: 3, eval: 2 })
        await store.close()
      })
    })

    describe('RedisBus', () => {
      it('carries invalidations between two buses on node-redis (the subscriber is a duplicate)', async () => {
        const channel = `${uniquePrefix('node-redis-bus')}invalidate`
        const a = new RedisBus({ client, channel })
        const b = new RedisBus({ client: await connectNodeRedis(version), channel })
        const received: unknown[] = []
        await b.subscribe((message) => received.push(message))
        await a.publish({ op: 'tags', tags: ['product:1'] })
        await vi.waitFor(() => expect(received).toEqual([{ op: 'tags', tags: ['product:1'] }]), {
          timeout: 5000,
          interval: 20,
        })
        await Promise.all([a.close(), b.close()])
      })
    })
  })

  describeCluster(`RedisStore on node-redis v${version} (Cluster, 3 masters, 3 replicas)`, () => {
    let cluster: RedisClient
    let prefix = uniquePrefix('node-redis-cluster')
    let store: RedisStore | undefined
    beforeAll(async () => {
      cluster = await connectNodeRedisCluster(version)
    })

    defineStoreContract({
      name: `RedisStore (node-redis v${version}, cluster)`,
      create: () => {
        prefix = uniquePrefix(`node-redis-v${version}-cluster`)
        store = new RedisStore({ client: cluster, prefix, timeout: CONTRACT_TIMEOUT })
        return store
      },
      createPeer: async () =>
        new RedisStore({
          client: await connectNodeRedisCluster(version),
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

    it('spreads keys over every master, with one breaker per master and direction, and clears them all (no CROSSSLOT)', async () => {
      const own = uniquePrefix('node-redis-spread')
      const store = new RedisStore({ client: cluster, prefix: own, timeout: CONTRACT_TIMEOUT })
      const keys = Array.from({ length: 60 }, (_, i) => `item:${i}`)
      await Promise.all(
        keys.map((key, i) =>
          store.set(key, Buffer.from(String(i)), { ttlMs: 60_000, tags: ['all', `even:${i % 2}`] })
        )
      )
      const ioredis = createClusterClient()
      await ioredis.ping()
      const perMaster = await Promise.all(
        ioredis.nodes('master').map(async (node) => (await node.keys(`${own}k:*`)).length)
      )
      expect(perMaster.filter((count) => count > 0).length).toBe(3)
      const masters = store.health().breakers.filter((b) => b.node !== 'cluster')
      expect(new Set(masters.map((b) => b.node)).size).toBe(3)
      expect(await store.invalidateTags(['even:0'])).toBe(30)
      expect(await store.deletePattern('item:1*')).toBeGreaterThan(0)
      await store.clear()
      expect(
        (await Promise.all(ioredis.nodes('master').map((node) => node.keys(`${own}*`)))).flat()
      ).toEqual([])
      await store.close()
    })

    it('carries RedisBus invalidations across the Cluster (published on one node, heard on another)', async () => {
      await expectBusCarries(
        cluster,
        await connectNodeRedisCluster(version),
        'node-redis-cluster-bus'
      )
    })
  })
}

describeRedis('RedisStore on node-redis v5 speaking RESP3 (standalone)', () => {
  let client: RedisClient
  let prefix = uniquePrefix('node-redis-resp3')
  let store: RedisStore | undefined
  beforeAll(async () => {
    client = await connectNodeRedis(5, { resp: 3 })
  })

  defineStoreContract({
    name: 'RedisStore (node-redis v5, RESP3)',
    create: () => {
      prefix = uniquePrefix('node-redis-resp3')
      store = new RedisStore({ client, prefix, timeout: CONTRACT_TIMEOUT })
      return store
    },
    createPeer: async () =>
      new RedisStore({
        client: await connectNodeRedis(5, { resp: 3 }),
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

describeRedis('the core README on node-redis', () => {
  it('runs its node-redis snippet as written', async () => {
    const { user } = await runSnippet<{ user: unknown }>('node-redis-store', ['user'], CORE_README)
    expect(user).toEqual({ name: 'Ada' })
  })

  it('typechecks, as do clients and Clusters of both versions, RESP3 included, given to RedisStore and RedisBus', async () => {
    const clients = [
      "import { createClient, createCluster } from 'redis'",
      "import { createClient as createClient4, createCluster as createCluster4 } from 'redis4'",
      "import { RedisBus, RedisStore } from '@cachewire/core/redis'",
      'const clients = [createClient(), createClient({ RESP: 3 }), createCluster({ rootNodes: [] }), createClient4(), createCluster4({ rootNodes: [] })]',
      'for (const client of clients) {',
      '  new RedisStore({ client })',
      '  new RedisStore(client)',
      "  new RedisBus({ client, channel: 'typecheck' })",
      '}',
    ].join('\n')
    expect(
      await typecheckSources({
        'node-redis-store': snippet('node-redis-store', CORE_README),
        'node-redis-clients': clients,
      })
    ).toBe('')
  }, 120_000)
})

describe('RedisStore client detection', () => {
  it('names what it was given when it is neither an ioredis nor a node-redis client', () => {
    class NotAClient {
      get(): void {}
    }
    const attempt = (): RedisStore =>
      new RedisStore({ client: new NotAClient() as unknown as RedisClient })
    expect(attempt).toThrow(InvalidOptionError)
    expect(attempt).toThrow(
      'expected options.client to be an ioredis Redis or Cluster, or a node-redis (redis v4/v5) client from createClient() or createCluster(), got an object (NotAClient)'
    )
  })

  it('RedisJournal and RedisRevocationSync, ioredis-only for now, refuse a node-redis client at construction', () => {
    const client = createNodeRedisClient()
    expect(() => new RedisJournal({ client: client as never, key: 'journal' })).toThrow(
      /node-redis is not supported here yet/
    )
    expect(() => new RedisRevocationSync({ client: client as never })).toThrow(
      /node-redis is not supported here yet/
    )
  })
})

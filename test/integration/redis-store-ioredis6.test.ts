import { RedisBus, RedisJournal, RedisRevocationSync, RedisStore } from '@cachewire/core/redis'
import { Cache, revocations } from '@cachewire/core'
import { expect, it, vi } from 'vitest'
import { fileURLToPath } from 'node:url'
import { createClient, deleteKeysWithPrefix, describeRedis, uniquePrefix } from '../setup/redis.js'
import { createIoredis6Client } from '../setup/ioredis6.js'
import { expectStoreSharedWithIoredis5 } from '../helpers/shared-client.js'
import { CORE_README, runSnippet, snippet, typecheckSources } from '../migration/readme-snippets.js'

/**
 * What is particular to ioredis 6 (the store contract, the one-write-per-turn corking and the
 * Cluster run on both majors in redis-store.test.ts and redis-cluster.test.ts): a store shared
 * with ioredis 5 clients, replies its own decoder joins, the ioredis-only parts (journal,
 * revocation sync) on RESP3, and the core README's snippet and types in a project on v6.
 */
const CONTRACT_TIMEOUT = '2s'

describeRedis('RedisStore on ioredis 6 (standalone)', () => {
  it('stores one binary string per entry, readable through ioredis 5: the two majors share a store', async () => {
    const own = uniquePrefix('ioredis6-layout')
    const store = new RedisStore({
      client: createIoredis6Client(),
      prefix: own,
      timeout: CONTRACT_TIMEOUT,
    })
    await expectStoreSharedWithIoredis5(store, own, CONTRACT_TIMEOUT)
  })

  for (const protocol of [3, 2] as const)
    it(`on RESP${protocol}: reads values larger than a socket read whole (replies that span reads), counts through a script, and invalidates a tag`, async () => {
      const own = uniquePrefix(`ioredis6-resp${protocol}`)
      const store = new RedisStore({
        client: createIoredis6Client({ protocol }),
        prefix: own,
        timeout: CONTRACT_TIMEOUT,
      })
      const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(200_000 + i, i + 1))
      await Promise.all(
        bodies.map((body, i) => store.set(`big:${i}`, body, { ttlMs: 60_000, tags: ['big'] }))
      )
      const read = await Promise.all(bodies.map((_, i) => store.get(`big:${i}`)))
      expect(read.map((value, i) => Buffer.from(value as Uint8Array).equals(bodies[i]!))).toEqual(
        bodies.map(() => true)
      )
      expect(await store.increment('n', 2, 60_000)).toBe(2)
      expect(await store.increment('n', 3, 60_000)).toBe(5)
      expect(await store.invalidateTags(['big'])).toBe(8)
      expect(await store.get('big:0')).toBeUndefined()
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
    const { user } = await runSnippet<{ user: unknown }>(
      'ioredis6-store',
      ['user'],
      CORE_README,
      (code) => code.replace("from 'ioredis'", "from 'ioredis6'")
    )
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

import { defineStoreContract } from '@cachewire/core/testing'
import { RedisRevocationSync, RedisStore } from '@cachewire/core/redis'
import { Cache, revocations } from '@cachewire/core'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Cluster } from 'ioredis'
import { deleteKeysWithPrefix, describeCluster, uniquePrefix } from '../setup/redis.js'
import { IOREDIS_MAJORS } from '../setup/ioredis6.js'
import { expectBusCarries } from '../helpers/bus.js'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { countSocketWrites } from '../helpers/socket-writes.js'

/**
 * These cases test what the store does, not how fast: the default 50 ms deadline also covers a
 * fresh Cluster client's connect and slot discovery, which a loaded test machine can exceed. The
 * deadline itself is tested against a blackholed Redis (redis-store.test.ts, faults/).
 */
const CONTRACT_TIMEOUT = '2s'

for (const major of IOREDIS_MAJORS)
  describeCluster(
    `RedisStore on a Redis Cluster (3 masters, 3 replicas) through ${major.name}`,
    () => {
      let cluster: Cluster
      let prefix = uniquePrefix('cluster-store')
      let store: RedisStore | undefined
      // In a hook, not the describe body, which vitest runs even when the describe is skipped.
      beforeAll(() => {
        cluster = major.createClusterClient()
      })

      defineStoreContract({
        name: `RedisStore (cluster, ${major.name})`,
        create: () => {
          prefix = uniquePrefix('cluster-store')
          store = new RedisStore({ client: cluster, prefix, timeout: CONTRACT_TIMEOUT })
          return store
        },
        createPeer: () =>
          new RedisStore({
            client: major.createClusterClient(),
            prefix,
            timeout: CONTRACT_TIMEOUT,
          }),
        cleanup: async () => {
          // The store's own write connections; the client is the file's.
          await store?.close()
          await deleteKeysWithPrefix(cluster, prefix)
        },
        runner: { describe, it, beforeEach, afterEach },
        capabilities: { conditionalSet: true, rateWindows: true, ttl: true, measure: true },
      })

      describe('slot spread', () => {
        it('tags, patterns and clear work when keys land on every master (no CROSSSLOT)', async () => {
          const own = uniquePrefix('spread')
          const store = new RedisStore({ client: cluster, prefix: own, timeout: CONTRACT_TIMEOUT })
          const keys = Array.from({ length: 60 }, (_, i) => `item:${i}`)
          await Promise.all(
            keys.map((key, i) =>
              store.set(key, Buffer.from(String(i)), {
                ttlMs: 60_000,
                tags: ['all', `even:${i % 2}`],
              })
            )
          )
          const perMaster = await Promise.all(
            cluster.nodes('master').map(async (node) => (await node.keys(`${own}k:*`)).length)
          )
          expect(perMaster.filter((count) => count > 0).length).toBe(3)
          expect(await store.invalidateTags(['even:0'])).toBe(30)
          expect(await store.deletePattern('item:1*')).toBeGreaterThan(0)
          await store.clear()
          const left = await Promise.all(
            cluster.nodes('master').map((node) => node.keys(`${own}*`))
          )
          expect(left.flat()).toEqual([])
          await store.close()
        })
      })

      describe('the reads of one event-loop turn', () => {
        it('go out in one socket write per master, and every node is released after the turn', async () => {
          const own = uniquePrefix('one-write')
          const store = new RedisStore({ client: cluster, prefix: own, timeout: CONTRACT_TIMEOUT })
          const keys = Array.from({ length: 60 }, (_, i) => `item:${i}`)
          await Promise.all(keys.map((key) => store.set(key, Buffer.from(key), { ttlMs: 60_000 })))
          // The store writes on a connection of its own: the file's client connects to each master here.
          await Promise.all(cluster.nodes('master').map((node) => node.ping()))
          const masters = cluster.nodes('master')
          const writes = masters.map((node) => countSocketWrites(node.stream))
          const values = await Promise.all(keys.map((key) => store.get(key)))
          for (const counted of writes) counted.restore()
          expect(values.map((value) => Buffer.from(value as Uint8Array).toString())).toEqual(keys)
          // 60 keys spread over three masters: every master read some, each in one write.
          expect(writes.map((counted) => counted.calls)).toEqual([1, 1, 1])
          expect(writes.reduce((sum, counted) => sum + counted.chunks, 0)).toBe(60)
          await nextTurn()
          expect(cluster.nodes('all').map((node) => node.stream?.writableCorked ?? 0)).toEqual(
            cluster.nodes('all').map(() => 0)
          )
          await store.clear()
          await store.close()
        })
      })

      it('carries RedisBus invalidations across the Cluster (published on one node, heard on another)', async () => {
        await expectBusCarries(cluster, major.createClusterClient(), 'cluster-bus')
      })

      describe('revocations on a Cluster', () => {
        it('a revoke through one client is seen at once by a list whose front said "not revoked" (lease scripts on one slot, pub/sub across nodes)', async () => {
          const own = uniquePrefix('revocations')
          const lists = [major.createClusterClient(), major.createClusterClient()].map((client) =>
            revocations(
              new Cache({
                store: new RedisStore({ client, prefix: own, timeout: CONTRACT_TIMEOUT }),
                breaker: false,
              }),
              {
                sync: new RedisRevocationSync({ client, channel: `${own}revocations` }),
              }
            )
          )
          const [a, b] = lists as [(typeof lists)[0], (typeof lists)[0]]
          await Promise.all([a.start(), b.start()])
          try {
            const tokens = Array.from({ length: 20 }, (_, i) => `cluster-token-${i}`)
            for (const token of tokens) expect(await b.isRevoked(token)).toBe(false)
            expect(b.frontSize).toBe(20)
            for (const token of tokens) {
              await a.revoke(token, { until: Date.now() + 60_000 })
              expect(await b.isRevoked(token)).toBe(true)
            }
          } finally {
            await Promise.all([a.close(), b.close()])
            await deleteKeysWithPrefix(cluster, own)
            await deleteKeysWithPrefix(cluster, `{${own}revocations}`)
          }
        })
      })
    }
  )

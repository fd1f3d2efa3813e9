import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it, vi } from 'vitest'
import { Cluster } from 'ioredis'
import { Cache } from '@cachewire/core'
import { CACHE_CLUSTER_DEFAULTS, RedisStore } from '@cachewire/core/redis'
import { describeCluster, usePrivateCluster, uniquePrefix } from '../setup/redis.js'

const BASE_PORT = 7300
const stateDir = fileURLToPath(new URL('../../.redis-cluster/', import.meta.url))

describeCluster('Redis Cluster: a frozen master', () => {
  const cluster = usePrivateCluster(BASE_PORT)

  it('other shards keep hitting, and the failed-over shard recovers', async () => {
    const client = new Cluster(cluster.nodes, CACHE_CLUSTER_DEFAULTS)
    client.on('error', () => {})
    const cache = new Cache({ store: new RedisStore({ client, prefix: uniquePrefix('failover'), timeout: 60 }), breaker: false })
    cache.on('error', () => {})
    const keys = Array.from({ length: 90 }, (_, i) => `key:${i}`)
    for (const key of keys) await cache.set(key, key, { ttl: '5m' })
    // Let the replicas catch up before the master goes away.
    await client.nodes('master')[0]?.wait(1, 1000)
    for (const node of client.nodes('master')) await node.wait(1, 1000)

    const victim = client.nodes('master')[0]
    const victimPort = victim?.options.port as number
    const pid = Number(readFileSync(`${stateDir}${victimPort}/redis.pid`, 'utf8'))
    process.kill(pid, 'SIGSTOP')
    try {
      const started = performance.now()
      const results = await Promise.all(keys.map((key) => cache.get(key)))
      const hits = results.filter((value) => value !== undefined).length
      // About two shards of three still answer, each call bounded by the deadline.
      expect(hits).toBeGreaterThan(keys.length / 3)
      expect(hits).toBeLessThan(keys.length)
      expect(performance.now() - started).toBeLessThan(1000)

      // cluster-node-timeout is 2 s: a replica takes over, the client re-reads the slots.
      await vi.waitFor(
        async () => {
          const again = await Promise.all(keys.map((key) => cache.get(key)))
          expect(again.filter((value) => value !== undefined).length).toBe(keys.length)
        },
        { timeout: 20_000, interval: 250 }
      )
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    client.disconnect()
  }, 60_000)
})

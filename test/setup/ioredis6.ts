/**
 * ioredis 6 clients (through the `ioredis6` alias; `ioredis` itself is v5 here) on the test Redis
 * and the shared cluster, each quit when the test (or, outside a test, the file) ends. ioredis 6
 * speaks RESP3 unless told `protocol: 2`, and reads replies with a decoder of its own where v5
 * used redis-parser: the store must work on both majors its peer range names.
 */
import { Cluster, Redis } from 'ioredis6'
import type { ClusterOptions, RedisOptions } from 'ioredis6'
import { registerCleanup } from './cleanup.js'
import { closeIoredis, clusterNodes, redisUrl, urlOptions } from './redis.js'

/** An ioredis 6 client on REDIS_URL; `options` win over the URL (a tcp-proxy's port, `protocol: 2`). */
export function createIoredis6Client(options: RedisOptions = {}): Redis {
  const client = new Redis({
    ...urlOptions(redisUrl()),
    connectTimeout: 5_000,
    maxRetriesPerRequest: 1,
    ...options,
  })
  registerCleanup(() => closeIoredis(client))
  return client
}

/** An ioredis 6 Cluster client on the shared cluster. */
export function createIoredis6ClusterClient(options: ClusterOptions = {}): Cluster {
  const client = new Cluster(clusterNodes(), {
    redisOptions: { connectTimeout: 5_000 },
    ...options,
  })
  registerCleanup(() => closeIoredis(client))
  return client
}

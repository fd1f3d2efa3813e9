/**
 * ioredis 6 (through the `ioredis6` alias; `ioredis` itself is v5 here), for the tests that run on
 * both majors the store's peer range names. ioredis 6 speaks RESP3 unless told `protocol: 2`, and
 * reads replies with a decoder of its own where v5 used redis-parser.
 *
 * Its clients are typed here as v5's: the tests use what both majors have, the same way, and a
 * program that imports both sees two unrelated class hierarchies (a project has one of them).
 */
import type { ClusterOptions, Cluster, Redis, RedisOptions } from 'ioredis'
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6'
import { clusterNodes, createClient, createClusterClient } from './redis.js'

/** ioredis 6's `Redis` and `Cluster`, as setup/redis.ts's factories take them. */
export const IOREDIS6 = {
  Redis: Redis6 as unknown as typeof Redis,
  Cluster: Cluster6 as unknown as typeof Cluster,
}

/** An ioredis 6 client on REDIS_URL; `options` win over the URL (a tcp-proxy's port, `protocol: 2`). */
export function createIoredis6Client(options: RedisOptions & { protocol?: 2 | 3 } = {}): Redis {
  return createClient(options, IOREDIS6.Redis)
}

/** An ioredis 6 Cluster client on the shared cluster. */
export function createIoredis6ClusterClient(options: ClusterOptions = {}): Cluster {
  return createClusterClient(options, clusterNodes(), IOREDIS6.Cluster)
}

/** Each ioredis major with its client factories: the files that test a client run once per major. */
export const IOREDIS_MAJORS = [
  {
    name: 'ioredis 5',
    createClient,
    createClusterClient: (options: ClusterOptions = {}) => createClusterClient(options),
  },
  {
    name: 'ioredis 6',
    createClient: createIoredis6Client,
    createClusterClient: createIoredis6ClusterClient,
  },
]

import type { Cluster, Redis } from 'ioredis'
import type { NodeRedisAnyClient } from './redis-driver-node-redis.js'

export type { NodeRedisClient, NodeRedisCluster } from './redis-driver-node-redis.js'

/**
 * A client RedisStore works through: an ioredis `Redis` or `Cluster`, or a node-redis (`redis`
 * v4 or v5) client from `createClient()` or `createCluster()`, connected.
 */
export type RedisClient = Redis | Cluster | NodeRedisAnyClient

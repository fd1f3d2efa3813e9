import type { Cluster, Redis } from 'ioredis'

/** A standalone client or a Cluster; both are used through single-key commands only. */
export type RedisClient = Redis | Cluster

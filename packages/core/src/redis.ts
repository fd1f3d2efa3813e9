import { keepTickObjectShape } from './tick-shape.js'

export { RedisStore, CACHE_CLIENT_DEFAULTS, CACHE_CLUSTER_DEFAULTS } from './stores/redis-store.js'
export type {
  RedisStoreOptions,
  RedisBreakerOptions,
  RedisClient,
  NodeRedisClient,
  NodeRedisCluster,
} from './stores/redis-store.js'
export { RedisBus } from './stores/redis-bus.js'
export type { RedisBusOptions } from './stores/redis-bus.js'
export { RedisJournal } from './stores/redis-journal.js'
export type { RedisJournalOptions } from './stores/redis-journal.js'
export { RedisRevocationSync } from './stores/redis-revocation-sync.js'
export type { RedisRevocationSyncOptions } from './stores/redis-revocation-sync.js'

// Before the app connects a store: see keepTickObjectShape.
keepTickObjectShape()

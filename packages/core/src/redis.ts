export { RedisStore } from './stores/redis-store.js'
export type { RedisStoreOptions, RedisClient } from './stores/redis-store.js'

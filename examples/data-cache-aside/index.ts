// The storage core on its own: cache-aside around a slow lookup, write-through and write-behind.
// Runs on the in-memory store; set REDIS_URL to run the same code on Redis.
import { Cache, type Store } from '@cachewire/core'

const store: Store | undefined = process.env.REDIS_URL
  ? new (await import('@cachewire/core/redis')).RedisStore({
      url: process.env.REDIS_URL,
      prefix: 'example:',
    })
  : undefined
const cache = new Cache({ store, defaultTtl: '1m' })
const database = new Map<number, { id: number; name: string }>([[1, { id: 1, name: 'Ada' }]])

const slowFind = async (id: number): Promise<{ id: number; name: string } | undefined> => {
  await new Promise((resolve) => setTimeout(resolve, 100))
  return database.get(id)
}
const findUser = cache.cached(slowFind, { key: (id) => `user:${id}`, tags: (id) => [`user:${id}`] })

const time = async <T>(label: string, run: () => Promise<T>): Promise<T> => {
  const started = performance.now()
  const value = await run()
  console.log(
    `${label.padEnd(44)} ${(performance.now() - started).toFixed(1).padStart(6)} ms  ${JSON.stringify(value)}`
  )
  return value
}

await time('cache-aside, cold (runs the loader)', () => findUser(1))
await time('cache-aside, warm (served from the cache)', () => findUser(1))
const burst = await time('100 concurrent callers of a cold key', async () => {
  await cache.invalidateTags(['user:1'])
  let loads = 0
  await Promise.all(
    Array.from({ length: 100 }, () => cache.wrap('user:1', () => (loads++, slowFind(1))))
  )
  return { loaderRuns: loads }
})
void burst

await time('write-through (database, then cache)', async () => {
  await cache.writeThrough(
    'user:2',
    { id: 2, name: 'Grace' },
    async (user) => void database.set(2, user)
  )
  return cache.get('user:2')
})

const writer = cache.writeBehind<{ id: number; name: string }>({
  persist: async (batch) => {
    for (const write of batch) database.set(write.value.id, write.value)
    console.log(`  write-behind persisted a batch of ${batch.length}`)
  },
  batchSize: 50,
})
await time('write-behind x120 (acknowledged at once)', async () => {
  for (let id = 100; id < 220; id++) await writer.write(`user:${id}`, { id, name: `user ${id}` })
  return writer.stats()
})
await time('write-behind close() drains the queue', async () => {
  await writer.close()
  return writer.stats()
})
const counter = await cache.increment('rate:demo', 1, { ttl: '1m' })
console.log('counter', counter, 'stats', cache.stats())
await cache.close()

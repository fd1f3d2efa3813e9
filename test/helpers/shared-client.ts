import { RedisStore, type RedisClient } from '@cachewire/core/redis'
import { expect } from 'vitest'
import { createClient, deleteKeysWithPrefix, uniquePrefix } from '../setup/redis.js'

/**
 * Thirty RedisStores on one client (ioredis or node-redis): no MaxListenersExceededWarning while
 * they work, and the client's listener limit back where it was once they are all closed.
 */
export async function expectManyStoresShareOneClient(
  shared: RedisClient & { getMaxListeners(): number },
  timeout: string
): Promise<void> {
  const limitBefore = shared.getMaxListeners()
  const warnings: string[] = []
  const onWarning = (warning: Error): void => {
    if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning.message)
  }
  process.on('warning', onWarning)
  const own = uniquePrefix('shared-client')
  try {
    const stores = Array.from(
      { length: 30 },
      (_, i) => new RedisStore({ client: shared, prefix: `${own}${i}:`, timeout })
    )
    await Promise.all(
      stores.map((store, i) => store.set('k', Buffer.from(String(i)), { ttlMs: 60_000 }))
    )
    expect((await stores[29]?.get('k'))?.toString()).toBe('29')
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve))
    expect(warnings).toEqual([])
    await Promise.all(stores.map((store) => store.close()))
    expect(shared.getMaxListeners()).toBe(limitBefore)
  } finally {
    process.off('warning', onWarning)
    await deleteKeysWithPrefix(createClient(), own)
  }
}

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

/**
 * `store` (on any client) writes an entry as one binary string an ioredis 5 client reads as it
 * is, and a store on that client reads it and invalidates its tag: stores on different client
 * libraries share one Redis. Closes `store`.
 */
export async function expectStoreSharedWithIoredis5(
  store: RedisStore,
  prefix: string,
  timeout: string
): Promise<void> {
  const body = Buffer.from([0, 255, 10, 13, 0x7b])
  await store.set('entry', body, { ttlMs: 60_000, tags: ['t1'] })
  const ioredis = createClient()
  expect((await ioredis.getBuffer(`${prefix}k:entry`))?.equals(body)).toBe(true)
  const peer = new RedisStore({ client: ioredis, prefix, timeout })
  expect(Buffer.from((await peer.get('entry')) as Uint8Array).equals(body)).toBe(true)
  expect(await peer.invalidateTags(['t1'])).toBe(1)
  expect(await store.get('entry')).toBeUndefined()
  await Promise.all([store.close(), peer.close()])
  await deleteKeysWithPrefix(ioredis, prefix)
}

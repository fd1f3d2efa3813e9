import { RedisBus, type RedisClient } from '@cachewire/core/redis'
import { expect, vi } from 'vitest'
import { uniquePrefix } from '../setup/redis.js'

/**
 * A bus on `publisher` publishes an invalidation, and a bus on `subscriber` (another client: on a
 * Cluster, it may listen on another node) hears it. Both buses are closed after.
 */
export async function expectBusCarries(
  publisher: RedisClient,
  subscriber: RedisClient,
  label: string
): Promise<void> {
  const channel = `${uniquePrefix(label)}invalidate`
  const a = new RedisBus({ client: publisher, channel })
  const b = new RedisBus({ client: subscriber, channel })
  try {
    const received: unknown[] = []
    await b.subscribe((message) => received.push(message))
    await a.publish({ op: 'keys', keys: ['k1', 'k2'] })
    await vi.waitFor(() => expect(received).toEqual([{ op: 'keys', keys: ['k1', 'k2'] }]), {
      timeout: 5000,
      interval: 20,
    })
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}

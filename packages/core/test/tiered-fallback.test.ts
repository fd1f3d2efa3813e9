import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { TieredStore } from '../src/stores/tiered-store.js'
import { ChaosStore } from './chaos-store.js'
import type { Bus, InvalidationMessage } from '../src/types.js'

function recordingBus(): Bus & { sent: InvalidationMessage[] } {
  const sent: InvalidationMessage[] = []
  return { sent, publish: async (message) => void sent.push(message), subscribe: async () => {} }
}

describe('TieredStore while L2 is down', () => {
  it('answers data reads from L1, keeps writes made during the outage in L1, and reconciles after', async () => {
    const l2 = new ChaosStore(new MemoryStore())
    const bus = recordingBus()
    const tiered = new TieredStore({ l2, bus })
    // The breaker lives in the Redis store (issue 13); here the tiered store is what is tested.
    const cache = new Cache({ store: tiered, breaker: false })
    await cache.set('user:1', { name: 'Ada' })
    await cache.set('user:2', { name: 'Grace' })
    l2.failing = true
    expect(await cache.get('user:1')).toEqual({ name: 'Ada' })
    expect(await cache.set('user:2', { name: 'Grace Hopper' })).toBe(false) // not in the shared store: said so
    expect(await cache.get('user:2')).toEqual({ name: 'Grace Hopper' }) // but this process serves it
    expect(await cache.delete('user:1')).toEqual({ status: 'queued', removed: 0 }) // not applied to the shared store: said so
    expect(await cache.get('user:1')).toBeUndefined()
    expect(tiered.outage()).toMatchObject({ l2Down: true, pending: 2 })
    // L2 is back: the next L2 call settles the outage.
    l2.failing = false
    await cache.get('other')
    await tiered.reconciled()
    expect(tiered.outage()).toMatchObject({ l2Down: false, pending: 0, reconciled: 2 })
    // Both keys are gone from L2 (the old user:1 that outlived its delete, the old user:2) and from L1:
    // every process reloads them from the source of truth.
    expect(await l2.inner.get('user:1')).toBeUndefined()
    expect(await l2.inner.get('user:2')).toBeUndefined()
    expect(await cache.get('user:2')).toBeUndefined()
    expect(bus.sent).toContainEqual({ op: 'keys', keys: ['user:2', 'user:1'] })
  })

  it('keeps an outage write in L1 for its whole TTL, beyond l1MaxTtl', async () => {
    let now = 1000
    const l2 = new ChaosStore(new MemoryStore({ clock: () => now }))
    const tiered = new TieredStore({
      l2,
      l1: new MemoryStore({ clock: () => now }),
      l1MaxTtl: '1s',
    })
    const cache = new Cache({ store: tiered, breaker: false, clock: () => now })
    l2.failing = true
    await cache.set('k', 1, { ttl: '1m' })
    now += 30_000
    expect(await cache.get('k')).toBe(1)
  })

  it('fails a strict read of a key L1 does not hold, and answers one it does', async () => {
    const l2 = new ChaosStore(new MemoryStore())
    const cache = new Cache({ store: new TieredStore({ l2 }), breaker: false })
    await cache.set('held', 1)
    l2.failing = true
    expect(await cache.get('held', { strict: true })).toBe(1)
    await expect(cache.get('absent', { strict: true })).rejects.toMatchObject({
      code: 'CACHEWIRE_STORE_UNAVAILABLE',
    })
  })
})

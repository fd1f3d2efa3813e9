import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { StoreUnavailableError } from '../src/errors.js'
import { withDeadline } from '../src/resilience/deadline.js'
import { ChaosStore } from './chaos-store.js'
import type { Store } from '../src/types.js'

/** A store whose reads hang, behind a deadline, as RedisStore's are. */
class HungStore extends ChaosStore {
  override async has(_key: string): Promise<boolean> {
    return withDeadline(new Promise<boolean>(() => {}), 20, 'has')
  }
  override async get(_key: string): Promise<Uint8Array | undefined> {
    return withDeadline(new Promise<Uint8Array | undefined>(() => {}), 20, 'get')
  }
}

async function unavailable(read: Promise<unknown>): Promise<StoreUnavailableError> {
  const error = await read.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(StoreUnavailableError)
  return error as StoreUnavailableError
}

describe('strict reads', () => {
  it('throw StoreUnavailableError with reason "error" where a lenient read answers "absent"', async () => {
    const store = new ChaosStore(new MemoryStore())
    const cache = new Cache({ store, breaker: false })
    await cache.set('revoked:t', 1)
    store.failing = true
    expect(await cache.has('revoked:t')).toBe(false)
    expect(await cache.get('revoked:t')).toBeUndefined()
    for (const read of [
      cache.has('revoked:t', { strict: true }),
      cache.get('revoked:t', { strict: true }),
      cache.ttl('revoked:t', { strict: true }),
      cache.getWithMeta('revoked:t', { strict: true }),
    ]) {
      const error = await unavailable(read)
      expect(error.reason).toBe('error')
      expect(error.code).toBe('CACHEWIRE_STORE_UNAVAILABLE')
    }
    expect(cache.stats().errors).toBeGreaterThanOrEqual(6)
  })

  it('say "timeout" when the store did not answer within its deadline', async () => {
    const cache = new Cache({ store: new HungStore(new MemoryStore()), breaker: false })
    const error = await unavailable(cache.has('k', { strict: true }))
    expect(error.reason).toBe('timeout')
    expect(error.cause).toMatchObject({ code: 'CACHEWIRE_STORE_TIMEOUT' })
  })

  it('keep the reason of a store that guards itself (a breaker inside the store)', async () => {
    const guarded = new MemoryStore() as Store
    guarded.has = async () => {
      throw new StoreUnavailableError('node 7001 is open', { reason: 'breaker-open' })
    }
    const error = await unavailable(
      new Cache({ store: guarded, breaker: false }).has('k', { strict: true })
    )
    expect(error.reason).toBe('breaker-open')
  })

  it('apply to a namespace view, whose version read must not fail open either', async () => {
    const store = new ChaosStore(new MemoryStore())
    const sessions = new Cache({ store, breaker: false }).namespace('sessions')
    await sessions.set('s1', 1)
    store.failing = true
    expect((await unavailable(sessions.get('s1', { strict: true }))).reason).toBe('error')
  })

  it('are the default with strict: true on the cache, and a call may opt out', async () => {
    const store = new ChaosStore(new MemoryStore())
    const cache = new Cache({ store, breaker: false, strict: true })
    store.failing = true
    await unavailable(cache.get('k'))
    expect(await cache.get('k', { strict: false })).toBeUndefined()
    await expect(cache.get('k', { strict: 'yes' as never })).rejects.toThrow(/options\.strict/)
  })
})

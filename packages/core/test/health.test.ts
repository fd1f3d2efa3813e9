import { describe, expect, it } from 'vitest'
import { Cache, MemoryStore, StoreTimeoutError, InvalidOptionError } from '../src/index.js'
import type { Store, StoreHealth } from '../src/index.js'
import { ChaosStore } from './chaos-store.js'

/** A chaos store that can be pinged, answering as `answer` says. */
class PingableStore extends ChaosStore {
  answer: () => Promise<void> = async () => {}
  ping(): Promise<void> {
    return this.answer()
  }
}

describe('cache.health()', () => {
  it('is ok on a memory store, which has nothing to ping', async () => {
    const cache = new Cache({ store: new MemoryStore(), clock: () => 42 })
    expect(await cache.health()).toEqual({
      status: 'ok',
      problems: [],
      store: {
        name: 'memory',
        ping: 'not-supported',
        latencyMs: undefined,
        problem: undefined,
        error: undefined,
      },
      breaker: 'closed',
      breakers: [],
      pendingOperations: 0,
      queuedInvalidations: 0,
      checkedAt: 42,
    })
  })

  it('times the ping of a store that can be pinged', async () => {
    const health = await new Cache({ store: new PingableStore(new MemoryStore()) }).health()
    expect(health.status).toBe('ok')
    expect(health.store.ping).toBe('ok')
    expect(health.store.latencyMs).toBeGreaterThanOrEqual(0)
  })

  it('says a refused password in words, and stays degraded (not down): the cache fails open', async () => {
    const store = new PingableStore(new MemoryStore())
    store.answer = async () => {
      throw Object.assign(
        new Error('WRONGPASS invalid username-password pair or user is disabled.'),
        { name: 'ReplyError' }
      )
    }
    const health = await new Cache({ store }).health()
    expect(health.status).toBe('degraded')
    expect(health.store).toMatchObject({
      ping: 'failed',
      problem: 'auth',
      error: 'WRONGPASS invalid username-password pair or user is disabled.',
    })
    expect(health.problems[0]).toMatch(/refused our credentials.*WRONGPASS.*check the password/)
  })

  it('reports a ping past its deadline as a timeout, and a refused connection as such', async () => {
    const store = new PingableStore(new MemoryStore())
    store.answer = () => new Promise(() => {})
    const cache = new Cache({ store })
    const slow = await cache.health({ timeout: '20ms' })
    expect(slow.store).toMatchObject({ ping: 'timeout', problem: 'timeout' })
    expect(slow.problems[0]).toMatch(/within 20 ms/)
    store.answer = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    }
    expect((await cache.health()).store.problem).toBe('connection')
  })

  it('is degraded while a breaker of the store is open (breakers live in stores that need them: RedisStore)', async () => {
    const chaos = Object.assign(new ChaosStore(new MemoryStore()), {
      health: (): StoreHealth => ({
        breakers: [
          { node: '127.0.0.1:7001', direction: 'read', state: 'open', retryInMs: 200 },
          { node: '127.0.0.1:7001', direction: 'write', state: 'closed', retryInMs: 0 },
        ],
        inFlight: 0,
        queued: 0,
        dropped: {
          read: { 'breaker-open': 3, 'queue-full': 0, 'queue-timeout': 0 },
          write: { 'breaker-open': 0, 'queue-full': 0, 'queue-timeout': 0 },
        },
      }),
    })
    const cache = new Cache({ store: chaos })
    chaos.throwing = new StoreTimeoutError('get', 50)
    await cache.get('a')
    const health = await cache.health()
    expect(health).toMatchObject({ status: 'degraded', breaker: 'open' })
    expect(health.problems).toEqual([
      'breaker read on 127.0.0.1:7001 is open: calls to it are skipped',
    ])
  })

  it('refuses an unknown option and a bad timeout', async () => {
    const cache = new Cache()
    await expect(cache.health({ timout: '1s' } as never)).rejects.toThrow(/timout/)
    await expect(cache.health({ timeout: 'soon' as never })).rejects.toBeInstanceOf(
      InvalidOptionError
    )
  })

  it('leaves the Store contract optional: a store without ping still works', async () => {
    const bare: Store = new ChaosStore(new MemoryStore())
    expect('ping' in bare).toBe(false)
    expect((await new Cache({ store: bare }).health()).store.ping).toBe('not-supported')
  })
})

import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { cached } from '../src/patterns/cached.js'
import { CircuitBreaker } from '../src/resilience/circuit-breaker.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { RedisBus } from '../src/stores/redis-bus.js'
import { RedisStore } from '../src/stores/redis-store.js'
import { TieredStore } from '../src/stores/tiered-store.js'
import { InvalidOptionError } from '../src/errors.js'

/** The error `build` throws (it must throw an InvalidOptionError). */
function thrown(build: () => unknown): InvalidOptionError {
  try {
    build()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError)
    return error as InvalidOptionError
  }
  throw new Error('expected an InvalidOptionError, nothing was thrown')
}

async function rejected(run: () => Promise<unknown>): Promise<InvalidOptionError> {
  try {
    await run()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError)
    return error as InvalidOptionError
  }
  throw new Error('expected an InvalidOptionError, nothing was thrown')
}

/** A client that never connects: RedisStore and RedisBus only need its shape here. */
function idleClient(): Redis {
  return new Redis({ lazyConnect: true, enableOfflineQueue: false })
}

describe('options renamed in 1.0: the old name is refused with the new one', () => {
  it.each([
    [
      'RedisStore breaker.breakDurationMs',
      () =>
        new RedisStore({ url: 'redis://127.0.0.1:1', breaker: { breakDurationMs: 5000 } } as never),
      'breaker.breakDurationMs',
      'breakDuration',
    ],
    [
      'CircuitBreaker breakDurationMs',
      () => new CircuitBreaker({ breakDurationMs: 5000 } as never),
      'breaker.breakDurationMs',
      'breakDuration',
    ],
    [
      'RedisStore deadlineMs',
      () => new RedisStore({ url: 'redis://127.0.0.1:1', deadlineMs: 50 } as never),
      'deadlineMs',
      'timeout',
    ],
    [
      'RedisStore bulkDeadlineMs',
      () => new RedisStore({ url: 'redis://127.0.0.1:1', bulkDeadlineMs: 30_000 } as never),
      'bulkDeadlineMs',
      'bulkTimeout',
    ],
    [
      'TieredStore l1MaxTtlMs',
      () => new TieredStore({ l2: new MemoryStore(), l1MaxTtlMs: 60_000 } as never),
      'l1MaxTtlMs',
      'l1MaxTtl',
    ],
    [
      'MemoryStore maxEntrySize',
      () => new MemoryStore({ maxEntrySize: 1024 } as never),
      'maxEntrySize',
      'maxEntryBytes',
    ],
  ] as const)('%s', (_name, build, option, successor) => {
    const error = thrown(build)
    expect(error.option).toBe(option)
    expect(error.message).toContain(`did you mean "${successor}"?`)
    expect(error.message).toContain('renamed in 1.0')
  })
})

describe('the new names take durations by the unit rule', () => {
  it('reads breakDuration as a timeout: strings, or any positive number of milliseconds', () => {
    let now = 0
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      breakDuration: 300,
      clock: () => now,
    })
    breaker.failure()
    now = 299
    expect(breaker.state).toBe('open')
    now = 300
    expect(breaker.state).toBe('half-open')
    expect(() => new CircuitBreaker({ breakDuration: '2 seconds' })).not.toThrow()
    expect(thrown(() => new CircuitBreaker({ breakDuration: 'soon' as never })).option).toBe(
      'breaker.breakDuration'
    )
    expect(thrown(() => new CircuitBreaker({ breakDuration: 0 })).option).toBe(
      'breaker.breakDuration'
    )
  })

  it('reads RedisStore timeout and bulkTimeout as timeouts', () => {
    const client = idleClient()
    try {
      expect(() => new RedisStore({ client, timeout: 20, bulkTimeout: '1 minute' })).not.toThrow()
      expect(thrown(() => new RedisStore({ client, timeout: '50 millis' as never })).option).toBe(
        'timeout'
      )
      expect(thrown(() => new RedisStore({ client, bulkTimeout: -1 })).option).toBe('bulkTimeout')
      expect(thrown(() => new RedisStore({ client, scanCount: 1.5 })).option).toBe('scanCount')
    } finally {
      client.disconnect()
    }
  })

  it('reads l1MaxTtl as a lifetime: a bare number under 1000 is refused', async () => {
    expect(thrown(() => new TieredStore({ l2: new MemoryStore(), l1MaxTtl: 60 })).message).toMatch(
      /a bare number is milliseconds/
    )
    let now = 1000
    const l1 = new MemoryStore({ clock: () => now })
    const store = new TieredStore({ l1, l2: new MemoryStore(), l1MaxTtl: '2 seconds' })
    await store.set('k', Buffer.from('v'), { ttlMs: 60_000 })
    now = 2999
    expect(await l1.get('k')).toBeDefined()
    now = 3001
    expect(await l1.get('k')).toBeUndefined()
  })

  it('reads a set, wrap or increment ttl as a lifetime, naming it', async () => {
    const cache = new Cache()
    expect((await rejected(() => cache.set('k', 1, { ttl: 60 }))).option).toBe('ttl')
    expect((await rejected(() => cache.increment('n', 1, { ttl: 500 }))).option).toBe('ttl')
    expect((await rejected(() => cache.acquireLock('l', { ttl: 10 }))).option).toBe('ttl')
    expect(await cache.set('k', 1, { ttl: '60ms' })).toBe(true)
    expect(await cache.set('k', 1, { ttl: 60_000 })).toBe(true)
  })
})

describe('unknown options are refused, naming the nearest known one', () => {
  it.each([
    ['Cache', () => new Cache({ defaultTTL: '1m' } as never), 'defaultTTL', 'defaultTtl'],
    [
      'RedisStore breaker',
      () =>
        new RedisStore({ url: 'redis://127.0.0.1:1', breaker: { failureThreshhold: 3 } } as never),
      'breaker.failureThreshhold',
      'failureThreshold',
    ],
    [
      'Cache invalidationQueue',
      () => new Cache({ invalidationQueue: { maxsize: 10 } } as never),
      'invalidationQueue.maxsize',
      'maxSize',
    ],
    ['MemoryStore', () => new MemoryStore({ maxByte: 1024 } as never), 'maxByte', 'maxBytes'],
    [
      'TieredStore',
      () => new TieredStore({ l2: new MemoryStore(), buss: undefined } as never),
      'buss',
      'bus',
    ],
    [
      'RedisStore',
      () => new RedisStore({ url: 'redis://127.0.0.1:1', prefx: 'app:' } as never),
      'prefx',
      'prefix',
    ],
    [
      'RedisBus',
      () => new RedisBus({ client: idleClient(), chanel: 'x' } as never),
      'chanel',
      'channel',
    ],
    [
      'cached',
      () =>
        cached(new Cache(), (id: number) => id, {
          key: (id: number) => String(id),
          tll: '1m',
        } as never),
      'tll',
      'ttl',
    ],
  ] as const)('%s', (_name, build, option, nearest) => {
    const error = thrown(build)
    expect(error.option).toBe(option)
    expect(error.message).toContain(`did you mean "${nearest}"?`)
  })

  it('in the options of set, increment and acquireLock', async () => {
    const cache = new Cache()
    expect((await rejected(() => cache.set('k', 1, { tag: ['t'] } as never))).message).toContain(
      'did you mean "tags"?'
    )
    expect((await rejected(() => cache.increment('n', 1, { tll: '1m' } as never))).option).toBe(
      'tll'
    )
    expect(
      (await rejected(() => cache.acquireLock('l', { ttl: '1s', wait: '1s' } as never))).option
    ).toBe('wait')
  })
})

describe('breakers moved from the Cache to the store', () => {
  it('refuses a breaker object on the Cache, saying where it went', () => {
    const error = thrown(() => new Cache({ breaker: { failureThreshold: 3 } } as never))
    expect(error.option).toBe('breaker')
    expect(error.message).toContain('new RedisStore({ url, breaker:')
  })

  it('still takes breaker: false (a cache has no breaker of its own)', () => {
    expect(() => new Cache({ breaker: false })).not.toThrow()
  })

  it('reads RedisStore breaker durations as timeouts, and refuses a cap under the first open', () => {
    const client = idleClient()
    try {
      expect(
        () =>
          new RedisStore({
            client,
            breaker: { failureThreshold: 3, breakDuration: 100, maxBreakDuration: '2s' },
          })
      ).not.toThrow()
      expect(() => new RedisStore({ client, breaker: false })).not.toThrow()
      expect(
        thrown(() => new RedisStore({ client, breaker: { breakDuration: 'soon' as never } })).option
      ).toBe('breaker.breakDuration')
      expect(
        thrown(
          () => new RedisStore({ client, breaker: { breakDuration: '2s', maxBreakDuration: '1s' } })
        ).option
      ).toBe('breaker.maxBreakDuration')
      expect(
        thrown(() => new RedisStore({ client, breaker: { failureThreshold: 0 } })).option
      ).toBe('breaker.failureThreshold')
      expect(thrown(() => new RedisStore({ client, breaker: true as never })).option).toBe(
        'breaker'
      )
    } finally {
      client.disconnect()
    }
  })

  it('reads the RedisStore queue options', () => {
    const client = idleClient()
    try {
      expect(
        () => new RedisStore({ client, maxInFlight: 64, maxQueue: 1000, queueTimeout: '1s' })
      ).not.toThrow()
      expect(thrown(() => new RedisStore({ client, maxInFlight: 0 })).option).toBe('maxInFlight')
      expect(thrown(() => new RedisStore({ client, maxQueue: 1.5 })).option).toBe('maxQueue')
      expect(thrown(() => new RedisStore({ client, queueTimeout: 'later' as never })).option).toBe(
        'queueTimeout'
      )
    } finally {
      client.disconnect()
    }
  })
})

describe('options checked before any work', () => {
  it('writeThrough refuses bad cache options before persisting', async () => {
    const cache = new Cache()
    let persisted = 0
    const persist = async (): Promise<void> => {
      persisted++
    }
    expect(await rejected(() => cache.writeThrough('k', 1, persist, { ttl: 30 }))).toHaveProperty(
      'option',
      'ttl'
    )
    expect(
      (await rejected(() => cache.writeThrough('k', 1, persist, { tgs: ['t'] } as never))).message
    ).toContain('did you mean "tags"?')
    expect(persisted).toBe(0)
  })

  it('cached refuses a TTL that reads as milliseconds when it is built, not when called', () => {
    expect(
      thrown(() =>
        cached(new Cache(), (id: number) => id, { key: (id: number) => String(id), ttl: 90 })
      ).option
    ).toBe('ttl')
  })
})

import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { Cache } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { startRedisProcess } from '../helpers/redis-process.js'
import { figures, kinds, measure, msUntil, sampleCalls } from '../helpers/measure.js'
import { registerCleanup } from '../setup/cleanup.js'

/**
 * Redis that answers reads but refuses writes: out of memory under noeviction, CLIENT PAUSE
 * WRITE, a read-only replica. Only the write side may switch off: reads keep hitting.
 *
 * Not about deadlines: commands get 250 ms, room for a loaded machine.
 */
const TIMEOUT = '250ms'
const KEYS = 200
const PHASE_MS = 1500

function admin(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  registerCleanup(() => client.disconnect())
  return client
}

async function cacheOn(url: string, prefix: string): Promise<{ cache: Cache; errors: Error[] }> {
  const cache = new Cache({
    store: new RedisStore({ url, prefix, timeout: TIMEOUT }),
    invalidationQueue: { closeTimeout: 500 },
  })
  const errors: Error[] = []
  cache.on('error', (error) => errors.push(error))
  registerCleanup(() => cache.close())
  return { cache, errors }
}

async function seed(cache: Cache): Promise<void> {
  for (let i = 0; i < KEYS; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) =>
        cache.set(
          `k${i + j}`,
          { n: i + j, pad: 'x'.repeat(200) },
          { ttl: '5m', tags: ['products'] }
        )
      )
    )
  }
}

async function missing(cache: Cache): Promise<number> {
  const values = await Promise.all(Array.from({ length: KEYS }, (_, i) => cache.get(`k${i}`)))
  return values.filter((value) => value === undefined).length
}

/** Reads of seeded keys and writes of new keys, side by side, for `PHASE_MS`. */
async function mixed(
  cache: Cache,
  tag: string
): Promise<{
  reads: Awaited<ReturnType<typeof sampleCalls>>
  writes: Awaited<ReturnType<typeof sampleCalls>>
}> {
  const [reads, writes] = await Promise.all([
    sampleCalls((i) => cache.get(`k${i % KEYS}`), { durationMs: PHASE_MS, concurrency: 6 }),
    sampleCalls((i) => cache.set(`${tag}:${i}`, i), {
      durationMs: PHASE_MS,
      concurrency: 2,
      isHit: (stored) => stored === true,
    }),
  ])
  return { reads, writes }
}

/** Per direction: 'closed', or 'off' (open, or half-open while a probe is out). */
function breakerStates(cache: Cache): Record<string, string> {
  return Object.fromEntries(
    cache.stats().breakers.map((b) => [b.direction, b.state === 'closed' ? 'closed' : 'off'])
  )
}

describe('Redis refuses writes, reads keep hitting', () => {
  it('out of memory (maxmemory, noeviction)', async () => {
    const redis = await startRedisProcess({ args: ['--maxmemory-policy', 'noeviction'] })
    const { cache, errors } = await cacheOn(redis.url, 'oom:')
    await seed(cache)
    const before = await sampleCalls((i) => cache.get(`k${i % KEYS}`), { durationMs: 1000 })

    const control = admin(redis.url)
    const used = Number(/used_memory:(\d+)/.exec(await control.info('memory'))?.[1])
    await control.config('SET', 'maxmemory', String(Math.floor(used / 2)))
    const during = await mixed(cache, 'oom-new')
    const states = breakerStates(cache)
    const purge = await cache.delete('k0')

    await control.config('SET', 'maxmemory', '0')
    const writesBackMs = await msUntil(
      async () => (await cache.set('after-oom', 1)) && (await cache.get('after-oom')) === 1,
      { timeoutMs: 10_000 }
    )
    const lost = (await missing(cache)) - 1 // k0 was purged on purpose
    measure('oom', {
      ...figures('before', before),
      ...figures('during.reads', during.reads),
      ...figures('during.writes', during.writes),
      breakers: states,
      purge: purge.status,
      writesBackMs,
      lost,
      errorEvents: errors.length,
      errorKinds: kinds(errors),
    })

    expect(before.rejected + during.reads.rejected + during.writes.rejected).toBe(0)
    expect(during.reads.hits).toBe(during.reads.calls)
    expect(during.writes.hits).toBe(0)
    expect(states).toEqual({ read: 'closed', write: 'off' })
    // UNLINK is allowed when Redis is out of memory: the purge goes through (first attempt, or its retry).
    expect(['applied', 'queued']).toContain(purge.status)
    expect(await control.exists('oom:k:k0')).toBe(0)
    expect(lost).toBe(0)
  })

  it('CLIENT PAUSE WRITE', async () => {
    const redis = await startRedisProcess()
    const { cache, errors } = await cacheOn(redis.url, 'pause:')
    await seed(cache)
    const before = await sampleCalls((i) => cache.get(`k${i % KEYS}`), { durationMs: 1000 })

    const control = admin(redis.url)
    const pauseMs = PHASE_MS + 500
    await control.call('CLIENT', 'PAUSE', String(pauseMs), 'WRITE')
    const pausedAt = performance.now()
    const during = await mixed(cache, 'pause-new')
    const states = breakerStates(cache)
    // The pause ends on the server's clock; from then, writes are back when the probe's blocked SET answers.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, pausedAt + pauseMs - performance.now()))
    )
    const writesBackMs = await msUntil(
      async () => (await cache.set('after-pause', 1)) && (await cache.get('after-pause')) === 1,
      { timeoutMs: 10_000 }
    )
    const lost = await missing(cache)
    measure('client-pause-write', {
      ...figures('before', before),
      ...figures('during.reads', during.reads),
      ...figures('during.writes', during.writes),
      breakers: states,
      writesBackMs,
      lost,
      errorEvents: errors.length,
      errorKinds: kinds(errors),
    })

    expect(before.rejected + during.reads.rejected + during.writes.rejected).toBe(0)
    // Reads go on a connection of their own: a paused write holds none of them.
    expect(during.reads.hits).toBe(during.reads.calls)
    expect(states).toEqual({ read: 'closed', write: 'off' })
    // A write costs at most its deadline, then the breaker skips the rest.
    expect(during.writes.max).toBeLessThan(250 + 750)
    expect(writesBackMs).toBeLessThan(1000)
    expect(lost).toBe(0)
  })

  it('a read-only replica', async () => {
    const master = await startRedisProcess()
    const replica = await startRedisProcess({
      args: ['--replicaof', '127.0.0.1', String(master.port)],
    })
    const { cache: writer } = await cacheOn(master.url, 'replica:')
    await seed(writer)
    // The replica has every seeded entry before it is read (on a loaded machine its first sync takes a while).
    const follower = admin(replica.url)
    await msUntil(
      async () =>
        (await follower.exists(...Array.from({ length: KEYS }, (_, i) => `replica:k:k${i}`))) ===
        KEYS,
      { timeoutMs: 30_000, intervalMs: 50 }
    )
    const { cache, errors } = await cacheOn(replica.url, 'replica:')
    const before = await sampleCalls((i) => cache.get(`k${i % KEYS}`), { durationMs: 1000 })

    const during = await mixed(cache, 'replica-new')
    const states = breakerStates(cache)
    // A purge through the replica cannot be applied: it is queued, and this process reads the key no more.
    const purge = await cache.delete('k1')
    const hiddenAfterPurge = (await cache.get('k1')) === undefined
    const lost = (await missing(cache)) - 1
    measure('readonly-replica', {
      ...figures('before', before),
      ...figures('during.reads', during.reads),
      ...figures('during.writes', during.writes),
      breakers: states,
      purge: purge.status,
      hiddenAfterPurge,
      lost,
      errorEvents: errors.length,
      errorKinds: kinds(errors),
    })

    expect(before.rejected + during.reads.rejected + during.writes.rejected).toBe(0)
    expect(before.hits).toBe(before.calls)
    expect(during.reads.hits).toBe(during.reads.calls)
    expect(during.writes.hits).toBe(0)
    expect(states).toEqual({ read: 'closed', write: 'off' })
    expect(purge.status).toBe('queued')
    expect(hiddenAfterPurge).toBe(true)
    expect(
      errors.some((error) =>
        /READONLY/.test(String((error as { cause?: Error }).cause?.message ?? error.message))
      )
    ).toBe(true)
    expect(lost).toBe(0)
  })
})

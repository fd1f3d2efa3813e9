import { describe, expect, it, vi } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { InvalidArgumentError, InvalidOptionError } from '../src/errors.js'
import { LoaderDurations } from '../src/patterns/wrap.js'

/** A cache whose store, clock and random source are all driven by the test. */
function drivenCache(): {
  cache: Cache
  clock: { now: number }
  random: { next: number; draws: number }
} {
  const clock = { now: 0 }
  const random = { next: 0.5, draws: 0 }
  const cache = new Cache({
    store: new MemoryStore({ clock: () => clock.now }),
    clock: () => clock.now,
    random: () => {
      random.draws++
      return random.next
    },
  })
  return { cache, clock, random }
}

describe('Cache.wrap with an injected clock and random source', () => {
  describe('early refresh (XFetch)', () => {
    // The loader takes exactly 100 ms of the injected clock (delta = 100); the entry lives 10 s.
    // At 100 ms before expiry, with beta 1, XFetch refreshes when -100 * ln(rand) >= 100, that
    // is when rand <= 1/e (0.3679...). The injected draw alone decides.
    interface NearExpiry {
      cache: Cache
      random: { next: number; draws: number }
      calls: () => number
      wrapAgain: () => Promise<number>
    }

    async function nearExpiry(): Promise<NearExpiry> {
      const { cache, clock, random } = drivenCache()
      let calls = 0
      const loader = async (): Promise<number> => {
        clock.now += 100
        return ++calls
      }
      const wrap = (): Promise<number> => cache.wrap('k', loader, { ttl: '10s', earlyRefresh: 1 })
      expect(await wrap()).toBe(1)
      // A hit, far from expiry: the first write has landed.
      expect(await wrap()).toBe(1)
      clock.now = 10_000
      return { cache, random, calls: () => calls, wrapAgain: wrap }
    }

    it('does not refresh when the injected draw is above 1/e', async () => {
      const { random, calls, wrapAgain } = await nearExpiry()
      random.next = 0.37
      const drawsBefore = random.draws
      expect(await wrapAgain()).toBe(1)
      expect(random.draws).toBe(drawsBefore + 1)
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(calls()).toBe(1)
    })

    it('refreshes in the background when the injected draw is at or below 1/e', async () => {
      const { cache, random, calls, wrapAgain } = await nearExpiry()
      random.next = 0.36
      const drawsBefore = random.draws
      expect(await wrapAgain()).toBe(1)
      expect(random.draws).toBe(drawsBefore + 1)
      await vi.waitFor(async () => expect(await cache.get('k')).toBe(2), {
        timeout: 5000,
        interval: 10,
      })
      expect(calls()).toBe(2)
    })

    it('never draws when early refresh is off', async () => {
      const { cache, random } = drivenCache()
      await cache.wrap('k', () => 1, { ttl: '10s' })
      await cache.wrap('k', () => 1, { ttl: '10s' })
      expect(random.draws).toBe(0)
    })
  })

  describe('fill-lock waits', () => {
    it('wait on the injected clock, then fail open and load', async () => {
      const { cache, clock } = drivenCache()
      const held = await cache.acquireLock('fill:k', { ttl: '1m' })
      expect(held).toBeDefined()
      let loaded = false
      const waiting = cache.wrap(
        'k',
        () => {
          loaded = true
          return 'mine'
        },
        { lock: { wait: '1s' } }
      )
      // Real time passes, the injected clock does not: the waiter keeps polling.
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(loaded).toBe(false)
      clock.now += 1000
      expect(await waiting).toBe('mine')
      expect(loaded).toBe(true)
    })
  })

  describe('on a store that reads in process', () => {
    it('answers a hit without the loader and counts each read once', async () => {
      const cache = new Cache()
      const loader = vi.fn(() => ({ id: 1 }))
      expect(await cache.wrap('k', loader, { ttl: '1m' })).toEqual({ id: 1 })
      expect(cache.stats()).toMatchObject({ misses: 1, hits: 0 })
      expect(await cache.wrap('k', loader, { ttl: '1m' })).toEqual({ id: 1 })
      expect(await cache.wrap('k', loader, { ttl: '1m', lock: true })).toEqual({ id: 1 })
      expect(loader).toHaveBeenCalledTimes(1)
      expect(cache.stats()).toMatchObject({ misses: 1, hits: 2 })
    })

    it('still checks the options of a call its hit answers', async () => {
      const cache = new Cache()
      await cache.set('k', 1)
      await expect(cache.wrap('k', () => 2, { tll: '1m' } as never)).rejects.toBeInstanceOf(
        InvalidOptionError
      )
      await expect(cache.wrap('', () => 2)).rejects.toBeInstanceOf(InvalidArgumentError)
    })
  })

  describe('options', () => {
    it('rejects a clock or random that is not a function, naming it', () => {
      expect(() => new Cache({ clock: 5 as never })).toThrow(/options\.clock/)
      expect(() => new Cache({ random: 0.5 as never })).toThrow(/options\.random/)
    })

    it('rejects unknown wrap and lock options, naming the nearest known one', async () => {
      const cache = new Cache()
      await expect(cache.wrap('k', () => 1, { tll: '1m' } as never)).rejects.toThrow(
        /options\.tll to be a known option \(did you mean "ttl"\?\)/
      )
      await expect(cache.wrap('k', () => 1, { lock: { waits: '1s' } } as never)).rejects.toThrow(
        /options\.lock\.waits to be a known option \(did you mean "wait"\?\)/
      )
      await expect(cache.wrap('k', () => 1, null as never)).rejects.toBeInstanceOf(
        InvalidArgumentError
      )
    })

    it('rejects a wrap TTL that reads as milliseconds before running the loader', async () => {
      const cache = new Cache()
      const loader = vi.fn(() => 1)
      await expect(cache.wrap('k', loader, { ttl: 60 })).rejects.toThrow(InvalidOptionError)
      expect(loader).not.toHaveBeenCalled()
    })
  })
})

describe('LoaderDurations (the loader times early refresh reads)', () => {
  it('keeps the last 10,000 recorded keys, oldest out first; a key recorded again is the newest', () => {
    const durations = new LoaderDurations()
    expect(durations.get('k0')).toBeUndefined()
    for (let i = 0; i < 10_000; i++) durations.record(`k${i}`, i)
    durations.record('k0', 7)
    // Reading is not recording: k2 stays second oldest.
    expect(durations.get('k2')).toBe(2)
    durations.record('k10000', 1)
    durations.record('k10001', 1)
    expect(durations.get('k1')).toBeUndefined()
    expect(durations.get('k2')).toBeUndefined()
    expect(durations.get('k0')).toBe(7)
    expect(durations.get('k3')).toBe(3)
    expect(durations.get('k10001')).toBe(1)
  })
})

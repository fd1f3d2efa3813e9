import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { rateLimit } from '../src/patterns/rate-limit.js'
import { readWindow, applyWindowHit } from '../src/rate-window.js'
import { ChaosStore } from './chaos-store.js'

function driven(): { cache: Cache; clock: { now: number } } {
  const clock = { now: 1_200_000_000 } // on a minute boundary
  return {
    cache: new Cache({
      store: new MemoryStore({ clock: () => clock.now }),
      clock: () => clock.now,
    }),
    clock,
  }
}

describe('rateLimit', () => {
  describe('fixed window', () => {
    it('allows the limit per window, then refuses with Retry-After until the window ends', async () => {
      const { cache, clock } = driven()
      const limiter = rateLimit(cache, { limit: 3, window: '1m', algorithm: 'fixed', name: 'api' })
      const decisions = []
      for (let i = 0; i < 4; i++) decisions.push(await limiter.check('ip:1'))
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false])
      expect(decisions[0]?.fields).toEqual({
        'RateLimit-Policy': '"api";q=3;w=60',
        RateLimit: '"api";r=2;t=60',
      })
      expect(decisions[3]?.fields).toEqual({
        'RateLimit-Policy': '"api";q=3;w=60',
        RateLimit: '"api";r=0;t=60',
        'Retry-After': '60',
      })
      clock.now += 60_000
      expect((await limiter.check('ip:1')).allowed).toBe(true)
    })
  })

  describe('sliding window', () => {
    it('weighs the previous window: no burst of twice the limit at a window edge', async () => {
      const { cache, clock } = driven()
      clock.now = 60_000 * 1000 + 59_000 // 1 s before a minute boundary
      const limiter = rateLimit(cache, { limit: 10, window: '1m' })
      for (let i = 0; i < 10; i++) expect((await limiter.check('u')).allowed).toBe(true)
      clock.now += 2_000 // 1 s into the next minute: the previous window still weighs 59/60
      const refused = await limiter.check('u')
      expect(refused.allowed).toBe(false)
      // One unit frees up once the previous window's weight falls to 9/10: 5 s into this window.
      expect(refused.retryAfterSeconds).toBe(5)
      clock.now += 5_000
      expect((await limiter.check('u')).allowed).toBe(true)
    })

    it('computes the wait across the next window when the current one is full', () => {
      const options = { limit: 10, windowMs: 60_000, cost: 1, sliding: true }
      const { state } = applyWindowHit(
        { index: 100, current: 10, previous: 0 },
        100 * 60_000 + 30_000,
        options
      )
      expect(state.allowed).toBe(false)
      // Rest of this window (30 s), then until 10 × (1 − e/60) + 1 ≤ 10: e = 6 s.
      expect(readWindow(state, options).retryAfterSeconds).toBe(36)
    })
  })

  it('keeps clients apart and hashes their keys before the store', async () => {
    const store = new MemoryStore()
    const limiter = rateLimit(new Cache({ store }), { limit: 1, window: '1m' })
    expect((await limiter.check('203.0.113.9')).allowed).toBe(true)
    expect((await limiter.check('203.0.113.10')).allowed).toBe(true)
    expect(await store.deletePattern('*203.0.113*')).toBe(0)
    expect(await store.deletePattern('@cachewire/rate:default:*')).toBe(2)
  })

  it('fails open by default, closed when asked, when the store cannot answer', async () => {
    const store = new ChaosStore(new MemoryStore())
    const cache = new Cache({ store, breaker: false })
    const open = rateLimit(cache, { limit: 1, window: '1m' })
    const closed = rateLimit(cache, { limit: 1, window: '1m', failMode: 'closed', name: 'strict' })
    store.failing = true
    expect(await open.check('k')).toMatchObject({ allowed: true, unavailable: true, fields: {} })
    expect(await closed.check('k')).toMatchObject({
      allowed: false,
      unavailable: true,
      fields: { 'Retry-After': '1' },
    })
  })

  it('gates a Node request: fields on every response, 429 when refused, 503 when closed and down', async () => {
    const store = new ChaosStore(new MemoryStore())
    const limiter = rateLimit(new Cache({ store, breaker: false }), {
      limit: 1,
      window: '1m',
      failMode: 'closed',
    })
    const gate = limiter.handler({ key: (req) => req.headers['x-api-key'] as string | undefined })
    const response = () => {
      const res = {
        statusCode: 200,
        headers: {} as Record<string, string>,
        body: undefined as string | undefined,
        setHeader(n: string, v: string) {
          res.headers[n] = v
        },
        end(b?: string) {
          res.body = b
        },
      }
      return res
    }
    const first = response()
    expect(await gate({ headers: { 'x-api-key': 'k1' } }, first)).toBe(true)
    expect(first.headers.RateLimit).toMatch(/^"default";r=0;t=\d+$/)
    const second = response()
    expect(await gate({ headers: { 'x-api-key': 'k1' } }, second)).toBe(false)
    expect(second).toMatchObject({ statusCode: 429, body: 'Too Many Requests' })
    expect(Number(second.headers['Retry-After'])).toBeGreaterThan(0)
    expect(await gate({ headers: {} }, response())).toBe(true) // no key: not limited
    store.failing = true
    const third = response()
    expect(await gate({ headers: { 'x-api-key': 'k2' } }, third)).toBe(false)
    expect(third.statusCode).toBe(503)
  })

  it('refuses bad options when built', () => {
    const cache = new Cache()
    expect(() => rateLimit(cache, { limit: 0, window: '1m' })).toThrow(/options\.limit/)
    expect(() => rateLimit(cache, { limit: 1, window: 60 })).toThrow(/options\.window/)
    expect(() => rateLimit(cache, { limit: 1, window: '1m', name: 'a\nb' })).toThrow(
      /options\.name/
    )
    expect(() => rateLimit(cache, { limit: 1, window: '1m', algorithm: 'token' as never })).toThrow(
      /options\.algorithm/
    )
    expect(() => rateLimit({}, { limit: 1, window: '1m' })).toThrow(/options\.cache/)
  })
})

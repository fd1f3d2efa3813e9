import { MemoryStore } from '@cachewire/core'
import { describe, expect, it } from 'vitest'
import { resolveRoutePolicy } from '../src/options/resolve-route.js'
import type { ForwardOutcome } from '../src/types.js'
import { headerOf, setup } from './harness.js'

describe('engine: coalescing', () => {
  it('concurrent misses for one key wait for one handler run', async () => {
    const t = setup({ observability: { debug: true } })
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    t.setApp(async () => {
      await gate
      return { headers: { 'cache-control': 'max-age=60' }, body: 'once' }
    })
    const pending = [t.send(), t.send(), t.send()]
    await new Promise((resolve) => setTimeout(resolve, 1))
    release()
    const results = await Promise.all(pending)
    expect(t.calls).toHaveLength(1)
    expect(results.map((r) => r.body)).toEqual(['once', 'once', 'once'])
    expect(results[1]?.header('cache-status')).toBe(
      'cachewire; fwd=uri-miss; fwd-status=200; collapsed; ttl=60'
    )
  })

  it('when the shared response is not storable, every waiter runs the handler itself', async () => {
    const t = setup()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let n = 0
    t.setApp(async () => {
      const mine = ++n
      await gate
      return { headers: { 'cache-control': 'private' }, body: `user-${mine}` }
    })
    const pending = [t.send(), t.send()]
    await new Promise((resolve) => setTimeout(resolve, 1))
    release()
    const results = await Promise.all(pending)
    expect(t.calls).toHaveLength(2)
    expect(results.map((r) => r.body)).toEqual(['user-1', 'user-2'])
  })

  it('a waiter never waits longer than coalesce.timeout', async () => {
    const t = setup({ coalesce: { timeout: 5 }, observability: { debug: true } })
    const leader = await t.engine.respond(t.request(), t.run)
    expect(leader.kind).toBe('miss')
    const waiter = await t.engine.respond(t.request(), t.run)
    expect(waiter.kind).toBe('miss')
    const patch = (waiter as ForwardOutcome).patch(200, { 'cache-control': 'max-age=60' })
    expect(patch.set[0]?.[1]).toContain('detail=coalesce-timeout')
    await (leader as ForwardOutcome).finish(undefined)
  })

  it('requests with Authorization are never coalesced', async () => {
    const t = setup()
    const leader = await t.engine.respond(t.request(), t.run)
    const auth = await t.engine.respond(
      t.request({ headers: { authorization: 'Bearer x' } }),
      t.run
    )
    expect(auth.kind).toBe('miss')
    await (leader as ForwardOutcome).finish(undefined)
  })

  it.each([
    ['HEAD', { method: 'HEAD' }],
    ['no-store', { headers: { 'cache-control': 'no-store' } }],
  ] as const)(
    'a %s request never leads (its response is not stored), so a GET does not wait for it',
    async (_, overrides) => {
      const t = setup()
      const first = await t.engine.respond(t.request(overrides), t.run)
      let settled = false
      const second = t.engine.respond(t.request(), t.run).then((outcome) => {
        settled = true
        return outcome
      })
      await new Promise((resolve) => setTimeout(resolve, 2))
      expect(settled).toBe(true)
      expect((await second).kind).toBe('miss')
      await (first as ForwardOutcome).finish(undefined)
      await ((await second) as ForwardOutcome).finish(undefined)
    }
  )

  describe('a run that settled while a lookup waited', () => {
    /** A leader's miss held open, a second request looked up, then the leader's response stored. */
    async function settleBetween(store: MemoryStore) {
      const t = setup({ storage: { store } })
      const leader = (await t.engine.respond(t.request(), t.run)) as ForwardOutcome
      expect(leader.kind).toBe('miss')
      const prepared = t.engine.prepare(t.request())
      const found = t.engine.lookup(prepared)
      const headers = { 'cache-control': 'max-age=60' }
      leader.patch(200, headers)
      await leader.finish({ status: 200, headers, body: Buffer.from('once'), complete: true })
      const outcome = await t.engine.handle(prepared, await found, t.run)
      return { t, found, outcome }
    }

    it('is shared with a request whose lookup waited on the store', async () => {
      // Reads that cannot tell a miss at once go through a promise, as a Redis store's do.
      const store = new MemoryStore()
      Object.defineProperty(store, 'syncReads', { value: 'partial' })
      const { t, found, outcome } = await settleBetween(store)
      expect(found).toBeInstanceOf(Promise)
      expect(outcome.kind).toBe('hit')
      expect(outcome.kind === 'hit' && outcome.body.toString()).toBe('once')
      expect(outcome.kind === 'hit' && headerOf([...outcome.headers], 'cache-status')).toBe(
        'cachewire; fwd=uri-miss; fwd-status=200; collapsed; ttl=60'
      )
      expect(t.calls).toHaveLength(0)
    })

    it('is not kept while every lookup answers in process (no adapter lets a run settle in between)', async () => {
      const { t, found, outcome } = await settleBetween(new MemoryStore())
      expect(found).not.toBeInstanceOf(Promise)
      // This request found nothing and shares nothing: it goes forward itself, and the next one hits.
      expect(outcome.kind).toBe('miss')
      await (outcome as ForwardOutcome).finish(undefined)
      expect((await t.send()).outcome.kind).toBe('hit')
    })
  })

  it('can be turned off', async () => {
    const t = setup({ coalesce: false })
    await t.engine.respond(t.request(), t.run)
    expect((await t.engine.respond(t.request(), t.run)).kind).toBe('miss')
  })
})

describe('engine: Vary (RFC 9111 §4.1)', () => {
  it('stores one variant per value of the varying fields', async () => {
    const t = setup()
    t.setApp((request) => ({
      headers: { 'cache-control': 'max-age=60', vary: 'Accept-Encoding' },
      body: `enc:${String(request.headers['accept-encoding'])}`,
    }))
    await t.send({ headers: { 'accept-encoding': 'gzip' } })
    const other = await t.send({ headers: { 'accept-encoding': 'br' } })
    expect(other.outcome.kind).toBe('miss')
    expect(other.header('cache-status')).toContain('fwd=vary-miss')
    expect((await t.send({ headers: { 'accept-encoding': 'GZIP' } })).body).toBe('enc:gzip')
    expect((await t.send({ headers: { 'accept-encoding': 'br' } })).body).toBe('enc:br')
    expect(t.calls).toHaveLength(2)
  })

  it('caps variants per URL at maxVariants', async () => {
    const t = setup({ storage: { maxVariants: 2 }, observability: { debug: true } })
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60', vary: 'x-v' }, body: 'x' }))
    await t.send({ headers: { 'x-v': '1' } })
    await t.send({ headers: { 'x-v': '2' } })
    const third = await t.send({ headers: { 'x-v': '3' } })
    expect(third.outcome.kind).toBe('miss')
    expect((await t.send({ headers: { 'x-v': '3' } })).outcome.kind).toBe('miss')
    expect((await t.send({ headers: { 'x-v': '1' } })).outcome.kind).toBe('hit')
  })

  it('never stores Vary: *', async () => {
    const t = setup()
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60', vary: '*' }, body: 'x' }))
    await t.send()
    expect((await t.send()).outcome.kind).toBe('miss')
  })

  it("coalesced waiters only take the leader's response when it is their variant", async () => {
    const t = setup()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    t.setApp(async (request) => {
      await gate
      return {
        headers: { 'cache-control': 'max-age=60', vary: 'accept-language' },
        body: String(request.headers['accept-language']),
      }
    })
    const pending = [
      t.send({ headers: { 'accept-language': 'en' } }),
      t.send({ headers: { 'accept-language': 'fr' } }),
    ]
    await new Promise((resolve) => setTimeout(resolve, 1))
    release()
    expect((await Promise.all(pending)).map((r) => r.body)).toEqual(['en', 'fr'])
  })
})

describe('engine: credentials (RFC 9111 §3.5, DESIGN rule 2)', () => {
  it('a response to a request with Authorization is stored only on a route that shares them, and when public, s-maxage or must-revalidate', async () => {
    const t = setup()
    await t.send({ headers: { authorization: 'Bearer a' } })
    expect((await t.send()).outcome.kind).toBe('miss')
    for (const cacheControl of [
      'public, max-age=60',
      's-maxage=60',
      'max-age=60, must-revalidate',
    ]) {
      const shared = resolveRoutePolicy({ safety: { shareAuthenticated: true } })
      const u = setup()
      u.setApp(() => ({ headers: { 'cache-control': cacheControl }, body: 'shared' }))
      await u.send({ headers: { authorization: 'Bearer a' } })
      expect(
        (await u.send({ headers: { authorization: 'Bearer b' } })).outcome.kind,
        `${cacheControl}, no opt-in`
      ).toBe('miss')
      await u.send({ headers: { authorization: 'Bearer a' }, route: shared })
      expect(
        (await u.send({ headers: { authorization: 'Bearer b' }, route: shared })).outcome.kind,
        cacheControl
      ).toBe('hit')
    }
  })

  it('a request with Authorization is not answered from an entry that is not explicitly shareable', async () => {
    const t = setup()
    await t.send()
    const auth = await t.send({ headers: { authorization: 'Bearer a' } })
    expect(auth.outcome.kind).toBe('miss')
    expect(t.calls[1]?.headers.authorization).toBe('Bearer a')
  })

  it('a request with a Cookie bypasses unless the route opts in', async () => {
    const t = setup()
    await t.send()
    const cookie = await t.send({ headers: { cookie: 'sid=1' } })
    expect(cookie.outcome).toMatchObject({ kind: 'bypass', reason: 'cookie' })
    expect(t.calls[1]?.headers.cookie).toBe('sid=1')
    const route = resolveRoutePolicy({ safety: { allowCookies: true } })
    expect((await t.send({ headers: { cookie: 'sid=1' }, route })).outcome.kind).toBe('hit')
  })
})

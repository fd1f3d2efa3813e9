import { describe, expect, it } from 'vitest'
import { resolveRoutePolicy } from '../src/options/resolve-route.js'
import type { OriginRequest } from '../src/types.js'
import { setup, T0 } from './harness.js'

describe('engine: stale content', () => {
  it('revalidates a stale entry with its validator; a 304 updates headers and freshness (RFC 9111 §3.2, §4.3.4)', async () => {
    const t = setup()
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=10', etag: '"v1"', 'x-version': '1' },
      body: 'body-1',
    }))
    await t.send()
    t.advance(15_000)
    t.setApp(() => ({
      status: 304,
      headers: { 'cache-control': 'max-age=100', 'x-version': '2', etag: '"v1"' },
    }))
    const revalidated = await t.send()
    expect(t.calls[1]?.headers['if-none-match']).toBe('"v1"')
    expect([revalidated.status, revalidated.body, revalidated.header('x-version')]).toEqual([
      200,
      'body-1',
      '2',
    ])
    expect(revalidated.header('cache-status')).toBe(
      'cachewire; fwd=stale; fwd-status=304; stored; ttl=100'
    )
    await t.engine.whenIdle()
    t.advance(50_000)
    const hit = await t.send()
    expect([hit.outcome.kind, hit.header('cache-control'), hit.header('x-version')]).toEqual([
      'hit',
      'max-age=100',
      '2',
    ])
    expect(t.calls).toHaveLength(2)
  })

  it("a revalidation 304 answers the client's own conditional with a 304", async () => {
    const t = setup()
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=10', etag: '"v1"' }, body: 'b' }))
    await t.send()
    t.advance(15_000)
    t.setApp(() => ({ status: 304, headers: { 'cache-control': 'max-age=10' } }))
    expect((await t.send({ headers: { 'if-none-match': '"v1"' } })).status).toBe(304)
  })

  it('a full response to a revalidation replaces the entry', async () => {
    const t = setup()
    await t.send()
    t.advance(61_000)
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60' }, body: 'new' }))
    expect((await t.send()).body).toBe('new')
    await t.engine.whenIdle()
    expect((await t.send()).body).toBe('new')
    expect(t.calls).toHaveLength(2)
  })

  it('a revalidation answer that may not be stored removes the old entry', async () => {
    const t = setup()
    await t.send()
    t.advance(61_000)
    t.setApp(() => ({ headers: { 'cache-control': 'private' }, body: 'mine' }))
    expect((await t.send()).body).toBe('mine')
    await t.engine.whenIdle()
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60' }, body: 'fresh' }))
    const next = await t.send()
    expect([next.outcome.kind, next.body]).toEqual(['miss', 'fresh'])
  })

  it('stale-while-revalidate: serves the stale entry at once and refreshes it once in the background (RFC 5861 §3)', async () => {
    const t = setup({ observability: { debug: true } })
    let version = 1
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=10, stale-while-revalidate=60' },
      body: `v${version}`,
    }))
    await t.send()
    t.advance(15_000)
    version = 2
    const [a, b] = await Promise.all([t.send(), t.send()])
    expect([a.body, b.body]).toEqual(['v1', 'v1'])
    expect(a.header('cache-status')).toBe('cachewire; hit; ttl=-5; detail=stale-while-revalidate')
    await t.engine.whenIdle()
    expect(t.calls).toHaveLength(2)
    const after = await t.send()
    expect([after.outcome.kind, after.body]).toEqual(['hit', 'v2'])
  })

  it('stale-while-revalidate without a refresh callback revalidates in the foreground', async () => {
    const t = setup()
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=10, stale-while-revalidate=60', etag: '"x"' },
      body: 'x',
    }))
    await t.send()
    t.advance(15_000)
    expect((await t.send({}, { refresh: false })).outcome.kind).toBe('response')
    // RFC 9111 §4.3.1: only the origin's validators make a conditional request; with only the
    // cache's own ETag there is nothing to revalidate with, and the handler runs live, as on a miss.
    const u = setup()
    u.setApp(() => ({
      headers: { 'cache-control': 'max-age=10, stale-while-revalidate=60' },
      body: 'x',
    }))
    await u.send()
    u.advance(15_000)
    expect((await u.send({}, { refresh: false })).outcome.kind).toBe('miss')
    expect(u.calls[1]?.headers['if-none-match']).toBeUndefined()
  })

  it('stale-while-revalidate window can come from the route', async () => {
    const t = setup()
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=10' }, body: 'x' }))
    const route = resolveRoutePolicy({ stale: { whileRevalidate: '1m' } })
    await t.send({ route })
    t.advance(15_000)
    expect((await t.send({ route })).outcome.kind).toBe('hit')
  })

  it('a failed background refresh keeps the entry and reports the error', async () => {
    const t = setup()
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=10, stale-while-revalidate=60' },
      body: 'x',
    }))
    await t.send()
    t.advance(15_000)
    t.setApp(() => {
      throw new Error('down')
    })
    expect((await t.send()).outcome.kind).toBe('hit')
    await t.engine.whenIdle()
    expect(t.errors.map((error) => error.message)).toEqual(['down'])
    expect((await t.send()).outcome.kind).toBe('hit')
  })

  it('stale-if-error: serves the stale entry when the handler throws or answers 5xx (RFC 5861 §4)', async () => {
    const t = setup({ observability: { debug: true } })
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=10, stale-if-error=60' },
      body: 'good',
    }))
    await t.send()
    t.advance(15_000)
    t.setApp(() => {
      throw new Error('down')
    })
    const thrown = await t.send()
    expect([thrown.status, thrown.body, thrown.header('cache-status')]).toEqual([
      200,
      'good',
      'cachewire; fwd=stale; ttl=-5; detail=stale-if-error',
    ])
    t.setApp(() => ({ status: 503, body: 'busy' }))
    const failed = await t.send()
    expect([failed.status, failed.body]).toEqual([200, 'good'])
    expect(failed.header('cache-status')).toContain('fwd-status=503')
  })

  it("outside the stale-if-error window the handler's error is passed on", async () => {
    const t = setup()
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=10, stale-if-error=60' },
      body: 'good',
    }))
    await t.send()
    t.advance(80_000)
    t.setApp(() => {
      throw new Error('down')
    })
    await expect(t.send()).rejects.toThrow('down')
    t.setApp(() => ({ status: 503, body: 'busy' }))
    const failed = await t.send()
    expect([failed.status, failed.body]).toEqual([503, 'busy'])
  })

  it('stale-if-error from options, closed by must-revalidate', async () => {
    const t = setup({ stale: { ifError: '1m' } })
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=10' }, body: 'good' }))
    await t.send()
    t.advance(15_000)
    t.setApp(() => {
      throw new Error('down')
    })
    expect((await t.send()).body).toBe('good')
    const u = setup({ stale: { ifError: '1m' } })
    u.setApp(() => ({
      headers: { 'cache-control': 'max-age=10, must-revalidate', etag: '"a"' },
      body: 'good',
    }))
    await u.send()
    u.advance(15_000)
    u.setApp(() => {
      throw new Error('down')
    })
    await expect(u.send()).rejects.toThrow('down')
  })
})

describe('engine: background work', () => {
  it('runs one refresh per key even when many stale hits arrive', async () => {
    const t = setup()
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=1, stale-while-revalidate=100' },
      body: 'x',
    }))
    await t.send()
    t.advance(2_000)
    let refreshes = 0
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const refresh = async (request: OriginRequest) => {
      refreshes++
      await gate
      return t.run(request)
    }
    for (let i = 0; i < 5; i++) await t.engine.respond(t.request(), t.run, refresh)
    release()
    await t.engine.whenIdle()
    expect(refreshes).toBe(1)
    expect(T0).toBeLessThan(t.now())
  })
})

/**
 * The engine's side of issue 14, through the unit harness (MemoryStore, injected clock): which
 * validators go to the origin, forced revalidations under `requestDirectives: 'honour'`, what a
 * background refresh carries, and what a per-user entry tells a CDN.
 */
import { describe, expect, it } from 'vitest'
import { resolveRoutePolicy } from '../src/options/resolve-route.js'
import { setup } from './harness.js'

const LM = 'Tue, 31 Dec 2024 00:00:00 GMT'

describe("revalidation sends the origin's validators (RFC 9111 §4.3.1)", () => {
  it('Last-Modified only: If-Modified-Since, never the ETag the cache made', async () => {
    const t = setup()
    t.setApp((request) =>
      request.headers['if-modified-since'] === LM
        ? { status: 304, headers: {} }
        : { headers: { 'cache-control': 'max-age=10', 'last-modified': LM }, body: 'x' }
    )
    await t.send()
    t.advance(20_000)
    const revalidated = await t.send()
    expect(t.calls[1]?.headers).toMatchObject({ 'if-modified-since': LM })
    expect(t.calls[1]?.headers['if-none-match']).toBeUndefined()
    expect(revalidated.header('cache-status')).toMatch(/fwd=stale; fwd-status=304/)
  })

  it('an ETag and Last-Modified from the origin: both', async () => {
    const t = setup()
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=10', etag: '"o"', 'last-modified': LM },
      body: 'x',
    }))
    await t.send()
    t.advance(20_000)
    await t.send()
    expect(t.calls[1]?.headers).toMatchObject({ 'if-none-match': '"o"', 'if-modified-since': LM })
  })
})

describe("requestDirectives: 'honour' — forced revalidations (RFC 9111 §5.2.1)", () => {
  it('concurrent no-cache requests for one key share one origin call, and get its answer', async () => {
    const t = setup({ freshness: { requestDirectives: 'honour' } })
    let release!: () => void
    let call = 0
    t.setApp(async () => {
      call++
      if (call > 1) await new Promise<void>((resolve) => (release = resolve))
      return { headers: { 'cache-control': 'max-age=60', etag: `"v${call}"` }, body: `v${call}` }
    })
    await t.send()
    const pending = Array.from({ length: 5 }, () =>
      t.send({ headers: { 'cache-control': 'no-cache' } })
    )
    await new Promise((resolve) => setTimeout(resolve, 5))
    release()
    const replies = await Promise.all(pending)
    expect(replies.map((reply) => reply.body)).toEqual(['v2', 'v2', 'v2', 'v2', 'v2'])
    expect(
      replies.filter((reply) => /collapsed/.test(reply.header('cache-status') ?? ''))
    ).toHaveLength(4)
    expect(t.calls).toHaveLength(2)
  })

  it('at most one per key per second: the rest are answered from the entry just validated', async () => {
    const t = setup({ freshness: { requestDirectives: 'honour' } })
    let call = 0
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60' }, body: `v${++call}` }))
    await t.send()
    const forced = { headers: { 'cache-control': 'no-cache' } }
    expect((await t.send(forced)).body).toBe('v2')
    for (let i = 0; i < 5; i++) expect((await t.send(forced)).outcome.kind).toBe('hit')
    expect((await t.send({ ...forced, url: '/other' })).body).toBe('v3')
    t.advance(999)
    expect((await t.send(forced)).outcome.kind).toBe('hit')
    t.advance(1)
    expect((await t.send(forced)).body).toBe('v4')
  })
})

describe("a background refresh (RFC 5861 §3) carries no client's credentials into a shared entry", () => {
  it('Cookie and Authorization are dropped; the answer is judged as anonymous and stored', async () => {
    const t = setup({ safety: { allowCookies: true } })
    t.setApp((request) => ({
      headers: { 'cache-control': 'public, max-age=10, stale-while-revalidate=60' },
      body: `auth=${String(request.headers.authorization)} cookie=${String(request.headers.cookie)}`,
    }))
    await t.send()
    t.advance(20_000)
    const stale = await t.send({ headers: { authorization: 'Bearer alice', cookie: 'sid=alice' } })
    expect(stale.outcome.kind).toBe('hit')
    await t.engine.whenIdle()
    expect(t.calls[1]?.headers.authorization).toBeUndefined()
    expect(t.calls[1]?.headers.cookie).toBeUndefined()
    expect((await t.send()).body).toBe('auth=undefined cookie=undefined')
  })

  it("a scope: 'private' entry is refreshed as its own user", async () => {
    const t = setup({
      safety: {
        scope: 'private',
        privateKey: (request) => request.headers.cookie as string | undefined,
      },
    })
    t.setApp((request) => ({
      headers: { 'cache-control': 'max-age=10, stale-while-revalidate=60' },
      body: `cookie=${String(request.headers.cookie)}`,
    }))
    await t.send({ headers: { cookie: 'sid=alice' } })
    t.advance(20_000)
    await t.send({ headers: { cookie: 'sid=alice' } })
    await t.engine.whenIdle()
    expect(t.calls[1]?.headers.cookie).toBe('sid=alice')
  })
})

describe('safety.shareAuthenticated and the deception armor', () => {
  it('a route opts in; the app stays out', async () => {
    const t = setup()
    t.setApp(() => ({ headers: { 'cache-control': 's-maxage=60' }, body: 'doc' }))
    const shared = resolveRoutePolicy({ safety: { shareAuthenticated: true } })
    const off = await t.send({ headers: { authorization: 'Bearer a' } })
    expect(off.header('cache-status')).not.toMatch(/stored/)
    const on = await t.send({ headers: { authorization: 'Bearer a' }, route: shared })
    expect(on.header('cache-status')).toMatch(/stored/)
  })

  it('a revalidation answer that is not stored goes out private to a credentialed client', async () => {
    const t = setup({ safety: { allowCookies: true } })
    let call = 0
    t.setApp(() =>
      ++call === 1
        ? { headers: { 'cache-control': 'max-age=10', etag: '"a"' }, body: 'x' }
        : { headers: { 'set-cookie': 'n=1' }, body: 'y' }
    )
    await t.send()
    t.advance(20_000)
    const revalidated = await t.send({ headers: { cookie: 'sid=1' } })
    expect([revalidated.outcome.kind, revalidated.header('cache-control')]).toEqual([
      'response',
      'private',
    ])
  })

  it('a per-user entry is never announced to a CDN (it would share it by URL)', async () => {
    const t = setup({
      ttl: '1m',
      cdn: { surrogateKeys: true, cdnCacheControl: { public: true, maxAge: '10m' } },
      safety: {
        scope: 'private',
        privateKey: (request) => request.headers['x-user'] as string | undefined,
      },
    })
    t.setApp(() => ({ body: 'mine' }))
    const miss = await t.send({ headers: { 'x-user': 'alice' } })
    const hit = await t.send({ headers: { 'x-user': 'alice' } })
    for (const reply of [miss, hit]) {
      expect(reply.header('cdn-cache-control')).toBeUndefined()
      expect(reply.header('surrogate-key')).toBeUndefined()
      expect(reply.header('cache-control')).toBe('private')
    }
    expect(hit.outcome.kind).toBe('hit')
  })
})

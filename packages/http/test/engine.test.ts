import { describe, expect, it } from 'vitest'
import { resolveRoutePolicy } from '../src/options/resolve-route.js'
import type { ForwardOutcome } from '../src/types.js'
import { setup } from './harness.js'

describe('engine: miss → hit (RFC 9111 §3, §4)', () => {
  it('stores a fresh 200 and answers the next request from the cache with Age', async () => {
    const t = setup()
    const miss = await t.send()
    expect(miss.outcome.kind).toBe('miss')
    expect(miss.header('cache-status')).toBe(
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60'
    )
    t.advance(10_000)
    const hit = await t.send()
    expect(hit.outcome.kind).toBe('hit')
    expect(hit.body).toBe('hello')
    expect(hit.header('age')).toBe('10')
    expect(hit.header('cache-status')).toBe('cachewire; hit; ttl=50')
    expect(t.calls).toHaveLength(1)
  })

  it("replays the handler's headers exactly, adding ETag, Content-Length, Age and Cache-Status", async () => {
    const t = setup()
    t.setApp(() => ({
      headers: [
        ['X-B', '2'],
        ['Date', 'Tue, 31 Dec 2024 23:59:59 GMT'],
        ['Cache-Control', 'max-age=60'],
        ['X-B', '3'],
      ],
      body: 'hi',
    }))
    await t.send()
    const hit = await t.send()
    expect(hit.headers.map(([name]) => name)).toEqual([
      'x-b',
      'date',
      'cache-control',
      'x-b',
      'etag',
      'content-length',
      'accept-ranges',
      'age',
      'cache-status',
    ])
    expect(hit.header('date')).toBe('Tue, 31 Dec 2024 23:59:59 GMT')
    expect(hit.header('x-b')).toBe('2, 3')
  })

  it('a response with no freshness and no validator is not reused; a route TTL makes it so', async () => {
    const t = setup({ observability: { debug: true }, etag: false })
    t.setApp(() => ({ body: 'x' }))
    const first = await t.send()
    expect(first.header('cache-status')).toContain('detail=no-freshness')
    await t.send()
    expect(t.calls).toHaveLength(2)
    const route = resolveRoutePolicy({ ttl: '1m' })
    await t.send({ route })
    expect((await t.send({ route })).outcome.kind).toBe('hit')
  })

  it('response headers win over the route TTL (max-age=0 with a validator is revalidated each time)', async () => {
    const t = setup()
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=0', etag: '"v"' }, body: 'x' }))
    const route = resolveRoutePolicy({ ttl: '1h' })
    await t.send({ route })
    t.advance(1)
    const second = await t.send({ route })
    expect(second.outcome.kind).toBe('response')
    expect(t.calls[1]?.headers['if-none-match']).toBe('"v"')
  })

  it("does not store statuses outside the allow-list when the lifetime is the app's ttl (RFC 9110 §15.1)", async () => {
    const t = setup({ observability: { debug: true }, ttl: '1m' })
    t.setApp(() => ({ status: 500, body: 'down' }))
    expect((await t.send()).header('cache-status')).toContain('detail=status')
    t.setApp(() => ({ status: 404, body: 'nope' }))
    await t.send()
    const hit = await t.send()
    expect([hit.outcome.kind, hit.status]).toEqual(['hit', 404])
  })

  it('stores any understood status with explicit freshness, never an unrecognised one (RFC 9111 §3)', async () => {
    const t = setup({ observability: { debug: true } })
    t.setApp(() => ({ status: 503, headers: { 'cache-control': 'max-age=60' }, body: 'busy' }))
    await t.send()
    const hit = await t.send()
    expect([hit.outcome.kind, hit.status, hit.body]).toEqual(['hit', 503, 'busy'])
    const u = setup({ observability: { debug: true } })
    u.setApp(() => ({ status: 299, headers: { 'cache-control': 'max-age=60' } }))
    expect((await u.send()).header('cache-status')).toContain('detail=status')
  })

  it('does not store bodies over maxEntrySize, or incomplete ones', async () => {
    const t = setup({ storage: { maxEntryBytes: 4 } })
    await t.send()
    await t.send()
    expect(t.calls).toHaveLength(2)
    const u = setup()
    u.setApp(() => ({ headers: { 'cache-control': 'max-age=60' }, body: 'hel', complete: false }))
    await u.send()
    await u.send()
    expect(u.calls).toHaveLength(2)
  })

  it('never stores Set-Cookie responses, and still sends the cookie to the client', async () => {
    const t = setup({ observability: { debug: true } })
    t.setApp(() => ({
      headers: { 'cache-control': 'public, max-age=60', 'set-cookie': 'sid=1' },
      body: 'x',
    }))
    const first = await t.send()
    expect(first.header('set-cookie')).toBe('sid=1')
    expect(first.header('cache-status')).toContain('detail=set-cookie')
    expect((await t.send()).outcome.kind).toBe('miss')
  })

  it.each(['private, max-age=60', 'no-store'])('never stores %s', async (cc) => {
    const t = setup()
    t.setApp(() => ({ headers: { 'cache-control': cc }, body: 'x' }))
    await t.send()
    expect((await t.send()).outcome.kind).toBe('miss')
  })

  it('request no-store: answered from the cache, but its response is not stored (RFC 9111 §5.2.1.5)', async () => {
    const t = setup()
    const noStore = await t.send({ headers: { 'cache-control': 'no-store' } })
    expect((noStore.outcome as ForwardOutcome).captureBody).toBe(false)
    expect((await t.send()).outcome.kind).toBe('miss')
    expect((await t.send({ headers: { 'cache-control': 'no-store' } })).outcome.kind).toBe('hit')
  })

  it('RFC 9213: with targetedCacheControl, CDN-Cache-Control overrides Cache-Control', async () => {
    const t = setup({ freshness: { targetedField: 'CDN-Cache-Control' } })
    t.setApp(() => ({
      headers: { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' },
      body: 'x',
    }))
    await t.send()
    const hit = await t.send()
    expect(hit.outcome.kind).toBe('hit')
    expect(hit.header('cache-control')).toBe('no-store')
  })

  it('normalised queries share one entry (when the adapter strips ignored parameters from what the handler sees)', async () => {
    const t = setup()
    await t.send({ url: '/a?x=1&y=2' })
    expect(
      (await t.send({ url: '/a?y=2&x=1&utm_source=mail', stripsIgnoredParams: true })).outcome.kind
    ).toBe('hit')
  })

  it('DESIGN rule 2: an ignored parameter the adapter cannot strip makes the request bypass', async () => {
    const t = setup()
    await t.send({ url: '/a?x=1' })
    expect((await t.send({ url: '/a?x=1&utm_source=mail' })).outcome).toMatchObject({
      kind: 'bypass',
      reason: 'ignored-param',
    })
    // A member with `;` is not ignored (parameter cloaking): it stays keyed and needs no stripping.
    expect((await t.send({ url: '/a?x=1&utm_source=a;x=2' })).outcome.kind).toBe('miss')
    expect(t.engine.withoutIgnoredParams('/a?utm_source=mail&x=1&fbclid=z')).toBe('/a?x=1')
  })

  it('a host outside the allow-list bypasses', async () => {
    const t = setup({ keys: { hosts: ['example.com'] }, observability: { debug: true } })
    const result = await t.send({ host: 'evil.com' })
    expect(result.outcome).toMatchObject({ kind: 'bypass', reason: 'host' })
    expect(result.header('cache-status')).toBe('cachewire; fwd=bypass; fwd-status=200; detail=host')
    expect((await t.send({ host: 'evil.com' })).outcome.kind).toBe('bypass')
  })

  it('a key function separates entries; false bypasses', async () => {
    const t = setup({
      keys: {
        key: (request) =>
          request.headers['x-tenant'] === 'skip' ? false : String(request.headers['x-tenant']),
      },
    })
    await t.send({ headers: { 'x-tenant': 'a' } })
    expect((await t.send({ headers: { 'x-tenant': 'b' } })).outcome.kind).toBe('miss')
    expect((await t.send({ headers: { 'x-tenant': 'a' } })).outcome.kind).toBe('hit')
    expect((await t.send({ headers: { 'x-tenant': 'skip' } })).outcome).toMatchObject({
      kind: 'bypass',
      reason: 'key',
    })
  })

  it('a throwing key function serves the request uncached and reports the error', async () => {
    const t = setup({
      keys: {
        key: () => {
          throw new Error('boom')
        },
      },
    })
    expect((await t.send()).outcome).toMatchObject({ kind: 'bypass', reason: 'error' })
    expect(t.errors.map((error) => error.message)).toEqual(['boom'])
  })
})

describe('engine: HEAD (RFC 9110 §9.3.2)', () => {
  it('answers HEAD from the GET entry without a body, keeping Content-Length', async () => {
    const t = setup()
    await t.send()
    const head = await t.send({ method: 'HEAD' })
    expect(head.outcome.kind).toBe('hit')
    expect(head.body).toBe('')
    expect(head.header('content-length')).toBe('5')
    expect(t.calls).toHaveLength(1)
  })

  it('never stores a HEAD response', async () => {
    const t = setup()
    const head = await t.send({ method: 'HEAD' })
    expect(head.outcome.kind).toBe('miss')
    expect((head.outcome as ForwardOutcome).captureBody).toBe(false)
    expect((await t.send()).outcome.kind).toBe('miss')
  })
})

describe('engine: conditional requests (RFC 9111 §4.3.2, RFC 9110 §13)', () => {
  it('answers If-None-Match from the stored entry with a 304 carrying the §15.4.5 fields', async () => {
    const t = setup()
    t.setApp(() => ({
      headers: { 'content-type': 'text/plain', 'cache-control': 'max-age=60', etag: '"v1"' },
      body: 'x',
    }))
    await t.send()
    const result = await t.send({ headers: { 'if-none-match': 'W/"v1"' } })
    expect(result.outcome.kind).toBe('not-modified')
    expect(result.status).toBe(304)
    expect(result.body).toBe('')
    expect(result.headers.map(([name]) => name)).toEqual([
      'cache-control',
      'etag',
      'age',
      'cache-status',
    ])
  })

  it('answers If-Modified-Since when there is no If-None-Match', async () => {
    const t = setup({ etag: false })
    const lastModified = 'Tue, 31 Dec 2024 00:00:00 GMT'
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=60', 'last-modified': lastModified },
      body: 'x',
    }))
    await t.send()
    expect((await t.send({ headers: { 'if-modified-since': lastModified } })).status).toBe(304)
    expect(
      (await t.send({ headers: { 'if-modified-since': 'Mon, 30 Dec 2024 00:00:00 GMT' } })).status
    ).toBe(200)
  })

  it('on a miss, removes conditional and Range fields before the handler runs, stores the 200, answers 304 itself', async () => {
    const t = setup()
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=60', etag: '"v1"', 'content-type': 'text/plain' },
      body: 'full',
    }))
    const result = await t.send({
      headers: { 'if-none-match': '"v1"', range: 'bytes=0-1', accept: 'text/plain' },
    })
    expect(t.calls[0]?.headers).toEqual({ accept: 'text/plain' })
    expect(result.status).toBe(304)
    expect(result.body).toBe('')
    expect(result.headers.map(([name]) => name)).toEqual(['cache-control', 'etag', 'cache-status'])
    const hit = await t.send()
    expect([hit.status, hit.body]).toEqual([200, 'full'])
  })

  it('answers Range from the full entry (RFC 9110 §14.2, RFC 9111 §3.4): a miss stores the 200, a hit gives the 206', async () => {
    const t = setup()
    const miss = await t.send({ headers: { range: 'bytes=0-1' } })
    expect([miss.outcome.kind, miss.status, miss.body]).toEqual(['miss', 200, 'hello'])
    expect(t.calls[0]?.headers.range).toBeUndefined()
    const result = await t.send({ headers: { range: 'bytes=0-1' } })
    expect([
      result.outcome.kind,
      result.status,
      result.body,
      result.header('content-range'),
    ]).toEqual(['hit', 206, 'he', 'bytes 0-1/5'])
  })

  it('If-Match bypasses: only the origin evaluates preconditions', async () => {
    const t = setup()
    await t.send()
    expect((await t.send({ headers: { 'if-match': '"x"' } })).outcome).toMatchObject({
      kind: 'bypass',
      reason: 'precondition',
    })
  })
})

describe('engine: request directives (RFC 9111 §5.2.1)', () => {
  it("no-cache forces revalidation with fwd=request under requestDirectives: 'honour'; ignored by default", async () => {
    const t = setup({ freshness: { requestDirectives: 'honour' } })
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60', etag: '"v"' }, body: 'x' }))
    await t.send()
    t.setApp((request) =>
      request.headers['if-none-match'] === '"v"'
        ? { status: 304, headers: {} }
        : { body: 'changed' }
    )
    const result = await t.send({ headers: { 'cache-control': 'no-cache' } })
    expect(result.header('cache-status')).toBe(
      'cachewire; fwd=request; fwd-status=304; stored; ttl=60'
    )
    expect(t.calls).toHaveLength(2)
    for (const lax of [setup(), setup({ freshness: { requestDirectives: 'ignore' } })]) {
      await lax.send()
      expect((await lax.send({ headers: { 'cache-control': 'no-cache' } })).outcome.kind).toBe(
        'hit'
      )
      expect((await lax.send({ headers: { 'cache-control': 'max-age=0' } })).outcome.kind).toBe(
        'hit'
      )
      expect((await lax.send({ headers: { pragma: 'no-cache' } })).outcome.kind).toBe('hit')
      expect(lax.calls).toHaveLength(1)
    }
  })

  it('max-age: an entry older than the client accepts is revalidated', async () => {
    const t = setup({ freshness: { requestDirectives: 'honour' } })
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60', etag: '"v"' }, body: 'x' }))
    await t.send()
    t.advance(10_000)
    expect((await t.send({ headers: { 'cache-control': 'max-age=20' } })).outcome.kind).toBe('hit')
    expect((await t.send({ headers: { 'cache-control': 'max-age=5' } })).outcome.kind).toBe(
      'response'
    )
  })

  it('min-fresh: an entry fresh for less than asked is revalidated', async () => {
    const t = setup({ freshness: { requestDirectives: 'honour' } })
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60', etag: '"v"' }, body: 'x' }))
    await t.send()
    t.advance(50_000)
    expect((await t.send({ headers: { 'cache-control': 'min-fresh=5' } })).outcome.kind).toBe('hit')
    expect((await t.send({ headers: { 'cache-control': 'min-fresh=20' } })).outcome.kind).toBe(
      'response'
    )
  })

  it("max-stale: a stale entry is served within the client's tolerance, unless must-revalidate", async () => {
    const t = setup()
    await t.send()
    t.advance(70_000)
    const stale = await t.send({ headers: { 'cache-control': 'max-stale=30' } })
    expect([stale.outcome.kind, stale.header('cache-status')]).toEqual([
      'hit',
      'cachewire; hit; ttl=-10',
    ])
    const u = setup()
    u.setApp(() => ({ headers: { 'cache-control': 'max-age=60, must-revalidate' }, body: 'x' }))
    await u.send()
    u.advance(70_000)
    expect((await u.send({ headers: { 'cache-control': 'max-stale' } })).outcome.kind).not.toBe(
      'hit'
    )
  })

  it('only-if-cached: 504 when nothing usable is stored, the entry otherwise', async () => {
    const t = setup()
    const none = await t.send({ headers: { 'cache-control': 'only-if-cached' } })
    expect([none.outcome.kind, none.status]).toEqual(['response', 504])
    expect(t.calls).toHaveLength(0)
    await t.send()
    expect((await t.send({ headers: { 'cache-control': 'only-if-cached' } })).outcome.kind).toBe(
      'hit'
    )
    t.advance(61_000)
    expect((await t.send({ headers: { 'cache-control': 'only-if-cached' } })).status).toBe(504)
  })
})

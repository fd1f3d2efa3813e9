import { describe, expect, it } from 'vitest'
import { analyseResponse, buildStoredResponse, type EntryPolicy } from '../src/entry/entry.js'
import { mergeNotModified, notModifiedApplies } from '../src/entry/merge-not-modified.js'
import type { HeaderPair } from '../src/types.js'

const NOW = Date.UTC(2025, 0, 1)
const policy: EntryPolicy = {
  etag: 'strong',
  targetedField: undefined,
  surrogateKeyHeader: 'surrogate-key',
  ttlMs: undefined,
  staleWhileRevalidateMs: 0,
  staleIfErrorMs: 0,
  revalidationWindowMs: 300_000,
}

function build(pairs: HeaderPair[], body = 'hello', p: EntryPolicy = policy, status = 200) {
  const facts = analyseResponse(pairs, p, NOW)
  return buildStoredResponse(
    {
      key: 'k',
      status,
      pairs,
      body: Buffer.from(body),
      facts,
      requestTime: NOW,
      responseTime: NOW,
      tags: ['t'],
    },
    p
  )
}

describe('analyseResponse(pairs, policy, now)', () => {
  it('RFC 9213: a targeted field replaces Cache-Control when enabled and present', () => {
    const pairs: HeaderPair[] = [
      ['cache-control', 'no-store'],
      ['cdn-cache-control', 'max-age=60'],
    ]
    expect(analyseResponse(pairs, policy, NOW).directives['no-store']).toBe(true)
    const targeted = analyseResponse(pairs, { ...policy, targetedField: 'cdn-cache-control' }, NOW)
    expect(targeted.directives['no-store']).toBeUndefined()
    expect(targeted.freshness.lifetimeMs).toBe(60_000)
  })

  it('RFC 9213 §2.1: an empty or invalid targeted field is ignored, and Cache-Control governs', () => {
    for (const value of ['', 'max-age=60, &&&', 'MaX-aGe=60', 'max-age="60"x']) {
      const pairs: HeaderPair[] = [
        ['cache-control', 'max-age=5'],
        ['cdn-cache-control', value],
      ]
      expect(
        analyseResponse(pairs, { ...policy, targetedField: 'cdn-cache-control' }, NOW).freshness
          .lifetimeMs,
        value
      ).toBe(5_000)
    }
  })

  it('RFC 9213 §2.2: a valid targeted field governs even with only directives this cache does not know, and Expires is ignored', () => {
    const unknown: HeaderPair[] = [
      ['cache-control', 'max-age=5'],
      ['cdn-cache-control', 'foo'],
    ]
    expect(
      analyseResponse(unknown, { ...policy, targetedField: 'cdn-cache-control' }, NOW).freshness
        .source
    ).toBe('none')
    const expires: HeaderPair[] = [
      ['expires', new Date(NOW + 60_000).toUTCString()],
      ['cdn-cache-control', 'public'],
    ]
    const facts = analyseResponse(expires, { ...policy, targetedField: 'cdn-cache-control' }, NOW)
    expect([facts.freshness.source, facts.explicitFreshness]).toEqual(['none', true])
  })

  it('RFC 5861: response directives set the stale windows, option defaults fill in', () => {
    const facts = analyseResponse(
      [['cache-control', 'max-age=1, stale-while-revalidate=30']],
      { ...policy, staleIfErrorMs: 9_000 },
      NOW
    )
    expect(facts.staleWhileRevalidateMs).toBe(30_000)
    expect(facts.staleIfErrorMs).toBe(9_000)
  })

  it.each(['must-revalidate', 'proxy-revalidate', 'no-cache'])(
    'RFC 9111 §4.2.4: %s closes both stale windows',
    (directive) => {
      const facts = analyseResponse(
        [
          [
            'cache-control',
            `max-age=1, ${directive}, stale-while-revalidate=30, stale-if-error=30`,
          ],
        ],
        policy,
        NOW
      )
      expect(facts.staleWhileRevalidateMs).toBe(0)
      expect(facts.staleIfErrorMs).toBe(0)
    }
  )

  it('a response with no freshness, validator or stale window is not reusable', () => {
    expect(analyseResponse([], policy, NOW).reusable).toBe(false)
    expect(analyseResponse([['cache-control', 'max-age=0']], policy, NOW).reusable).toBe(false)
    expect(analyseResponse([], { ...policy, ttlMs: 1000 }, NOW).reusable).toBe(true)
  })

  it('explicit zero freshness with a validator is reusable (for revalidation); a validator alone, with no freshness and no ttl, is not', () => {
    expect(
      analyseResponse(
        [
          ['cache-control', 'max-age=0'],
          ['etag', '"a"'],
        ],
        policy,
        NOW
      ).reusable
    ).toBe(true)
    expect(
      analyseResponse(
        [
          ['cache-control', 'no-cache'],
          ['last-modified', 'Wed, 01 Jan 2025 00:00:00 GMT'],
        ],
        policy,
        NOW
      ).reusable
    ).toBe(true)
    expect(
      analyseResponse(
        [
          ['expires', 'Wed, 01 Jan 2020 00:00:00 GMT'],
          ['etag', '"a"'],
        ],
        policy,
        NOW
      ).reusable
    ).toBe(true)
    for (const pairs of [
      [['etag', '"a"']],
      [['last-modified', 'Wed, 01 Jan 2025 00:00:00 GMT']],
    ] as HeaderPair[][]) {
      const facts = analyseResponse(pairs, policy, NOW)
      expect(facts.reusable).toBe(false)
      expect(facts.noFreshness).toBe(true)
    }
    expect(analyseResponse([['etag', '"a"']], { ...policy, ttlMs: 1000 }, NOW).reusable).toBe(true)
  })
})

describe('buildStoredResponse(input, policy) — what a hit needs, precomputed', () => {
  it("keeps the handler's headers in order and values (Date not rewritten)", () => {
    const pairs: HeaderPair[] = [
      ['date', 'Tue, 31 Dec 2024 23:59:59 GMT'],
      ['x-b', '2'],
      ['x-a', '1'],
      ['cache-control', 'max-age=60'],
      ['x-a', '3'],
    ]
    const entry = build(pairs)
    expect(entry.headers.slice(0, 5)).toEqual(pairs)
  })

  it('removes hop-by-hop, Connection-named, Set-Cookie, Age, Cache-Status and the surrogate-key field', () => {
    const entry = build([
      ['connection', 'x-hop'],
      ['x-hop', '1'],
      ['transfer-encoding', 'chunked'],
      ['set-cookie', 'a=1'],
      ['age', '5'],
      ['cache-status', 'Origin; hit'],
      ['surrogate-key', 'a b'],
      ['cache-control', 'max-age=60'],
    ])
    expect(entry.headers.map(([name]) => name)).toEqual([
      'cache-control',
      'etag',
      'content-length',
      'accept-ranges',
    ])
    expect(entry.upstreamCacheStatus).toBe('Origin; hit')
  })

  it('adds a strong ETag (etag package) when the handler set none, weak by option, none when off', () => {
    expect(build([['cache-control', 'max-age=60']]).etag).toBe('"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"')
    expect(
      build([['cache-control', 'max-age=60']], 'hello', { ...policy, etag: 'weak' }).etag
    ).toBe('W/"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"')
    expect(
      build([['cache-control', 'max-age=60']], 'hello', { ...policy, etag: false }).etag
    ).toBeUndefined()
    expect(
      build([
        ['cache-control', 'max-age=60'],
        ['etag', '"mine"'],
      ]).etag
    ).toBe('"mine"')
  })

  it('adds Content-Length for the stored body, but not for 204', () => {
    expect(build([['cache-control', 'max-age=60']]).headers).toContainEqual(['content-length', '5'])
    expect(
      build([['cache-control', 'max-age=60']], '', policy, 204).headers.map(([n]) => n)
    ).not.toContain('content-length')
  })

  it('precomputes the RFC 9110 §15.4.5 subset for 304s', () => {
    const entry = build([
      ['content-type', 'text/plain'],
      ['cache-control', 'max-age=60'],
    ])
    expect(entry.notModifiedHeaders.map(([name]) => name)).toEqual(['cache-control', 'etag'])
  })

  it('holds absolute instants: RFC 9111 §4.2.3 age is subtracted from the lifetime', () => {
    const entry = build([
      ['cache-control', 'max-age=60, stale-while-revalidate=30, stale-if-error=100'],
      ['age', '10'],
    ])
    expect(entry.storedAt).toBe(NOW)
    expect(entry.initialAgeMs).toBe(10_000)
    expect(entry.staleAt).toBe(NOW + 50_000)
    expect(entry.staleWhileRevalidateUntil).toBe(NOW + 80_000)
    expect(entry.staleIfErrorUntil).toBe(NOW + 150_000)
    expect(entry.expiresAt).toBe(NOW + 50_000 + 300_000)
  })

  it('keeps an entry without a validator only until its last window ends', () => {
    const entry = build([['cache-control', 'max-age=60, stale-if-error=100']], 'x', {
      ...policy,
      etag: false,
    })
    expect(entry.expiresAt).toBe(NOW + 160_000)
  })

  it('RFC 9111 §5.2.2.10: s-maxage forbids max-stale; §3.5 flags shareable-with-Authorization', () => {
    expect(build([['cache-control', 's-maxage=60']]).allowMaxStale).toBe(false)
    expect(build([['cache-control', 'max-age=60']]).allowMaxStale).toBe(true)
    expect(build([['cache-control', 's-maxage=60']]).sharedWithAuthorization).toBe(true)
    expect(build([['cache-control', 'max-age=60']]).sharedWithAuthorization).toBe(false)
  })
})

describe('mergeNotModified(entry, pairs) — RFC 9111 §3.2', () => {
  const entry = build([
    ['content-type', 'text/plain'],
    ['cache-control', 'max-age=60'],
    ['x-multi', '1'],
    ['x-multi', '2'],
    ['etag', '"e"'],
  ])

  it('replaces updated fields in place, appends new ones, keeps the rest', () => {
    const merged = mergeNotModified(entry, [
      ['cache-control', 'max-age=120'],
      ['x-multi', '3'],
      ['x-new', 'y'],
    ])
    expect(merged).toEqual([
      ['content-type', 'text/plain'],
      ['cache-control', 'max-age=120'],
      ['x-multi', '3'],
      ['etag', '"e"'],
      ['content-length', '5'],
      ['accept-ranges', 'bytes'],
      ['x-new', 'y'],
    ])
  })

  it('never takes Content-Length or hop-by-hop fields from the 304', () => {
    const merged = mergeNotModified(entry, [
      ['content-length', '0'],
      ['connection', 'close'],
      ['transfer-encoding', 'chunked'],
    ])
    expect(merged).toContainEqual(['content-length', '5'])
    expect(merged.map(([name]) => name)).not.toContain('connection')
    expect(merged.map(([name]) => name)).not.toContain('transfer-encoding')
  })

  it('RFC 9111 §4.3.4: a 304 applies when it names the stored ETag (weakly) or none', () => {
    expect(notModifiedApplies(entry, [])).toBe(true)
    expect(notModifiedApplies(entry, [['etag', 'W/"e"']])).toBe(true)
    expect(notModifiedApplies(entry, [['etag', '"other"']])).toBe(false)
  })
})

describe('entries and issue 14 — whose validators, ranges, private scope', () => {
  it("RFC 9111 §4.3.1: a generated ETag is marked as the cache's own; the origin's is not", () => {
    expect([
      build([['cache-control', 'max-age=60']]).etagGenerated,
      build([
        ['cache-control', 'max-age=60'],
        ['etag', '"o"'],
      ]).etagGenerated,
    ]).toEqual([true, false])
    expect(
      build([['cache-control', 'max-age=60']], 'x', { ...policy, etag: false }).etagGenerated
    ).toBe(false)
  })

  it("mergeNotModified never lets the generated ETag pass for the origin's", () => {
    const entry = build([
      ['cache-control', 'max-age=60'],
      ['last-modified', 'Wed, 01 Jan 2025 00:00:00 GMT'],
    ])
    const merged = mergeNotModified(entry, [['cache-control', 'max-age=120']])
    expect(merged.map(([name]) => name)).not.toContain('etag')
    const again = build(merged)
    expect([again.etag, again.etagGenerated]).toEqual([entry.etag, true])
  })

  it('RFC 9110 §14.3: a stored 200 says Accept-Ranges: bytes unless the handler said otherwise; other statuses do not', () => {
    expect(build([['cache-control', 'max-age=60']]).headers).toContainEqual([
      'accept-ranges',
      'bytes',
    ])
    expect(
      build([
        ['cache-control', 'max-age=60'],
        ['accept-ranges', 'none'],
      ]).headers.filter(([name]) => name === 'accept-ranges')
    ).toEqual([['accept-ranges', 'none']])
    expect(
      build([['cache-control', 'max-age=60']], 'x', policy, 404).headers.map(([name]) => name)
    ).not.toContain('accept-ranges')
  })

  it("scope: 'private' with the armor: an entry without Cache-Control says private; one with it keeps its own", () => {
    const own: EntryPolicy = { ...policy, scope: 'private', markPrivate: true, ttlMs: 60_000 }
    expect(build([['content-type', 'text/plain']], 'x', own).headers).toContainEqual([
      'cache-control',
      'private',
    ])
    expect(
      build([['cache-control', 'max-age=5']], 'x', own).headers.filter(
        ([name]) => name === 'cache-control'
      )
    ).toEqual([['cache-control', 'max-age=5']])
  })

  it("RFC 9111 §5.2.2.10, §5.2.2.8: under scope: 'private' s-maxage and proxy-revalidate are a shared cache's business", () => {
    const own: EntryPolicy = { ...policy, scope: 'private' }
    const facts = analyseResponse(
      [['cache-control', 'max-age=10, s-maxage=60, proxy-revalidate, stale-if-error=30']],
      own,
      NOW
    )
    expect([facts.freshness.lifetimeMs, facts.staleIfErrorMs]).toEqual([10_000, 30_000])
    expect(analyseResponse([['cache-control', 's-maxage=60']], own, NOW).explicitFreshness).toBe(
      false
    )
    expect(analyseResponse([['cache-control', 's-maxage=60']], policy, NOW).explicitFreshness).toBe(
      true
    )
  })

  it('RFC 9111 §4.2.2: a heuristic lifetime when enabled, by status', () => {
    const heuristic: EntryPolicy = { ...policy, heuristic: { fraction: 0.1, maxMs: 86_400_000 } }
    const pairs: HeaderPair[] = [
      ['date', new Date(NOW).toUTCString()],
      ['last-modified', new Date(NOW - 10 * 86_400_000).toUTCString()],
    ]
    expect(analyseResponse(pairs, heuristic, NOW, 200).freshness).toEqual({
      lifetimeMs: 86_400_000,
      source: 'heuristic',
    })
    expect(analyseResponse(pairs, heuristic, NOW, 503).freshness.source).toBe('none')
    expect(analyseResponse(pairs, policy, NOW, 200).freshness.source).toBe('none')
    expect(analyseResponse(pairs, { ...heuristic, ttlMs: 5_000 }, NOW, 200).freshness.source).toBe(
      'route'
    )
  })
})

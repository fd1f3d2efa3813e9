import { describe, expect, it } from 'vitest'
import { parseCacheControl } from '../src/semantics/cache-control.js'
import {
  allowsAuthenticated,
  canStore,
  DEFAULT_CACHEABLE_STATUSES,
  type StorabilityInput,
} from '../src/semantics/storability.js'
import type { HeaderPair } from '../src/types.js'

const base: StorabilityInput = {
  method: 'GET',
  status: 200,
  headers: [['cache-control', 'max-age=60']],
  directives: parseCacheControl('max-age=60'),
  authorization: false,
  shareAuthenticated: false,
  cookie: false,
  requestNoStore: false,
  complete: true,
  bodyBytes: 5,
  statuses: new Set(DEFAULT_CACHEABLE_STATUSES),
  maxEntrySize: 100,
  reusable: true,
}

function input(
  cc: string,
  headers: HeaderPair[] = [],
  overrides: Partial<StorabilityInput> = {}
): StorabilityInput {
  return {
    ...base,
    headers: [['cache-control', cc], ...headers],
    directives: parseCacheControl(cc),
    ...overrides,
  }
}

describe('canStore(input) — a shared cache, RFC 9111 §3', () => {
  const cases: Array<[rfc: string, StorabilityInput, expected: true | string]> = [
    ['§3 a fresh 200 to a GET is storable', input('max-age=60'), true],
    ['§3 only GET is stored', input('max-age=60', [], { method: 'POST' }), 'method'],
    [
      '§3 HEAD is never stored (no body to reuse)',
      input('max-age=60', [], { method: 'HEAD' }),
      'head',
    ],
    [
      '§5.2.1.5 request no-store',
      input('max-age=60', [], { requestNoStore: true }),
      'request-no-store',
    ],
    [
      '§3 206 is never stored (ranges not implemented)',
      input('max-age=60', [], { status: 206 }),
      'status',
    ],
    [
      '§3 304 is never stored',
      input('max-age=60', [], { status: 304, statuses: new Set([304]) }),
      'status',
    ],
    [
      'allow-listed 302 with explicit freshness',
      input('max-age=60', [], { status: 302, statuses: new Set([302]) }),
      true,
    ],
    ['RFC 9110 §15.1: 404 is cacheable by default', input('max-age=60', [], { status: 404 }), true],
    ['§5.2.2.5 no-store', input('no-store'), 'no-store'],
    [
      '§5.2.2.3 must-understand with an understood status ignores no-store',
      input('no-store, must-understand, max-age=60'),
      true,
    ],
    [
      '§5.2.2.3 must-understand with a status we do not implement keeps no-store',
      input('no-store, must-understand', [], { status: 299, statuses: new Set([299]) }),
      'no-store',
    ],
    ['§5.2.2.7 private', input('private, max-age=60'), 'private'],
    [
      '§7.3 / DESIGN rule 2: Set-Cookie',
      input('public, max-age=60', [['set-cookie', 'sid=1']]),
      'set-cookie',
    ],
    ['§4.1 Vary: *', input('max-age=60', [['vary', 'accept, *']]), 'vary-star'],
    [
      '§3.5 Authorization without public/s-maxage/must-revalidate',
      input('max-age=60', [], { authorization: true, shareAuthenticated: true }),
      'authorization',
    ],
    [
      '§3.5 Authorization with public, on a route that shares authenticated responses',
      input('public, max-age=60', [], { authorization: true, shareAuthenticated: true }),
      true,
    ],
    [
      '§3.5 Authorization with s-maxage, on a route that shares authenticated responses',
      input('s-maxage=60', [], { authorization: true, shareAuthenticated: true }),
      true,
    ],
    [
      '§3.5 Authorization with must-revalidate, on a route that shares authenticated responses',
      input('max-age=60, must-revalidate', [], { authorization: true, shareAuthenticated: true }),
      true,
    ],
    [
      'DESIGN rule 2: Authorization with public, no opt-in: never shared silently',
      input('public, max-age=60', [], { authorization: true }),
      'authorization',
    ],
    [
      'DESIGN rule 2: Authorization with s-maxage, no opt-in',
      input('s-maxage=60', [], { authorization: true }),
      'authorization',
    ],
    [
      'DESIGN rule 2: Authorization with must-revalidate, no opt-in',
      input('max-age=60, must-revalidate', [], { authorization: true }),
      'authorization',
    ],
    [
      'DESIGN rule 2: a Cookie the route did not opt in to',
      input('max-age=60', [], { cookie: true }),
      'cookie',
    ],
    ['§3.3 an incomplete body', input('max-age=60', [], { complete: false }), 'incomplete'],
    [
      '§3.3 a body shorter than Content-Length',
      input('max-age=60', [['content-length', '10']], { bodyBytes: 5 }),
      'incomplete',
    ],
    ['a body over maxEntrySize', input('max-age=60', [], { bodyBytes: 101 }), 'too-large'],
    [
      'a declared Content-Length over maxEntrySize (known at header time)',
      input('max-age=60', [['content-length', '101']], { bodyBytes: undefined }),
      'too-large',
    ],
    [
      '§4.2.2 no freshness, no validator, no stale window: never reusable',
      input('public', [], { reusable: false }),
      'no-freshness',
    ],
  ]
  for (const [rfc, value, expected] of cases) {
    it(rfc, () => expect(canStore(value)).toBe(expected))
  }
})

describe('canStore(input) — status codes, RFC 9111 §3 and §4.2.2', () => {
  // RFC 9111 §3: a response may be stored when "the response status code is final" and "understood
  // by the cache", and it has explicit freshness (Expires, max-age, s-maxage), is marked public,
  // or its status is heuristically cacheable (RFC 9110 §15.1). The `statuses` list gates only the
  // last case: lifetimes that come from the app's `ttl`, a heuristic, or a validator alone.
  const ttlOnly = new Set(DEFAULT_CACHEABLE_STATUSES)
  const status = (
    code: number,
    cc: string,
    headers: HeaderPair[] = [],
    statuses = ttlOnly
  ): StorabilityInput => input(cc, headers, { status: code, statuses })
  const explicit: Array<[rfc: string, code: number, cc: string, headers: HeaderPair[]]> = [
    ['§3 302 with max-age', 302, 'max-age=60', []],
    ['§3 303 with max-age', 303, 'max-age=60', []],
    ['§3 307 with max-age', 307, 'max-age=60', []],
    ['§3 308 with s-maxage', 308, 's-maxage=60', []],
    ['§3 404 with max-age', 404, 'max-age=60', []],
    ['§3 410 with Expires', 410, '', [['expires', 'Thu, 01 Jan 2099 00:00:00 GMT']]],
    [
      '§3 an invalid Expires is still an Expires (already stale, storable for revalidation)',
      500,
      '',
      [['expires', '0']],
    ],
    ['§3 500 with max-age', 500, 'max-age=60', []],
    ['§3 502 with s-maxage', 502, 's-maxage=5', []],
    ['§3 503 with max-age', 503, 'max-age=60', []],
    ['§3 504 marked public', 504, 'public', []],
    ['§3 201 with max-age', 201, 'max-age=60', []],
    ['§3 401 with max-age (no Authorization in the request)', 401, 'max-age=60', []],
    ['§3 403 with max-age', 403, 'max-age=60', []],
    ['RFC 7725 §3: 451 with max-age', 451, 'max-age=60', []],
  ]
  for (const [rfc, code, cc, headers] of explicit) {
    it(`${rfc}: stored even outside the ttl list`, () =>
      expect(canStore(status(code, cc, headers, new Set([200])))).toBe(true))
  }

  const refused: Array<[rfc: string, StorabilityInput]> = [
    [
      'RFC 9110 §15.1: 500 without explicit freshness is not heuristically cacheable',
      status(500, 'must-revalidate'),
    ],
    [
      'RFC 9110 §15.1: 302 with only a validator is not heuristically cacheable',
      status(302, '', [['etag', '"a"']]),
    ],
    ['RFC 9110 §15.1: 503 with no-cache alone is not explicit freshness', status(503, 'no-cache')],
    [
      'RFC 9110 §15: "a recipient MUST NOT cache a response with an unrecognized status code" (299)',
      status(299, 'max-age=60'),
    ],
    ['RFC 9110 §15: unrecognized 599 with max-age', status(599, 'max-age=60')],
    [
      'RFC 9111 §3: 206 is never stored, whatever the headers',
      status(206, 'max-age=60', [], new Set([206])),
    ],
    [
      'RFC 9111 §3: 304 is never stored, whatever the headers',
      status(304, 'public, max-age=60', [], new Set([304])),
    ],
    ['RFC 6585 §4: 429 "MUST NOT be stored by a cache"', status(429, 'max-age=60')],
    ['RFC 6585 §5: 431 "MUST NOT be stored by a cache"', status(431, 'max-age=60')],
    ['RFC 6585 §6: 511 "MUST NOT be stored by a cache"', status(511, 'max-age=60')],
    ['RFC 9110 §15.5.20: 421 is about the connection, not the resource', status(421, 'max-age=60')],
    ['RFC 9110 §15.5.9: 408 is about the connection, not the resource', status(408, 'max-age=60')],
    ['RFC 9110 §15.5.8: 407 answers the proxy hop, not the origin', status(407, 'max-age=60')],
    [
      'RFC 9111 §3 + §5.2.2.3: must-understand with an unknown status is never stored, even without no-store',
      status(299, 'max-age=60, must-understand', [], new Set([299])),
    ],
  ]
  for (const [rfc, value] of refused) {
    it(rfc, () => expect(canStore(value)).toBe('status'))
  }

  it('the ttl list still admits a listed status without explicit freshness (the app-level ttl fallback)', () => {
    expect(canStore(status(500, '', [], new Set([500])))).toBe(true)
    expect(canStore(status(200, ''))).toBe(true)
  })

  it('an explicit freshness flag from the caller wins over the headers (RFC 9213 §2.2: a targeted field makes Expires irrelevant)', () => {
    expect(
      canStore({
        ...status(500, '', [['expires', 'Thu, 01 Jan 2099 00:00:00 GMT']]),
        explicitFreshness: false,
      })
    ).toBe('status')
    expect(canStore({ ...status(500, ''), explicitFreshness: true })).toBe(true)
  })
})

describe('allowsAuthenticated(directives) — RFC 9111 §3.5', () => {
  it.each([
    ['public', true],
    ['s-maxage=1', true],
    ['must-revalidate', true],
    ['max-age=60', false],
    ['proxy-revalidate', false],
  ])('%s → %s', (cc, expected) => expect(allowsAuthenticated(parseCacheControl(cc))).toBe(expected))
})

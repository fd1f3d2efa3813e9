import { describe, expect, it } from 'vitest'
import { parseCacheControl } from '../src/semantics/cache-control.js'
import { allowsAuthenticated, canStore, DEFAULT_CACHEABLE_STATUSES, type StorabilityInput } from '../src/semantics/storability.js'
import type { HeaderPair } from '../src/types.js'

const base: StorabilityInput = {
  method: 'GET',
  status: 200,
  headers: [['cache-control', 'max-age=60']],
  directives: parseCacheControl('max-age=60'),
  authorization: false,
  cookie: false,
  requestNoStore: false,
  complete: true,
  bodyBytes: 5,
  statuses: new Set(DEFAULT_CACHEABLE_STATUSES),
  maxEntrySize: 100,
  reusable: true,
}

function input(cc: string, headers: HeaderPair[] = [], overrides: Partial<StorabilityInput> = {}): StorabilityInput {
  return { ...base, headers: [['cache-control', cc], ...headers], directives: parseCacheControl(cc), ...overrides }
}

describe('canStore(input) — a shared cache, RFC 9111 §3', () => {
  const cases: Array<[rfc: string, StorabilityInput, expected: true | string]> = [
    ['§3 a fresh 200 to a GET is storable', input('max-age=60'), true],
    ['§3 only GET is stored', input('max-age=60', [], { method: 'POST' }), 'method'],
    ['§3 HEAD is never stored (no body to reuse)', input('max-age=60', [], { method: 'HEAD' }), 'head'],
    ['§5.2.1.5 request no-store', input('max-age=60', [], { requestNoStore: true }), 'request-no-store'],
    ['§3 206 is never stored (ranges not implemented)', input('max-age=60', [], { status: 206 }), 'status'],
    ['§3 304 is never stored', input('max-age=60', [], { status: 304, statuses: new Set([304]) }), 'status'],
    ['RFC 9110 §15.1: 500 is not cacheable by default', input('max-age=60', [], { status: 500 }), 'status'],
    ['allow-listed 302 with explicit freshness', input('max-age=60', [], { status: 302, statuses: new Set([302]) }), true],
    ['RFC 9110 §15.1: 404 is cacheable by default', input('max-age=60', [], { status: 404 }), true],
    ['§5.2.2.5 no-store', input('no-store'), 'no-store'],
    ['§5.2.2.3 must-understand with an understood status ignores no-store', input('no-store, must-understand, max-age=60'), true],
    ['§5.2.2.3 must-understand with a status we do not implement keeps no-store', input('no-store, must-understand', [], { status: 299, statuses: new Set([299]) }), 'no-store'],
    ['§5.2.2.7 private', input('private, max-age=60'), 'private'],
    ['§7.3 / DESIGN rule 2: Set-Cookie', input('public, max-age=60', [['set-cookie', 'sid=1']]), 'set-cookie'],
    ['§4.1 Vary: *', input('max-age=60', [['vary', 'accept, *']]), 'vary-star'],
    ['§3.5 Authorization without public/s-maxage/must-revalidate', input('max-age=60', [], { authorization: true }), 'authorization'],
    ['§3.5 Authorization with public', input('public, max-age=60', [], { authorization: true }), true],
    ['§3.5 Authorization with s-maxage', input('s-maxage=60', [], { authorization: true }), true],
    ['§3.5 Authorization with must-revalidate', input('max-age=60, must-revalidate', [], { authorization: true }), true],
    ['DESIGN rule 2: a Cookie the route did not opt in to', input('max-age=60', [], { cookie: true }), 'cookie'],
    ['§3.3 an incomplete body', input('max-age=60', [], { complete: false }), 'incomplete'],
    ['§3.3 a body shorter than Content-Length', input('max-age=60', [['content-length', '10']], { bodyBytes: 5 }), 'incomplete'],
    ['a body over maxEntrySize', input('max-age=60', [], { bodyBytes: 101 }), 'too-large'],
    ['a declared Content-Length over maxEntrySize (known at header time)', input('max-age=60', [['content-length', '101']], { bodyBytes: undefined }), 'too-large'],
    ['§4.2.2 no freshness, no validator, no stale window: never reusable', input('public', [], { reusable: false }), 'no-freshness'],
  ]
  for (const [rfc, value, expected] of cases) {
    it(rfc, () => expect(canStore(value)).toBe(expected))
  }
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

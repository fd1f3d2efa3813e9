import { describe, expect, it } from 'vitest'
import { cacheControl, type CacheControlOptions } from '../src/semantics/cache-control-builder.js'
import { hasDirectives, parseCacheControl } from '../src/semantics/cache-control.js'

describe('parseCacheControl(value)', () => {
  const cases: Array<[rfc: string, input: string | string[] | undefined, expected: Record<string, unknown>]> = [
    ['RFC 9111 §5.2: absent field', undefined, {}],
    ['RFC 9111 §5.2: empty field', '', {}],
    ['RFC 9111 §5.2.2.1 max-age', 'max-age=60', { 'max-age': 60 }],
    ['RFC 9111 §5.2.2.10 s-maxage with public', 'public, s-maxage=30', { public: true, 's-maxage': 30 }],
    ['RFC 9111 §5.2: directive names are case-insensitive', 'MAX-AGE=5, No-Store', { 'max-age': 5, 'no-store': true }],
    ['RFC 9111 §5.2: quoted-string form accepted', 'max-age="60"', { 'max-age': 60 }],
    ['RFC 9111 §4.2.1: first of duplicate directives wins', 'max-age=5, max-age=10', { 'max-age': 5 }],
    ['RFC 9111 §4.2.1: invalid max-age means stale', 'max-age=abc', { 'max-age': 0 }],
    ['RFC 9111 §4.2.1: negative max-age means stale', 'max-age=-1', { 'max-age': 0 }],
    ['RFC 9111 §4.2.1: invalid s-maxage means stale', 's-maxage=1e3', { 's-maxage': 0 }],
    ['RFC 9111 §1.2.2: delta-seconds overflow is 2^31', 'max-age=99999999999', { 'max-age': 2_147_483_648 }],
    ['RFC 9111 §5.2.1.2: max-stale without value', 'max-stale', { 'max-stale': Infinity }],
    ['RFC 9111 §5.2.1.2: max-stale with value', 'max-stale=30', { 'max-stale': 30 }],
    ['RFC 9111 §5.2.1.3: min-fresh', 'min-fresh=5', { 'min-fresh': 5 }],
    ['RFC 9111 §5.2.1.7: only-if-cached', 'only-if-cached', { 'only-if-cached': true }],
    ['RFC 9111 §5.2.1.4: request no-cache', 'no-cache', { 'no-cache': true }],
    ['RFC 9111 §5.2.2.4: qualified no-cache treated as unqualified', 'no-cache="set-cookie"', { 'no-cache': true }],
    ['RFC 9111 §5.2.2.7: qualified private treated as unqualified', 'private="x-user", max-age=5', { private: true, 'max-age': 5 }],
    ['RFC 9111 §5.2.2.3: must-understand', 'must-understand, no-store', { 'must-understand': true, 'no-store': true }],
    ['RFC 5861: stale-while-revalidate and stale-if-error', 'max-age=1, stale-while-revalidate=59, stale-if-error=600', { 'max-age': 1, 'stale-while-revalidate': 59, 'stale-if-error': 600 }],
    ['RFC 9111 §5.2.2.2/§5.2.2.8 revalidate flags', 'must-revalidate, proxy-revalidate', { 'must-revalidate': true, 'proxy-revalidate': true }],
    ['RFC 8246 immutable', 'immutable', { immutable: true }],
    ['RFC 9110 §5.3: several field lines form one list', ['public', 'max-age=60'], { public: true, 'max-age': 60 }],
    ['RFC 9111 §5.2.3: unknown extensions ignored', 'foo=bar, max-age=1', { 'max-age': 1 }],
    ['malformed input never throws', ',,,=,"unterminated, max-age=5', {}],
    ['prototype keys are ignored', '__proto__=1, constructor, toString', {}],
  ]
  for (const [rfc, input, expected] of cases) {
    it(`${rfc}: ${JSON.stringify(input)}`, () => {
      expect({ ...parseCacheControl(input) }).toEqual(expected)
    })
  }

  it('returns a null-prototype object, so inherited names never read as directives', () => {
    const parsed = parseCacheControl('max-age=1')
    expect(Object.getPrototypeOf(parsed)).toBe(null)
    expect((parsed as Record<string, unknown>).constructor).toBeUndefined()
  })

  it('hasDirectives is false for nothing known and true otherwise', () => {
    expect(hasDirectives(parseCacheControl('foo'))).toBe(false)
    expect(hasDirectives(parseCacheControl('no-store'))).toBe(true)
  })
})

describe('cacheControl(options)', () => {
  const cases: Array<[CacheControlOptions, string]> = [
    [{}, ''],
    [{ public: true, maxAge: 60 }, 'public, max-age=60'],
    [{ private: true, noCache: true }, 'private, no-cache'],
    [{ noStore: true }, 'no-store'],
    [{ sMaxage: 30, maxAge: 0, mustRevalidate: true }, 'max-age=0, s-maxage=30, must-revalidate'],
    [{ proxyRevalidate: true }, 'proxy-revalidate'],
    [{ maxAge: 1, staleWhileRevalidate: 59, staleIfError: 600 }, 'max-age=1, stale-while-revalidate=59, stale-if-error=600'],
    [{ maxAge: 31536000, immutable: true }, 'max-age=31536000, immutable'],
    [{ noTransform: true, public: false }, 'no-transform'],
  ]
  for (const [options, expected] of cases) {
    it(`builds ${JSON.stringify(expected)}`, () => {
      expect(cacheControl(options)).toBe(expected)
    })
  }

  it('round-trips through parseCacheControl', () => {
    const value = cacheControl({ public: true, maxAge: 60, sMaxage: 30, staleWhileRevalidate: 10, staleIfError: 20, immutable: true })
    expect({ ...parseCacheControl(value) }).toEqual({
      public: true,
      'max-age': 60,
      's-maxage': 30,
      'stale-while-revalidate': 10,
      'stale-if-error': 20,
      immutable: true,
    })
  })

  it.each([[-1], [1.5], [Number.NaN], ['60' as unknown as number]])('rejects maxAge %s', (maxAge) => {
    expect(() => cacheControl({ maxAge })).toThrow(/expected maxAge to be a non-negative integer/)
  })

  it('rejects public together with private', () => {
    expect(() => cacheControl({ public: true, private: true })).toThrow(TypeError)
  })
})

import { describe, expect, it } from 'vitest'
import { cacheControl, type CacheControlOptions } from '../src/semantics/cache-control-builder.js'
import { parseCacheControl, parseCacheControlField } from '../src/semantics/cache-control.js'

describe('parseCacheControl(value)', () => {
  const cases: Array<
    [rfc: string, input: string | string[] | undefined, expected: Record<string, unknown>]
  > = [
    ['RFC 9111 §5.2: absent field', undefined, {}],
    ['RFC 9111 §5.2: empty field', '', {}],
    ['RFC 9111 §5.2.2.1 max-age', 'max-age=60', { 'max-age': 60 }],
    [
      'RFC 9111 §5.2.2.10 s-maxage with public',
      'public, s-maxage=30',
      { public: true, 's-maxage': 30 },
    ],
    [
      'RFC 9111 §5.2: directive names are case-insensitive',
      'MAX-AGE=5, No-Store',
      { 'max-age': 5, 'no-store': true },
    ],
    ['RFC 9111 §5.2: quoted-string form accepted', 'max-age="60"', { 'max-age': 60 }],
    [
      'RFC 9111 §4.2.1: conflicting duplicate max-age makes the response stale',
      'max-age=5, max-age=10',
      { 'max-age': 0 },
    ],
    [
      'RFC 9111 §4.2.1: conflicting max-age on two field lines is stale too',
      ['max-age=1800', 'max-age=1'],
      { 'max-age': 0 },
    ],
    [
      'RFC 9111 §4.2.1: conflicting duplicate s-maxage is stale',
      's-maxage=60, max-age=5, s-maxage=1',
      { 's-maxage': 0, 'max-age': 5 },
    ],
    [
      'RFC 9111 §4.2.1: an invalid duplicate conflicts with a valid one',
      'max-age=60, max-age=abc',
      { 'max-age': 0 },
    ],
    [
      'RFC 9111 §4.2.1: agreeing duplicates keep their value',
      'max-age=60, MAX-AGE="60"',
      { 'max-age': 60 },
    ],
    [
      'RFC 9111 §4.2.1: the first occurrence of other directives is used',
      'stale-if-error=60, stale-if-error=10',
      { 'stale-if-error': 60 },
    ],
    [
      'RFC 9111 §4.2.1: an invalid first occurrence is still the first',
      'stale-if-error=x, stale-if-error=10',
      {},
    ],
    [
      'RFC 9111 §5.2: no whitespace before "=" (invalid, so stale)',
      'max-age =3600',
      { 'max-age': 0 },
    ],
    [
      'RFC 9111 §5.2: no whitespace after "=" (invalid, so stale)',
      'max-age= 3600',
      { 'max-age': 0 },
    ],
    ['RFC 9111 §5.2: an empty argument is invalid', 'max-age=', { 'max-age': 0 }],
    ['RFC 9111 §1.2.2: leading zeros are digits', 'max-age=003600', { 'max-age': 3600 }],
    ['RFC 9111 §4.2.1: single quotes are not quoting', "max-age='3600'", { 'max-age': 0 }],
    ['RFC 9111 §4.2.1: trailing letters are invalid', 'max-age=3600a', { 'max-age': 0 }],
    ['RFC 9111 §4.2.1: a decimal is invalid', 'max-age=3600.5', { 'max-age': 0 }],
    ['RFC 9110 §5.6.4: quoted-pairs are undone', 'max-age="6\\0"', { 'max-age': 60 }],
    ['RFC 9110 §5.6.4: an unterminated quoted-string is invalid', 'max-age="60', { 'max-age': 0 }],
    [
      'RFC 9110 §5.6.4: "max-age" inside a quoted-string is not a directive',
      'extension="max-age=3600", max-age=1',
      { 'max-age': 1 },
    ],
    [
      'RFC 9110 §5.6.4: the same, after the real max-age',
      'max-age=1, extension="max-age=3600"',
      { 'max-age': 1 },
    ],
    [
      'RFC 9110 §5.6.1.2: empty list members are ignored',
      ',, max-age=5 ,\t, public,',
      { 'max-age': 5, public: true },
    ],
    [
      'RFC 9110 §5.6.3: OWS may be tabs',
      'max-age=5\t,\tno-store',
      { 'max-age': 5, 'no-store': true },
    ],
    [
      'RFC 9111 §4.2.1 "most restrictive": a malformed no-store still applies',
      'no-store junk, max-age=5',
      { 'no-store': true, 'max-age': 5 },
    ],
    [
      'RFC 9111 §4.2.1 "most restrictive": a malformed private still applies',
      'private junk',
      { private: true },
    ],
    [
      'RFC 9111 §4.2.1 "most restrictive": a malformed public is dropped',
      'public junk, max-age=5',
      { 'max-age': 5 },
    ],
    [
      'RFC 9111 §4.2.1 "most restrictive": a malformed must-understand is dropped',
      'must-understand=, no-store',
      { 'no-store': true },
    ],
    [
      'RFC 9111 §5.2: an argument on a flag is ignored',
      'no-store="x", public=1',
      { 'no-store': true, public: true },
    ],
    ['RFC 9111 §5.2.1.2: an invalid max-stale is ignored', 'max-stale=soon', {}],
    [
      'RFC 5861: an invalid stale-while-revalidate is ignored',
      'max-age=1, stale-while-revalidate=-1',
      { 'max-age': 1 },
    ],
    ['RFC 9111 §5.2.1.3: an invalid min-fresh is ignored', 'min-fresh=1.5', {}],
    [
      'RFC 9111 §1.2.2: a huge stale-if-error is 2^31',
      'stale-if-error=123456789012345678901234567890',
      { 'stale-if-error': 2_147_483_648 },
    ],
    ['RFC 9111 §4.2.1: invalid max-age means stale', 'max-age=abc', { 'max-age': 0 }],
    ['RFC 9111 §4.2.1: negative max-age means stale', 'max-age=-1', { 'max-age': 0 }],
    ['RFC 9111 §4.2.1: invalid s-maxage means stale', 's-maxage=1e3', { 's-maxage': 0 }],
    [
      'RFC 9111 §1.2.2: delta-seconds overflow is 2^31',
      'max-age=99999999999',
      { 'max-age': 2_147_483_648 },
    ],
    ['RFC 9111 §5.2.1.2: max-stale without value', 'max-stale', { 'max-stale': Infinity }],
    ['RFC 9111 §5.2.1.2: max-stale with value', 'max-stale=30', { 'max-stale': 30 }],
    ['RFC 9111 §5.2.1.3: min-fresh', 'min-fresh=5', { 'min-fresh': 5 }],
    ['RFC 9111 §5.2.1.7: only-if-cached', 'only-if-cached', { 'only-if-cached': true }],
    ['RFC 9111 §5.2.1.4: request no-cache', 'no-cache', { 'no-cache': true }],
    [
      'RFC 9111 §5.2.2.4: qualified no-cache still sets the flag',
      'no-cache="set-cookie"',
      { 'no-cache': true },
    ],
    [
      'RFC 9111 §5.2.2.7: qualified private still sets the flag',
      'private="x-user", max-age=5',
      { private: true, 'max-age': 5 },
    ],
    [
      'RFC 9111 §5.2.2.7: a comma inside the qualified list does not split directives',
      'private="a, max-age=5"',
      { private: true },
    ],
    [
      'RFC 9111 §5.2.2.3: must-understand',
      'must-understand, no-store',
      { 'must-understand': true, 'no-store': true },
    ],
    [
      'RFC 5861: stale-while-revalidate and stale-if-error',
      'max-age=1, stale-while-revalidate=59, stale-if-error=600',
      { 'max-age': 1, 'stale-while-revalidate': 59, 'stale-if-error': 600 },
    ],
    [
      'RFC 9111 §5.2.2.2/§5.2.2.8 revalidate flags',
      'must-revalidate, proxy-revalidate',
      { 'must-revalidate': true, 'proxy-revalidate': true },
    ],
    ['RFC 8246 immutable', 'immutable', { immutable: true }],
    [
      'RFC 9110 §5.3: several field lines form one list',
      ['public', 'max-age=60'],
      { public: true, 'max-age': 60 },
    ],
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

  it('never reads an inherited name as a directive', () => {
    expect({ ...parseCacheControl('hasOwnProperty, __proto__, max-age=1') }).toEqual({
      'max-age': 1,
    })
  })
})

describe('parseCacheControlField(value) — qualified forms and extensions', () => {
  const cases: Array<
    [
      rfc: string,
      input: string | string[],
      noCache: string[] | undefined,
      priv: string[] | undefined,
    ]
  > = [
    [
      'RFC 9111 §5.2.2.4: quoted field list',
      'no-cache="Set-Cookie, X-User"',
      ['set-cookie', 'x-user'],
      undefined,
    ],
    [
      'RFC 9111 §5.2.2.4: token form accepted by recipients',
      'no-cache=set-cookie',
      ['set-cookie'],
      undefined,
    ],
    ['RFC 9111 §5.2.2.7: quoted field list', 'private="x-user", max-age=5', undefined, ['x-user']],
    ['RFC 9111 §5.2.2.4: unqualified', 'no-cache', undefined, undefined],
    ['RFC 9111 §5.2.2.4: an empty list counts as unqualified', 'no-cache=""', undefined, undefined],
    [
      'RFC 9111 §5.2.2.4: a list of non-tokens counts as unqualified',
      'no-cache="a b"',
      undefined,
      undefined,
    ],
    [
      'RFC 9111 §4.2.1 "most restrictive": qualified then unqualified is unqualified',
      'no-cache="a", no-cache',
      undefined,
      undefined,
    ],
    [
      'RFC 9111 §4.2.1 "most restrictive": unqualified then qualified is unqualified',
      ['private', 'private="a"'],
      undefined,
      undefined,
    ],
    [
      'RFC 9111 §5.2.2.7: two qualified lists are joined',
      'private="a", private="B, a"',
      undefined,
      ['a', 'b'],
    ],
  ]
  for (const [rfc, input, noCache, priv] of cases) {
    it(`${rfc}: ${JSON.stringify(input)}`, () => {
      const field = parseCacheControlField(input)
      expect(field.noCacheFields).toEqual(noCache)
      expect(field.privateFields).toEqual(priv)
    })
  }

  it('RFC 9111 §5.2.3: keeps unknown extension directives, first occurrence, names lower-cased', () => {
    const field = parseCacheControlField(
      'Foo=bar, community="UCI, Irvine", foo=baz, flag, max-age=5'
    )
    expect([...field.extensions]).toEqual([
      ['foo', 'bar'],
      ['community', 'UCI, Irvine'],
      ['flag', undefined],
    ])
    expect({ ...field.directives }).toEqual({ 'max-age': 5 })
  })

  it('absent and empty fields give empty results', () => {
    for (const value of [undefined, '', ' , ']) {
      const field = parseCacheControlField(value)
      expect({ ...field.directives }).toEqual({})
      expect(field.extensions.size).toBe(0)
    }
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
    [
      { maxAge: 1, staleWhileRevalidate: 59, staleIfError: 600 },
      'max-age=1, stale-while-revalidate=59, stale-if-error=600',
    ],
    [{ maxAge: 31536000, immutable: true }, 'max-age=31536000, immutable'],
    [{ noTransform: true, public: false }, 'no-transform'],
  ]
  for (const [options, expected] of cases) {
    it(`builds ${JSON.stringify(expected)}`, () => {
      expect(cacheControl(options)).toBe(expected)
    })
  }

  it('round-trips through parseCacheControl', () => {
    const value = cacheControl({
      public: true,
      maxAge: 60,
      sMaxage: 30,
      staleWhileRevalidate: 10,
      staleIfError: 20,
      immutable: true,
    })
    expect({ ...parseCacheControl(value) }).toEqual({
      public: true,
      'max-age': 60,
      's-maxage': 30,
      'stale-while-revalidate': 10,
      'stale-if-error': 20,
      immutable: true,
    })
  })

  it.each([[-1], [1.5], [Number.NaN], ['60' as unknown as number]])(
    'rejects maxAge %s',
    (maxAge) => {
      expect(() => cacheControl({ maxAge })).toThrow(/expected maxAge to be a non-negative integer/)
    }
  )

  it('rejects public together with private', () => {
    expect(() => cacheControl({ public: true, private: true })).toThrow(TypeError)
  })
})

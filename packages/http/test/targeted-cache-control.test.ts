import { describe, expect, it } from 'vitest'
import {
  parseTargetedCacheControl,
  selectCacheControl,
} from '../src/semantics/targeted-cache-control.js'
import type { HeaderPair } from '../src/types.js'

describe('parseTargetedCacheControl(value) — RFC 9213 §2.1', () => {
  const cases: Array<
    [
      rfc: string,
      input: string | string[] | undefined,
      expected: Record<string, unknown> | undefined,
    ]
  > = [
    ['§2.1 absent', undefined, undefined],
    ['§2.1 "If a targeted field … is empty … that field SHOULD be ignored"', '', undefined],
    ['§2.1 whitespace only is empty', '   ', undefined],
    ['§2.1 max-age as an Integer', 'max-age=3600', { 'max-age': 3600 }],
    [
      '§2.1 several directives',
      'max-age=60, stale-while-revalidate=30, stale-if-error=600',
      { 'max-age': 60, 'stale-while-revalidate': 30, 'stale-if-error': 600 },
    ],
    [
      '§2.1 flags as bare keys',
      'no-store, must-revalidate',
      { 'no-store': true, 'must-revalidate': true },
    ],
    [
      '§2.1 several field lines are one dictionary',
      ['max-age=60', 'public'],
      { 'max-age': 60, public: true },
    ],
    [
      '§2.1 "a parsing error is encountered": an invalid member ignores the whole field',
      'max-age=10000, &&&&&',
      undefined,
    ],
    ['§2.1 RFC 8941 keys are lower-case, so MaX-aGe fails the parse', 'MaX-aGe=3600', undefined],
    ['§2.1 whitespace around "=" fails the parse', 'max-age =100', undefined],
    ['§2.1 a trailing comma fails the parse', 'max-age=60,', undefined],
    ['§2.1 a sixteen-digit integer fails the parse', 'max-age=1234567890123456', undefined],
    [
      'RFC 9111 §1.2.2 a large Integer is capped at 2^31',
      'max-age=99999999999',
      { 'max-age': 2_147_483_648 },
    ],
    [
      '§2.1 + RFC 9111 §4.2.1 max-age as a String is invalid freshness: stale',
      'max-age="10000"',
      { 'max-age': 0 },
    ],
    ['§2.1 + RFC 9111 §4.2.1 a negative max-age is stale', 'max-age=-1', { 'max-age': 0 }],
    ['§2.1 + RFC 9111 §4.2.1 a Decimal s-maxage is stale', 's-maxage=1.5', { 's-maxage': 0 }],
    ['§2.1 a bare max-age (Boolean) is stale', 'max-age', { 'max-age': 0 }],
    [
      '§2.1 an invalid stale-if-error is ignored',
      'max-age=5, stale-if-error="60"',
      { 'max-age': 5 },
    ],
    [
      '§2.1 parameters are ignored',
      'max-age=60;foo=bar, private;x',
      { 'max-age': 60, private: true },
    ],
    ['§2.1 a restrictive flag with any value but ?0 applies', 'no-store=1', { 'no-store': true }],
    ['§2.1 a flag set to ?0 is off', 'no-store=?0, max-age=5', { 'max-age': 5 }],
    ['§2.1 a permissive flag needs ?1', 'public="yes", immutable=?0, max-age=5', { 'max-age': 5 }],
    ['§2.1 public as a bare key', 'public, max-age=5', { public: true, 'max-age': 5 }],
    [
      '§2.1 request-only directives mean nothing in a response field',
      'max-stale=10, only-if-cached, max-age=5',
      { 'max-age': 5 },
    ],
    [
      '§2.1 unknown directives leave the known ones alone',
      'foobar, max-age=3600',
      { 'max-age': 3600 },
    ],
    ['RFC 8941 §4.2.2 a later duplicate key overwrites', 'max-age=60, max-age=5', { 'max-age': 5 }],
  ]
  for (const [rfc, input, expected] of cases) {
    it(`${rfc}: ${JSON.stringify(input)}`, () => {
      const field = parseTargetedCacheControl(input)
      expect(field === undefined ? undefined : { ...field.directives }).toEqual(expected)
    })
  }

  it.each([
    ['private="set-cookie"', ['set-cookie']],
    ['private=("Set-Cookie" x-user)', ['set-cookie', 'x-user']],
    ['private', undefined],
    ['private=()', undefined],
    ['private="a b"', undefined],
    ['private=(a:b)', undefined],
  ])('RFC 9213 §2.1 + RFC 9111 §5.2.2.7: qualified private %s → %j', (value, fields) => {
    const field = parseTargetedCacheControl(value)
    expect(field?.directives.private).toBe(true)
    expect(field?.privateFields).toEqual(fields)
  })

  it('RFC 9111 §5.2.2.4: qualified no-cache in a targeted field', () => {
    expect(parseTargetedCacheControl('no-cache="set-cookie"')?.noCacheFields).toEqual([
      'set-cookie',
    ])
  })

  it('keeps unknown directives in extensions', () => {
    expect([...(parseTargetedCacheControl('foo, bar="x", baz=5')?.extensions ?? [])]).toEqual([
      ['foo', undefined],
      ['bar', 'x'],
      ['baz', '5'],
    ])
  })
})

describe('selectCacheControl(pairs, targets) — RFC 9213 §2.2', () => {
  const EXPIRES = 'Thu, 01 Jan 2099 00:00:00 GMT'
  const cases: Array<
    [
      rfc: string,
      pairs: HeaderPair[],
      targets: string | string[] | undefined,
      expected: {
        directives: Record<string, unknown>
        targetedField: string | undefined
        expires: string | undefined
        explicitFreshness: boolean
      },
    ]
  > = [
    [
      '§2.2 a valid targeted field replaces Cache-Control and Expires',
      [
        ['cache-control', 'max-age=1'],
        ['cdn-cache-control', 'max-age=3600'],
        ['expires', EXPIRES],
      ],
      'cdn-cache-control',
      {
        directives: { 'max-age': 3600 },
        targetedField: 'cdn-cache-control',
        expires: undefined,
        explicitFreshness: true,
      },
    ],
    [
      '§2.2 CDN-Cache-Control: no-store wins over a fresh Cache-Control',
      [
        ['cache-control', 'max-age=10000'],
        ['cdn-cache-control', 'no-store'],
        ['expires', EXPIRES],
      ],
      'cdn-cache-control',
      {
        directives: { 'no-store': true },
        targetedField: 'cdn-cache-control',
        expires: undefined,
        explicitFreshness: false,
      },
    ],
    [
      '§2.1 an invalid targeted field is ignored: Cache-Control governs',
      [
        ['cdn-cache-control', 'max-age=10000, &&&&&'],
        ['cache-control', 'no-store'],
      ],
      'cdn-cache-control',
      {
        directives: { 'no-store': true },
        targetedField: undefined,
        expires: undefined,
        explicitFreshness: false,
      },
    ],
    [
      '§2.1 an empty targeted field is ignored, Expires counts again',
      [
        ['cdn-cache-control', ''],
        ['cache-control', 'public'],
        ['expires', EXPIRES],
      ],
      'cdn-cache-control',
      {
        directives: { public: true },
        targetedField: undefined,
        expires: EXPIRES,
        explicitFreshness: true,
      },
    ],
    [
      '§2.2 a valid field of unknown directives still governs ("valid, non-empty")',
      [
        ['cdn-cache-control', 'foo'],
        ['cache-control', 'max-age=10000'],
      ],
      'cdn-cache-control',
      {
        directives: {},
        targetedField: 'cdn-cache-control',
        expires: undefined,
        explicitFreshness: false,
      },
    ],
    [
      '§2.2 the first valid field in target-list order wins',
      [
        ['cdn-cache-control', 'max-age=60'],
        ['acme-cache-control', 'max-age=5'],
        ['cache-control', 'max-age=1'],
      ],
      ['acme-cache-control', 'cdn-cache-control'],
      {
        directives: { 'max-age': 5 },
        targetedField: 'acme-cache-control',
        expires: undefined,
        explicitFreshness: true,
      },
    ],
    [
      '§2.2 an invalid first target falls through to the next',
      [
        ['cdn-cache-control', 'max-age=60'],
        ['acme-cache-control', 'max-age=&'],
        ['cache-control', 'max-age=1'],
      ],
      ['acme-cache-control', 'cdn-cache-control'],
      {
        directives: { 'max-age': 60 },
        targetedField: 'cdn-cache-control',
        expires: undefined,
        explicitFreshness: true,
      },
    ],
    [
      '§2.2 a field not on the target list changes nothing',
      [
        ['cdn-cache-control', 'no-store'],
        ['cache-control', 'max-age=60'],
      ],
      undefined,
      {
        directives: { 'max-age': 60 },
        targetedField: undefined,
        expires: undefined,
        explicitFreshness: true,
      },
    ],
    [
      'RFC 9111 §3 an Expires line is explicit freshness when Cache-Control governs',
      [['expires', '0']],
      'cdn-cache-control',
      { directives: {}, targetedField: undefined, expires: '0', explicitFreshness: true },
    ],
  ]
  for (const [rfc, pairs, targets, expected] of cases) {
    it(rfc, () => {
      const selected = selectCacheControl(pairs, targets)
      expect({
        directives: { ...selected.directives },
        targetedField: selected.targetedField,
        expires: selected.expires,
        explicitFreshness: selected.explicitFreshness,
      }).toEqual(expected)
    })
  }
})

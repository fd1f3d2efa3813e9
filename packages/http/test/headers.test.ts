import { describe, expect, it } from 'vitest'
import { generateEtag } from '../src/semantics/etag.js'
import {
  headerValue,
  notModifiedHeaders,
  requestHeader,
  toHeaderPairs,
  withoutHopByHop,
} from '../src/semantics/headers.js'
import type { HeaderPair } from '../src/types.js'

describe('withoutHopByHop(pairs) — RFC 9110 §7.6.1, RFC 9111 §3.1', () => {
  const cases: Array<[string, HeaderPair[], HeaderPair[]]> = [
    [
      'keeps end-to-end fields in order',
      [
        ['etag', '"a"'],
        ['content-type', 'text/plain'],
      ],
      [
        ['etag', '"a"'],
        ['content-type', 'text/plain'],
      ],
    ],
    [
      'drops the standard hop-by-hop fields',
      [
        ['connection', 'close'],
        ['keep-alive', 'timeout=5'],
        ['transfer-encoding', 'chunked'],
        ['te', 'trailers'],
        ['trailer', 'x'],
        ['upgrade', 'h2c'],
        ['proxy-connection', 'keep-alive'],
        ['proxy-authenticate', 'Basic'],
        ['etag', '"a"'],
      ],
      [['etag', '"a"']],
    ],
    [
      'drops fields named in Connection',
      [
        ['connection', 'X-Trace, x-debug'],
        ['x-trace', '1'],
        ['x-debug', '2'],
        ['x-keep', '3'],
      ],
      [['x-keep', '3']],
    ],
  ]
  for (const [name, input, expected] of cases) {
    it(name, () => expect(withoutHopByHop(input)).toEqual(expected))
  }

  it('drops extra names the caller never stores', () => {
    expect(
      withoutHopByHop(
        [
          ['set-cookie', 'a=1'],
          ['etag', '"a"'],
        ],
        new Set(['set-cookie'])
      )
    ).toEqual([['etag', '"a"']])
  })
})

describe('notModifiedHeaders(pairs) — RFC 9110 §15.4.5', () => {
  const full: HeaderPair[] = [
    ['content-type', 'text/html'],
    ['content-length', '10'],
    ['cache-control', 'max-age=60'],
    ['content-location', '/a'],
    ['date', 'Wed, 01 Jan 2025 00:00:00 GMT'],
    ['etag', '"a"'],
    ['expires', 'Wed, 01 Jan 2025 00:01:00 GMT'],
    ['vary', 'accept'],
    ['last-modified', 'Tue, 31 Dec 2024 00:00:00 GMT'],
    ['x-custom', '1'],
  ]
  it('keeps Cache-Control, Content-Location, Date, ETag, Expires and Vary; drops representation metadata', () => {
    expect(notModifiedHeaders(full).map(([name]) => name)).toEqual([
      'cache-control',
      'content-location',
      'date',
      'etag',
      'expires',
      'vary',
    ])
  })
  it('keeps Last-Modified when there is no ETag', () => {
    expect(
      notModifiedHeaders(full.filter(([name]) => name !== 'etag')).map(([name]) => name)
    ).toContain('last-modified')
  })
})

describe('toHeaderPairs / headerValue / requestHeader', () => {
  it('turns a record into lower-case pairs, one per array item, numbers as strings', () => {
    expect(
      toHeaderPairs({ 'Content-Length': 5, link: ['<a>', '<b>'], skipped: undefined })
    ).toEqual([
      ['content-length', '5'],
      ['link', '<a>'],
      ['link', '<b>'],
    ])
  })
  it('lower-cases pair names', () =>
    expect(toHeaderPairs([['ETag', '"a"']])).toEqual([['etag', '"a"']]))
  it('joins repeated fields as a list (RFC 9110 §5.3)', () => {
    expect(
      headerValue(
        [
          ['vary', 'a'],
          ['x', '1'],
          ['vary', 'b'],
        ],
        'vary'
      )
    ).toBe('a, b')
    expect(headerValue([], 'vary')).toBeUndefined()
  })
  it('joins array request fields', () => expect(requestHeader({ a: ['1', '2'] }, 'a')).toBe('1, 2'))
})

describe('generateEtag(body, mode)', () => {
  it('is strong by default and weak on request, from the etag package', () => {
    expect(generateEtag(Buffer.from('hi'), 'strong')).toBe('"2-witfkXg0JglCjW9RssWvTAveakI"')
    expect(generateEtag(Buffer.from('hi'), 'weak')).toBe('W/"2-witfkXg0JglCjW9RssWvTAveakI"')
  })
})

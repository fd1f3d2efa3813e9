import { describe, expect, it } from 'vitest'
import { etagListMatches, isNotModified, type Validators } from '../src/semantics/conditional.js'

const LM = 'Wed, 01 Jan 2025 00:00:00 GMT'
const stored: Validators = { status: 200, etag: '"abc"', lastModified: LM }

describe('isNotModified(headers, validators) — RFC 9110 §13.1, §13.2', () => {
  const cases: Array<
    [rfc: string, headers: Record<string, string>, validators: Validators, expected: boolean]
  > = [
    ['no conditional: full response', {}, stored, false],
    [
      '§13.1.2 If-None-Match with the stored strong ETag',
      { 'if-none-match': '"abc"' },
      stored,
      true,
    ],
    ['§13.1.2 weak comparison: W/ in the request', { 'if-none-match': 'W/"abc"' }, stored, true],
    [
      '§13.1.2 weak comparison: W/ on the stored tag',
      { 'if-none-match': '"abc"' },
      { ...stored, etag: 'W/"abc"' },
      true,
    ],
    [
      '§13.1.2 a list with the tag anywhere',
      { 'if-none-match': ' "x", W/"abc" ,"y"' },
      stored,
      true,
    ],
    ['§13.1.2 a list without the tag', { 'if-none-match': '"x", "y"' }, stored, false],
    ['§13.1.2 * matches any current representation', { 'if-none-match': '*' }, stored, true],
    [
      '§13.1.2 no stored ETag never matches a list',
      { 'if-none-match': '"abc"' },
      { status: 200 },
      false,
    ],
    ['§13.1.3 If-Modified-Since at Last-Modified', { 'if-modified-since': LM }, stored, true],
    [
      '§13.1.3 If-Modified-Since after Last-Modified',
      { 'if-modified-since': 'Thu, 02 Jan 2025 00:00:00 GMT' },
      stored,
      true,
    ],
    [
      '§13.1.3 If-Modified-Since before Last-Modified',
      { 'if-modified-since': 'Tue, 31 Dec 2024 00:00:00 GMT' },
      stored,
      false,
    ],
    [
      '§13.1.3 If-Modified-Since without a stored Last-Modified',
      { 'if-modified-since': LM },
      { status: 200, etag: '"abc"' },
      false,
    ],
    [
      '§13.1.3 If-Modified-Since ignored when If-None-Match is present',
      { 'if-none-match': '"x"', 'if-modified-since': LM },
      stored,
      false,
    ],
    [
      '§13.2.1 conditions ignored for a non-2xx response',
      { 'if-none-match': '"abc"' },
      { ...stored, status: 404 },
      false,
    ],
    [
      '§13.2.1 conditions ignored for 206',
      { 'if-none-match': '"abc"' },
      { ...stored, status: 206 },
      false,
    ],
    [
      'the request Cache-Control does not change the answer (the engine decides freshness)',
      { 'if-modified-since': LM, 'cache-control': 'no-cache' },
      stored,
      true,
    ],
    [
      '§13.1.3 "MUST ignore If-Modified-Since if … not a valid HTTP-date": an ISO date',
      { 'if-modified-since': '2025-01-02T00:00:00Z' },
      stored,
      false,
    ],
    ['§13.1.3 … a bare number', { 'if-modified-since': '1735776000' }, stored, false],
    [
      '§13.1.3 "… the field value has more than one member"',
      { 'if-modified-since': `${LM}, ${LM}` },
      stored,
      false,
    ],
    [
      "§13.1.3 an asctime-date is GMT, whatever the server's time zone",
      { 'if-modified-since': 'Wed Jan  1 00:00:00 2025' },
      stored,
      true,
    ],
    [
      '§13.1.3 an asctime-date one second early',
      { 'if-modified-since': 'Tue Dec 31 23:59:59 2024' },
      stored,
      false,
    ],
    [
      'RFC 9111 §4.2 dates matched case-insensitively',
      { 'if-modified-since': LM.toUpperCase() },
      stored,
      true,
    ],
    [
      '§13.1.3 an invalid stored Last-Modified never answers 304',
      { 'if-modified-since': LM },
      { ...stored, etag: undefined, lastModified: 'yesterday' },
      false,
    ],
  ]
  for (const [rfc, headers, validators, expected] of cases) {
    it(rfc, () => expect(isNotModified(headers, validators)).toBe(expected))
  }

  it('RFC 9110 §5.6.7: an rfc850-date needs `now` to find its century; without it the full response is sent', () => {
    const headers = { 'if-modified-since': 'Thursday, 02-Jan-25 00:00:00 GMT' }
    expect(isNotModified(headers, stored, Date.UTC(2025, 5, 1))).toBe(true)
    expect(isNotModified(headers, stored)).toBe(false)
  })
})

describe('etagListMatches(list, etag) — RFC 9110 §8.8.3.2 weak comparison', () => {
  it.each([
    ['"a"', '"a"', true],
    ['W/"a"', 'W/"a"', true],
    ['"a"', '"b"', false],
    ['"a"', 'not-an-etag', false],
    ['garbage', '"a"', false],
  ])('%s vs %s → %s', (list, etag, expected) => expect(etagListMatches(list, etag)).toBe(expected))
})

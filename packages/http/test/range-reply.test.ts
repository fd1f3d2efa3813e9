import { describe, expect, it } from 'vitest'
import { ifRangeMatches, type RangeValidators } from '../src/semantics/if-range.js'
import { partialContent, rangeNotSatisfiable } from '../src/semantics/range-reply.js'
import type { HeaderPair } from '../src/types.js'

const NOW = Date.UTC(2025, 0, 1)
const LM = 'Mon, 01 Jan 2024 00:00:00 GMT'

describe('ifRangeMatches(value, validators) — RFC 9110 §13.1.5', () => {
  const strong: RangeValidators = {
    etag: '"v1"',
    lastModified: LM,
    date: 'Mon, 01 Jan 2024 00:00:01 GMT',
  }
  const cases: Array<[rfc: string, value: string, validators: RangeValidators, expected: boolean]> =
    [
      ['§8.8.3.2 strong comparison: equal strong tags', '"v1"', strong, true],
      ['§13.1.5 surrounding whitespace is not part of the value', '  "v1" ', strong, true],
      ['§8.8.3.2 strong comparison: different tags', '"v2"', strong, false],
      ['§8.8.3.2 strong comparison: a weak requested tag never matches', 'W/"v1"', strong, false],
      [
        '§8.8.3.2 strong comparison: a weak stored tag never matches',
        '"v1"',
        { ...strong, etag: 'W/"v1"' },
        false,
      ],
      [
        '§8.8.3.2 strong comparison: both weak never match',
        'W/"v1"',
        { ...strong, etag: 'W/"v1"' },
        false,
      ],
      [
        '§13.1.5 an entity-tag with no stored ETag is false',
        '"v1"',
        { lastModified: LM, date: strong.date },
        false,
      ],
      ['§8.8.3 a malformed entity-tag is false', '"v1', strong, false],
      ['§8.8.3 a list is not an If-Range value', '"v1", "v2"', strong, false],
      ['§8.8.3 the opaque tag is case-sensitive', '"V1"', strong, false],
      ['§13.1.5 a date equal to a strong Last-Modified', LM, strong, true],
      ['§13.1.5 + RFC 9111 §4.2 the date read case-insensitively', LM.toUpperCase(), strong, true],
      [
        '§13.1.5 an obsolete-format date equal to Last-Modified',
        'Monday, 01-Jan-24 00:00:00 GMT',
        strong,
        true,
      ],
      ['§13.1.5 an earlier date', 'Sun, 31 Dec 2023 23:59:59 GMT', strong, false],
      ['§13.1.5 a later date', 'Mon, 01 Jan 2024 00:00:01 GMT', strong, false],
      [
        '§8.8.2.2 Date less than a second after Last-Modified: weak, so false',
        LM,
        { ...strong, date: LM },
        false,
      ],
      [
        '§8.8.2.2 no Date: Last-Modified cannot be shown strong',
        LM,
        { etag: '"v1"', lastModified: LM },
        false,
      ],
      ['§8.8.2.2 an invalid Date: cannot be shown strong', LM, { ...strong, date: 'soon' }, false],
      [
        '§13.1.5 a date with no stored Last-Modified',
        LM,
        { etag: '"v1"', date: strong.date },
        false,
      ],
      ['§13.1.5 an invalid date is false', 'yesterday', strong, false],
      ['§13.1.5 an empty value is false', '', strong, false],
    ]
  for (const [rfc, value, validators, expected] of cases) {
    it(`${rfc}: ${JSON.stringify(value)}`, () =>
      expect(ifRangeMatches(value, validators, NOW)).toBe(expected))
  }
})

describe('partialContent(headers, body, ranges, boundary) — RFC 9110 §15.3.7, §14.6', () => {
  const body = Buffer.from('0123456789abcdefghij')
  const headers: HeaderPair[] = [
    ['content-type', 'text/plain; charset=utf-8'],
    ['etag', '"v1"'],
    ['cache-control', 'max-age=60'],
    ['content-length', '20'],
    ['vary', 'accept-encoding'],
  ]

  it("§15.3.7.1 one range: Content-Range and the part's Content-Length, the other fields kept, a view of the body", () => {
    const reply = partialContent(headers, body, [{ start: 2, end: 5 }], 'unused')
    expect(reply.status).toBe(206)
    expect(reply.headers).toEqual([
      ['content-type', 'text/plain; charset=utf-8'],
      ['etag', '"v1"'],
      ['cache-control', 'max-age=60'],
      ['vary', 'accept-encoding'],
      ['content-range', 'bytes 2-5/20'],
      ['content-length', '4'],
    ])
    expect(reply.body.toString()).toBe('2345')
    expect(reply.body.buffer).toBe(body.buffer)
  })

  it('§14.4 the whole representation as one range', () => {
    const reply = partialContent(headers, body, [{ start: 0, end: 19 }], 'unused')
    expect(reply.headers).toContainEqual(['content-range', 'bytes 0-19/20'])
    expect(reply.body.toString()).toBe('0123456789abcdefghij')
  })

  it('§14.6 several ranges: multipart/byteranges, one part per range, in the given order, exact bytes', () => {
    const reply = partialContent(
      headers,
      body,
      [
        { start: 15, end: 19 },
        { start: 0, end: 1 },
      ],
      'BOUNDARY_1'
    )
    expect(reply.status).toBe(206)
    const expected =
      '--BOUNDARY_1\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      'Content-Range: bytes 15-19/20\r\n' +
      '\r\n' +
      'fghij\r\n' +
      '--BOUNDARY_1\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      'Content-Range: bytes 0-1/20\r\n' +
      '\r\n' +
      '01\r\n' +
      '--BOUNDARY_1--\r\n'
    expect(reply.body.toString('latin1')).toBe(expected)
    expect(reply.headers).toEqual([
      ['etag', '"v1"'],
      ['cache-control', 'max-age=60'],
      ['vary', 'accept-encoding'],
      ['content-type', 'multipart/byteranges; boundary=BOUNDARY_1'],
      ['content-length', String(Buffer.byteLength(expected))],
    ])
  })

  it('§14.6 parts carry no Content-Type when the representation has none', () => {
    const reply = partialContent(
      [['etag', '"v1"']],
      body,
      [
        { start: 0, end: 0 },
        { start: 19, end: 19 },
      ],
      'b'
    )
    expect(reply.body.toString('latin1')).toBe(
      '--b\r\nContent-Range: bytes 0-0/20\r\n\r\n0\r\n--b\r\nContent-Range: bytes 19-19/20\r\n\r\nj\r\n--b--\r\n'
    )
  })

  it('§14.6 binary bodies pass through byte for byte', () => {
    const bytes = Buffer.from([0, 255, 13, 10, 45, 45, 128])
    const reply = partialContent(
      [],
      bytes,
      [
        { start: 0, end: 1 },
        { start: 5, end: 6 },
      ],
      'x'
    )
    const text = reply.body.toString('latin1')
    expect(text).toBe(
      '--x\r\nContent-Range: bytes 0-1/7\r\n\r\n\u0000\u00ff\r\n--x\r\nContent-Range: bytes 5-6/7\r\n\r\n-\u0080\r\n--x--\r\n'
    )
  })

  it.each([[''], ['has space'], ['"quoted"'], ['x'.repeat(71)], ['semi;colon']])(
    'RFC 2046 §5.1.1: refuses boundary %j as a bug in the caller',
    (boundary) => {
      expect(() =>
        partialContent(
          headers,
          body,
          [
            { start: 0, end: 0 },
            { start: 5, end: 5 },
          ],
          boundary
        )
      ).toThrow(TypeError)
    }
  )
})

describe('rangeNotSatisfiable(length) — RFC 9110 §15.5.17', () => {
  it('says the current length in Content-Range and sends nothing else of the stored response', () => {
    const reply = rangeNotSatisfiable(20)
    expect(reply.status).toBe(416)
    expect(reply.headers).toEqual([
      ['content-range', 'bytes */20'],
      ['content-length', '0'],
    ])
    expect(reply.body.length).toBe(0)
  })
})

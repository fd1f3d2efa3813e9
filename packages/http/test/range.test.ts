import { describe, expect, it } from 'vitest'
import {
  evaluateRange,
  rangeRequest,
  type RangeDecision,
  type RangeRequestInput,
} from '../src/semantics/range.js'

const partial = (...pairs: Array<[number, number]>): RangeDecision => ({
  kind: 'partial',
  ranges: pairs.map(([start, end]) => ({ start, end })),
})
const full = (reason: string): RangeDecision => ({ kind: 'full', reason }) as RangeDecision
const UNSATISFIABLE: RangeDecision = { kind: 'unsatisfiable' }

describe('evaluateRange(value, length) — RFC 9110 §14.1–14.2, length 10000', () => {
  const cases: Array<[rfc: string, value: string | undefined, expected: RangeDecision]> = [
    // §14.1.2 byte ranges
    ['no Range field', undefined, full('absent')],
    ['§14.1.2 first 500 bytes', 'bytes=0-499', partial([0, 499])],
    ['§14.1.2 second 500 bytes', 'bytes=500-999', partial([500, 999])],
    ['§14.1.2 a single byte', 'bytes=0-0', partial([0, 0])],
    ['§14.1.2 the last byte', 'bytes=9999-9999', partial([9999, 9999])],
    ['§14.1.2 open-ended: from 9500 to the end', 'bytes=9500-', partial([9500, 9999])],
    ['§14.1.2 suffix: the last 500 bytes', 'bytes=-500', partial([9500, 9999])],
    [
      '§14.1.2 a suffix longer than the representation is all of it',
      'bytes=-20000',
      partial([0, 9999]),
    ],
    ['§14.1.2 a last-pos past the end is clipped', 'bytes=9000-20000', partial([9000, 9999])],
    ['§14.1.2 first and last byte only', 'bytes=0-0,-1', partial([0, 0], [9999, 9999])],
    [
      '§14.1.2 several ranges keep the order asked for',
      'bytes=5000-5099, 0-99',
      partial([5000, 5099], [0, 99]),
    ],
    ['§14.1 the unit is case-insensitive', 'Bytes=0-9', partial([0, 9])],
    ['RFC 9110 §5.6.1.2 empty list members are skipped', 'bytes=, 0-9 ,,', partial([0, 9])],
    ['RFC 9110 §5.6.1 OWS around members', 'bytes=0-9 ,\t2000-2009', partial([0, 9], [2000, 2009])],
    ['§14.1.2 leading zeros are digits', 'bytes=007-009', partial([7, 9])],
    // §14.2 coalescing and order
    ['§14.2 overlapping ranges are coalesced', 'bytes=0-499, 200-999', partial([0, 999])],
    ['§14.2 adjacent ranges are coalesced', 'bytes=0-99, 100-199', partial([0, 199])],
    ['§14.2 ranges within the gap are coalesced', 'bytes=0-99, 150-199', partial([0, 199])],
    [
      '§14.2 coalesced parts come in ascending order',
      'bytes=5000-5099, 100-199, 0-99',
      partial([0, 199], [5000, 5099]),
    ],
    ['§14.2 a range inside another disappears', 'bytes=0-999, 10-19', partial([0, 999])],
    [
      '§14.2 "more than two overlapping ranges" cannot amplify',
      'bytes=0-,0-,0-',
      partial([0, 9999]),
    ],
    // §14.1.1 satisfiability: unsatisfiable specs drop, none left → 416
    ['§14.1.1 first-pos at the length is unsatisfiable', 'bytes=10000-', UNSATISFIABLE],
    ['§14.1.1 first-pos past the length is unsatisfiable', 'bytes=20000-30000', UNSATISFIABLE],
    ['§14.1.1 a zero suffix is unsatisfiable', 'bytes=-0', UNSATISFIABLE],
    ['§14.1.1 one satisfiable spec is enough', 'bytes=20000-, 0-9', partial([0, 9])],
    [
      '§14.1.1 huge numbers are unsatisfiable, not errors',
      'bytes=99999999999999999999999-',
      UNSATISFIABLE,
    ],
    // §14.2: invalid specifiers are ignored: the whole representation is sent
    ['§14.1.1 last-pos before first-pos is invalid', 'bytes=500-499', full('invalid')],
    [
      '§14.1.1 an invalid spec makes the whole specifier invalid',
      'bytes=0-9, 5-1',
      full('invalid'),
    ],
    ['§14.1.1 a lone dash is invalid', 'bytes=-', full('invalid')],
    ['§14.1.1 letters are invalid', 'bytes=a-b', full('invalid')],
    ['§14.1.1 a negative first-pos is invalid', 'bytes=--5', full('invalid')],
    ['§14.1.1 whitespace inside a spec is invalid', 'bytes=0 - 9', full('invalid')],
    ['§14.1.1 a decimal is invalid', 'bytes=0.5-9', full('invalid')],
    ['§14.1.1 no range-set is invalid', 'bytes=', full('invalid')],
    ['§14.1.1 only empty members is invalid', 'bytes=,,', full('invalid')],
    ['§14.1.1 no "=" is invalid', 'bytes 0-9', full('invalid')],
    ['§14.1.1 a unit that is not a token is invalid', 'by tes=0-9', full('invalid')],
    [
      '§14.2 "MUST ignore a Range header field that contains a range unit it does not understand"',
      'items=0-9',
      full('unit'),
    ],
    ['§14.2 the legacy "none" unit is not understood', 'none=0-9', full('unit')],
  ]
  for (const [rfc, value, expected] of cases) {
    it(`${rfc}: ${JSON.stringify(value)}`, () =>
      expect(evaluateRange(value, 10_000)).toEqual(expected))
  }

  it('§14.2 / §17.15: more range-specs than maxRanges are ignored (answered in full)', () => {
    const many = `bytes=${Array.from({ length: 65 }, (_, i) => `${i * 100}-${i * 100 + 9}`).join(',')}`
    expect(evaluateRange(many, 10_000)).toEqual(full('too-many'))
    const allowed = `bytes=${Array.from({ length: 64 }, (_, i) => `${i * 100}-${i * 100 + 9}`).join(',')}`
    const decision = evaluateRange(allowed, 10_000)
    expect(decision.kind === 'partial' && decision.ranges.length).toBe(64)
    expect(evaluateRange('bytes=0-1,10-11,20-21', 10_000, { maxRanges: 2 })).toEqual(
      full('too-many')
    )
  })

  it('§14.2: the coalescing gap is configurable', () => {
    expect(evaluateRange('bytes=0-99, 150-199', 10_000, { coalesceGap: 0 })).toEqual(
      partial([0, 99], [150, 199])
    )
    expect(evaluateRange('bytes=0-99, 100-199', 10_000, { coalesceGap: 0 })).toEqual(
      partial([0, 199])
    )
    expect(evaluateRange('bytes=0-99, 1000-1099', 10_000, { coalesceGap: 1000 })).toEqual(
      partial([0, 1099])
    )
  })

  it('an empty representation has no byte ranges: answered in full', () => {
    expect(evaluateRange('bytes=0-0', 0)).toEqual(full('empty'))
    expect(evaluateRange('bytes=-5', 0)).toEqual(full('empty'))
  })

  it('a one-byte representation', () => {
    expect(evaluateRange('bytes=0-', 1)).toEqual(partial([0, 0]))
    expect(evaluateRange('bytes=-1', 1)).toEqual(partial([0, 0]))
    expect(evaluateRange('bytes=1-', 1)).toEqual(UNSATISFIABLE)
  })

  it('returns disjoint ranges inside the representation for any input (property check)', () => {
    let seed = 7
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    for (let run = 0; run < 2000; run++) {
      const length = 1 + random(500)
      const specs = Array.from({ length: 1 + random(6) }, () =>
        random(4) === 0
          ? `-${random(600)}`
          : `${random(600)}-${random(3) === 0 ? '' : random(600) + 600}`
      )
      const decision = evaluateRange(`bytes=${specs.join(',')}`, length)
      if (decision.kind !== 'partial') continue
      const sorted = [...decision.ranges].sort((a, b) => a.start - b.start)
      sorted.forEach((range, i) => {
        expect(range.start).toBeGreaterThanOrEqual(0)
        expect(range.end).toBeLessThan(length)
        expect(range.start).toBeLessThanOrEqual(range.end)
        if (i > 0) expect(range.start).toBeGreaterThan((sorted[i - 1] as { end: number }).end + 1)
      })
    }
  })
})

describe('rangeRequest(input) — RFC 9110 §13.2.2 step 5, §14.2', () => {
  const LM = 'Mon, 01 Jan 2024 00:00:00 GMT'
  const DATE = 'Mon, 01 Jan 2024 00:00:10 GMT'
  const base: RangeRequestInput = {
    method: 'GET',
    headers: { range: 'bytes=0-9' },
    status: 200,
    responseHeaders: [
      ['etag', '"v1"'],
      ['last-modified', LM],
      ['date', DATE],
      ['content-type', 'text/plain'],
    ],
    length: 10_000,
    now: Date.UTC(2025, 0, 1),
  }
  const with_ = (overrides: Partial<RangeRequestInput>): RangeRequestInput => ({
    ...base,
    ...overrides,
  })
  const cases: Array<[rfc: string, RangeRequestInput, expected: RangeDecision]> = [
    ['§14.2 a GET for a stored 200 gets its range', base, partial([0, 9])],
    ['§14.2 no Range: the whole representation', with_({ headers: {} }), full('absent')],
    [
      '§14.2 "GET is the only method for which range handling is defined": HEAD',
      with_({ method: 'HEAD' }),
      full('method'),
    ],
    [
      '§14.2 a stored 404 is not a representation to take ranges of',
      with_({ status: 404 }),
      full('status'),
    ],
    ['§14.2 nor is a stored 204', with_({ status: 204 }), full('status')],
    [
      '§13.1.5 If-Range with the stored strong ETag',
      with_({ headers: { range: 'bytes=0-9', 'if-range': '"v1"' } }),
      partial([0, 9]),
    ],
    [
      '§13.1.5 If-Range with another ETag: in full',
      with_({ headers: { range: 'bytes=0-9', 'if-range': '"v2"' } }),
      full('if-range'),
    ],
    [
      '§13.1.5 If-Range with a weak ETag never matches',
      with_({ headers: { range: 'bytes=0-9', 'if-range': 'W/"v1"' } }),
      full('if-range'),
    ],
    [
      '§13.1.5 If-Range with the strong Last-Modified date',
      with_({ headers: { range: 'bytes=0-9', 'if-range': LM } }),
      partial([0, 9]),
    ],
    [
      '§13.1.5 If-Range with an older date: in full',
      with_({ headers: { range: 'bytes=0-9', 'if-range': 'Sun, 31 Dec 2023 00:00:00 GMT' } }),
      full('if-range'),
    ],
    [
      '§13.1.5 If-Range is evaluated before the ranges (unsatisfiable but not matching → 200)',
      with_({ headers: { range: 'bytes=50000-', 'if-range': '"v2"' } }),
      full('if-range'),
    ],
    [
      '§14.1.1 unsatisfiable with a matching If-Range → 416',
      with_({ headers: { range: 'bytes=50000-', 'if-range': '"v1"' } }),
      UNSATISFIABLE,
    ],
    [
      '§14.2 several ranges of a content-coded body: in full',
      with_({
        headers: { range: 'bytes=0-9,5000-5009' },
        responseHeaders: [['content-encoding', 'gzip']],
      }),
      full('encoded-multipart'),
    ],
    [
      '§14.2 one range of a content-coded body is a range of the coded bytes',
      with_({ responseHeaders: [['content-encoding', 'gzip']] }),
      partial([0, 9]),
    ],
    [
      'RFC 9110 §5.3 a Range given as two field lines reads as one list, as Node joins it',
      with_({ headers: { range: ['bytes=0-9', '5000-5009'] } }),
      partial([0, 9], [5000, 5009]),
    ],
  ]
  for (const [rfc, input, expected] of cases) {
    it(rfc, () => expect(rangeRequest(input)).toEqual(expected))
  }
})

import { describe, expect, it } from 'vitest'
import { formatHttpDate, parseHttpDate } from '../src/semantics/http-date.js'

const NOW = Date.UTC(2025, 0, 1)
const EXPECTED = Date.UTC(1994, 10, 6, 8, 49, 37)

describe('parseHttpDate(value, now) — RFC 9110 §5.6.7', () => {
  const valid: Array<[string, string, number]> = [
    ['IMF-fixdate', 'Sun, 06 Nov 1994 08:49:37 GMT', EXPECTED],
    ['obsolete rfc850-date', 'Sunday, 06-Nov-94 08:49:37 GMT', EXPECTED],
    ['obsolete asctime-date', 'Sun Nov  6 08:49:37 1994', EXPECTED],
    [
      'rfc850 two-digit year more than 50 years ahead is last century',
      'Friday, 01-Jan-76 00:00:00 GMT',
      Date.UTC(1976, 0, 1),
    ],
    [
      'rfc850 two-digit year within 50 years is this century',
      'Saturday, 01-Jan-50 00:00:00 GMT',
      Date.UTC(2050, 0, 1),
    ],
    ['surrounding whitespace', '  Sun, 06 Nov 1994 08:49:37 GMT ', EXPECTED],
    // RFC 9111 §4.2: "a cache recipient SHOULD match the field value case-insensitively".
    ['RFC 9111 §4.2: upper-case day name', 'SUN, 06 Nov 1994 08:49:37 GMT', EXPECTED],
    ['RFC 9111 §4.2: lower-case day name', 'sun, 06 Nov 1994 08:49:37 GMT', EXPECTED],
    ['RFC 9111 §4.2: upper-case month', 'Sun, 06 NOV 1994 08:49:37 GMT', EXPECTED],
    ['RFC 9111 §4.2: lower-case month', 'Sun, 06 nov 1994 08:49:37 GMT', EXPECTED],
    ['RFC 9111 §4.2: mixed-case GMT', 'Sun, 06 Nov 1994 08:49:37 gMT', EXPECTED],
    ['RFC 9111 §4.2: rfc850-date in upper case', 'SUNDAY, 06-NOV-94 08:49:37 GMT', EXPECTED],
    ['RFC 9111 §4.2: asctime-date in lower case', 'sun nov  6 08:49:37 1994', EXPECTED],
    [
      'asctime-date with a two-digit day',
      'Thu Aug 18 02:01:18 2050',
      Date.UTC(2050, 7, 18, 2, 1, 18),
    ],
  ]
  for (const [name, input, expected] of valid) {
    it(`accepts ${name}`, () => expect(parseHttpDate(input, NOW)).toBe(expected))
  }

  const invalid: Array<[string, string]> = [
    ['a bare number (Expires: 0)', '0'],
    ['an ISO date', '1994-11-06T08:49:37Z'],
    ['a non-GMT zone', 'Sun, 06 Nov 1994 08:49:37 PST'],
    ['a negative number (Expires: -1)', '-1'],
    ['RFC 9111 §4.2: a zone other than GMT (UTC)', 'Thu, 18 Aug 2050 02:01:18 UTC'],
    ['a two-digit year in IMF-fixdate', 'Thu, 18 Aug 50 02:01:18 GMT'],
    ['a missing comma', 'Thu 18 Aug 2050 02:01:18 GMT'],
    ['doubled spaces', 'Thu, 18  Aug  2050 02:01:18 GMT'],
    ['dashes in IMF-fixdate', 'Thu, 18-Aug-2050 02:01:18 GMT'],
    ['periods in the time', 'Thu, 18 Aug 2050 02.01.18 GMT'],
    ['a one-digit hour', 'Thu, 18 Aug 2050 2:01:18 GMT'],
    ['an unknown day name', 'Sux, 06 Nov 1994 08:49:37 GMT'],
    ['an unknown month', 'Sun, 06 Nox 1994 08:49:37 GMT'],
    ['31 February', 'Sun, 31 Feb 1994 08:49:37 GMT'],
    ['hour 24', 'Sun, 06 Nov 1994 24:00:00 GMT'],
    [
      'two dates joined (two Expires lines)',
      'Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT',
    ],
    ['garbage', 'tomorrow'],
    ['empty', ''],
  ]
  for (const [name, input] of invalid) {
    it(`rejects ${name}`, () => expect(parseHttpDate(input, NOW)).toBeUndefined())
  }

  it('formats IMF-fixdate', () => {
    expect(formatHttpDate(EXPECTED)).toBe('Sun, 06 Nov 1994 08:49:37 GMT')
  })
})

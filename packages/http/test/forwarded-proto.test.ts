import { describe, expect, it } from 'vitest'
import { forwardedProtoApplied } from '../src/request/forwarded-proto.js'

describe('forwardedProtoApplied(value, keyProtocol) — issue 14, X-Forwarded-Proto poisoning', () => {
  const cases: Array<
    [why: string, value: string | string[] | undefined, key: 'http' | 'https', expected: boolean]
  > = [
    ['the key holds the forwarded scheme', 'https', 'https', true],
    ['the key holds the forwarded scheme (http)', 'http', 'http', true],
    ['RFC 9110 §4.2.3: schemes are case-insensitive', 'HTTPS', 'https', true],
    ['RFC 3986 §3.1: mixed case', 'Http', 'http', true],
    ['RFC 9110 §5.5: OWS around a field value is not part of it', ' https\t', 'https', true],
    ['one field line given as a one-element array', ['https'], 'https', true],
    ['absent: nothing applied', undefined, 'https', false],
    ['a scheme the key does not hold', 'https', 'http', false],
    ['a scheme the key does not hold (http)', 'http', 'https', false],
    ['not http or https: nothttps', 'nothttps', 'http', false],
    ['not http or https: javascript', 'javascript', 'http', false],
    ['not http or https: ftp', 'ftp', 'http', false],
    ["a list, even ending in the key's scheme", 'ftp, https', 'https', false],
    ['a list of the same scheme twice', 'https, https', 'https', false],
    ['a list without spaces', 'http,https', 'http', false],
    ['several field lines', ['https', 'https'], 'https', false],
    ['empty', '', 'https', false],
    ['a scheme with a colon', 'https:', 'https', false],
    ['a URL', 'https://evil.example', 'https', false],
    ['a quoted scheme', '"https"', 'https', false],
    ['whitespace inside', 'ht tps', 'https', false],
    ['a trailing NUL', 'https\u0000', 'https', false],
    ['a Unicode look-alike (long s ſ is not s)', 'https'.replace('s', 'ſ'), 'https', false],
  ]
  for (const [why, value, key, expected] of cases) {
    it(`${why}: ${JSON.stringify(value)} with key ${key} → ${expected}`, () => {
      expect(forwardedProtoApplied(value, key)).toBe(expected)
    })
  }
})

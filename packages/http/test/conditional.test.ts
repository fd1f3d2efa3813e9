import { describe, expect, it } from 'vitest'
import { etagListMatches, isNotModified, type Validators } from '../src/semantics/conditional.js'

const LM = 'Wed, 01 Jan 2025 00:00:00 GMT'
const stored: Validators = { status: 200, etag: '"abc"', lastModified: LM }

describe('isNotModified(headers, validators) — RFC 9110 §13.1, §13.2', () => {
  const cases: Array<[rfc: string, headers: Record<string, string>, validators: Validators, expected: boolean]> = [
    ['no conditional: full response', {}, stored, false],
    ['§13.1.2 If-None-Match with the stored strong ETag', { 'if-none-match': '"abc"' }, stored, true],
    ['§13.1.2 weak comparison: W/ in the request', { 'if-none-match': 'W/"abc"' }, stored, true],
    ['§13.1.2 weak comparison: W/ on the stored tag', { 'if-none-match': '"abc"' }, { ...stored, etag: 'W/"abc"' }, true],
    ['§13.1.2 a list with the tag anywhere', { 'if-none-match': ' "x", W/"abc" ,"y"' }, stored, true],
    ['§13.1.2 a list without the tag', { 'if-none-match': '"x", "y"' }, stored, false],
    ['§13.1.2 * matches any current representation', { 'if-none-match': '*' }, stored, true],
    ['§13.1.2 no stored ETag never matches a list', { 'if-none-match': '"abc"' }, { status: 200 }, false],
    ['§13.1.3 If-Modified-Since at Last-Modified', { 'if-modified-since': LM }, stored, true],
    ['§13.1.3 If-Modified-Since after Last-Modified', { 'if-modified-since': 'Thu, 02 Jan 2025 00:00:00 GMT' }, stored, true],
    ['§13.1.3 If-Modified-Since before Last-Modified', { 'if-modified-since': 'Tue, 31 Dec 2024 00:00:00 GMT' }, stored, false],
    ['§13.1.3 If-Modified-Since without a stored Last-Modified', { 'if-modified-since': LM }, { status: 200, etag: '"abc"' }, false],
    ['§13.1.3 If-Modified-Since ignored when If-None-Match is present', { 'if-none-match': '"x"', 'if-modified-since': LM }, stored, false],
    ['§13.2.1 conditions ignored for a non-2xx response', { 'if-none-match': '"abc"' }, { ...stored, status: 404 }, false],
    ['§13.2.1 conditions ignored for 206', { 'if-none-match': '"abc"' }, { ...stored, status: 206 }, false],
    ['the request Cache-Control does not change the answer (the engine decides freshness)', { 'if-modified-since': LM, 'cache-control': 'no-cache' }, stored, true],
  ]
  for (const [rfc, headers, validators, expected] of cases) {
    it(rfc, () => expect(isNotModified(headers, validators)).toBe(expected))
  }
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

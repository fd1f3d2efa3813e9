import { describe, expect, it } from 'vitest'
import { exceedsVariantCap, parseVary, secondaryKey } from '../src/semantics/vary.js'

describe('parseVary(value) — RFC 9110 §12.5.5', () => {
  const cases: Array<[string | undefined, readonly string[] | '*']> = [
    [undefined, []],
    ['', []],
    ['Accept-Encoding', ['accept-encoding']],
    ['accept-language, Accept-Encoding, accept-encoding', ['accept-encoding', 'accept-language']],
    ['*', '*'],
    ['accept, *', '*'],
    ['accept, bad name', '*'],
    [' , accept ,', ['accept']],
  ]
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () =>
      expect(parseVary(input)).toEqual(expected))
  }
})

describe('secondaryKey(names, headers) — RFC 9111 §4.1', () => {
  it('is empty when nothing varies', () => {
    expect(secondaryKey([], { accept: 'x' })).toBe('')
  })

  const same: Array<
    [string, Record<string, string | string[]>, Record<string, string | string[]>]
  > = [
    [
      '§4.1 whitespace around list commas is not significant',
      { 'accept-encoding': 'gzip,  br' },
      { 'accept-encoding': 'gzip,br' },
    ],
    [
      '§4.1 case is folded for case-insensitive fields',
      { 'accept-encoding': 'GZIP' },
      { 'accept-encoding': 'gzip' },
    ],
    [
      '§4.1 several lines combine as one list',
      { 'accept-encoding': ['gzip', 'br'] },
      { 'accept-encoding': 'gzip, br' },
    ],
    [
      'fields not listed in Vary do not matter',
      { 'accept-encoding': 'gzip', 'user-agent': 'a' },
      { 'accept-encoding': 'gzip', 'user-agent': 'b' },
    ],
  ]
  for (const [rfc, a, b] of same) {
    it(`${rfc}: same key`, () =>
      expect(secondaryKey(['accept-encoding'], a)).toBe(secondaryKey(['accept-encoding'], b)))
  }

  const different: Array<[string, string[], Record<string, string>, Record<string, string>]> = [
    [
      'different values select different variants',
      ['accept-encoding'],
      { 'accept-encoding': 'gzip' },
      { 'accept-encoding': 'br' },
    ],
    [
      '§4.1 an absent field matches only absence, not an empty value',
      ['accept-encoding'],
      {},
      { 'accept-encoding': '' },
    ],
    [
      'case matters for fields not known to be case-insensitive',
      ['x-tenant'],
      { 'x-tenant': 'A' },
      { 'x-tenant': 'a' },
    ],
  ]
  for (const [rfc, names, a, b] of different) {
    it(`${rfc}: different keys`, () =>
      expect(secondaryKey(names, a)).not.toBe(secondaryKey(names, b)))
  }
})

describe('exceedsVariantCap(known, candidate, cap)', () => {
  it.each([
    [['a', 'b'], 'c', 2, true],
    [['a', 'b'], 'a', 2, false],
    [['a'], 'b', 2, false],
    [[], 'a', 1, false],
  ])('%j + %s with cap %i → %s', (known, candidate, cap, expected) => {
    expect(exceedsVariantCap(known, candidate, cap)).toBe(expected)
  })
})

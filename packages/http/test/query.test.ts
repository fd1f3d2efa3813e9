import { describe, expect, it } from 'vitest'
import {
  compileIgnoreList,
  normaliseQuery,
  normaliseQueryReporting,
  withoutIgnoredParams,
  type QueryPolicy,
} from '../src/request/query.js'

const sorted: QueryPolicy = { sort: true, ignore: compileIgnoreList(['utm_*', 'fbclid', 'gclid']) }
const unsorted: QueryPolicy = { sort: false, ignore: compileIgnoreList([]) }

describe('normaliseQuery(query, policy)', () => {
  const cases: Array<[string, string, QueryPolicy, string]> = [
    ['empty', '', sorted, ''],
    ['sorts by name', 'b=2&a=1', sorted, 'a=1&b=2'],
    [
      'keeps the order of repeated names (apps read them as arrays)',
      'a=2&b=0&a=1',
      sorted,
      'a=2&a=1&b=0',
    ],
    ['keeps order when sorting is off', 'b=2&a=1', unsorted, 'b=2&a=1'],
    [
      'drops ignored parameters, with * globs',
      'utm_source=x&id=1&utm_medium=y&fbclid=z&gclid=w',
      sorted,
      'id=1',
    ],
    ['ignore globs are anchored', 'x_utm_source=1', sorted, 'x_utm_source=1'],
    ['drops empty members', '&&a=1&', sorted, 'a=1'],
    ['unifies a and a=', 'a&b=', sorted, 'a=&b='],
    ['re-encodes canonically (%7e and ~)', 'a=%7e', sorted, 'a=~'],
    ['+ and %20 are both a space', 'q=a+b&r=a%20b', sorted, 'q=a%20b&r=a%20b'],
    ['%2B stays a plus, distinct from a space', 'q=a%2Bb', sorted, 'q=a%2Bb'],
    ['keeps invalid percent-encoding verbatim', 'a=%E0%A4%A', sorted, 'a=%E0%A4%A'],
    ['keeps = inside values', 'a=b=c', sorted, 'a=b%3Dc'],
    [
      'keeps an ignored parameter that contains ; (cloaking: some parsers split on it)',
      'q=1&utm_content=x;q=evil',
      sorted,
      'q=1&utm_content=x%3Bq%3Devil',
    ],
  ]
  for (const [name, input, policy, expected] of cases) {
    it(name, () => expect(normaliseQuery(input, policy)).toBe(expected))
  }

  it('compileIgnoreList treats regex characters literally', () => {
    const ignore = compileIgnoreList(['a.b', 'c+'])
    expect(ignore('a.b')).toBe(true)
    expect(ignore('axb')).toBe(false)
    expect(ignore('c+')).toBe(true)
    expect(ignore('cc')).toBe(false)
  })
})

describe('withoutIgnoredParams(target, policy) — what the handler sees (DESIGN rule 2)', () => {
  const cases: Array<[string, string, string]> = [
    ['no query', '/a', '/a'],
    ['nothing ignored: the same string', '/a?b=2&a=1', '/a?b=2&a=1'],
    [
      'removes ignored members, keeps the rest byte for byte and in order',
      '/a?b=%7e&utm_source=x&a=1+2&fbclid=y',
      '/a?b=%7e&a=1+2',
    ],
    ['drops the ? when nothing is left', '/a?utm_source=x&gclid=y', '/a'],
    [
      'an encoded name is decoded before matching, as the key does',
      '/a?%75tm_medium=x&b=1',
      '/a?b=1',
    ],
    ['a name with + decodes to a space, as the key does', '/a?utm+x=1&b=1', '/a?utm+x=1&b=1'],
    [
      'keeps a member with ; (parameter cloaking), as the key does',
      '/a?utm_content=x;q=evil&b=1',
      '/a?utm_content=x;q=evil&b=1',
    ],
    ['keeps invalid percent-encoding', '/a?utm_%E0=1&b=1', '/a?utm_%E0=1&b=1'],
    ['keeps empty members', '/a?b=1&&utm_source=x', '/a?b=1&'],
    ['a mount-relative target', '/items?utm_source=x&id=7', '/items?id=7'],
    [
      'an absolute-form target',
      'http://example.com/a?utm_source=x&b=1',
      'http://example.com/a?b=1',
    ],
    ['a fragment is kept after the query', '/a?utm_source=x&b=1#top', '/a?b=1#top'],
  ]
  for (const [name, input, expected] of cases) {
    it(name, () => expect(withoutIgnoredParams(input, sorted)).toBe(expected))
  }

  it('agrees with the key: what it leaves is what normaliseQuery keys, and it reports what it ignored', () => {
    for (const [, input] of cases) {
      const query = (input.split('?')[1] ?? '').split('#')[0] ?? ''
      const stripped = (withoutIgnoredParams(input, sorted).split('?')[1] ?? '').split('#')[0] ?? ''
      expect(normaliseQuery(stripped, sorted)).toBe(normaliseQuery(query, sorted))
      expect(normaliseQueryReporting(query, sorted).ignored).toBe(stripped !== query)
    }
  })
})

import { describe, expect, it } from 'vitest'
import { compileIgnoreList, normaliseQuery, type QueryPolicy } from '../src/request/query.js'

const sorted: QueryPolicy = { sort: true, ignore: compileIgnoreList(['utm_*', 'fbclid', 'gclid']) }
const unsorted: QueryPolicy = { sort: false, ignore: compileIgnoreList([]) }

describe('normaliseQuery(query, policy)', () => {
  const cases: Array<[string, string, QueryPolicy, string]> = [
    ['empty', '', sorted, ''],
    ['sorts by name', 'b=2&a=1', sorted, 'a=1&b=2'],
    ['keeps the order of repeated names (apps read them as arrays)', 'a=2&b=0&a=1', sorted, 'a=2&a=1&b=0'],
    ['keeps order when sorting is off', 'b=2&a=1', unsorted, 'b=2&a=1'],
    ['drops ignored parameters, with * globs', 'utm_source=x&id=1&utm_medium=y&fbclid=z&gclid=w', sorted, 'id=1'],
    ['ignore globs are anchored', 'x_utm_source=1', sorted, 'x_utm_source=1'],
    ['drops empty members', '&&a=1&', sorted, 'a=1'],
    ['unifies a and a=', 'a&b=', sorted, 'a=&b='],
    ['re-encodes canonically (%7e and ~)', 'a=%7e', sorted, 'a=~'],
    ['+ and %20 are both a space', 'q=a+b&r=a%20b', sorted, 'q=a%20b&r=a%20b'],
    ['%2B stays a plus, distinct from a space', 'q=a%2Bb', sorted, 'q=a%2Bb'],
    ['keeps invalid percent-encoding verbatim', 'a=%E0%A4%A', sorted, 'a=%E0%A4%A'],
    ['keeps = inside values', 'a=b=c', sorted, 'a=b%3Dc'],
    ['keeps an ignored parameter that contains ; (cloaking: some parsers split on it)', 'q=1&utm_content=x;q=evil', sorted, 'q=1&utm_content=x%3Bq%3Devil'],
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

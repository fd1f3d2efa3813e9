import { describe, expect, it } from 'vitest'
import { parseCacheControl } from '../src/semantics/cache-control.js'
import {
  correctedInitialAge,
  currentAge,
  freshnessLifetime,
  parseAge,
  requestUsability,
  type FreshnessFacts,
} from '../src/semantics/freshness.js'
import { formatHttpDate } from '../src/semantics/http-date.js'

const NOW = Date.UTC(2025, 0, 1, 12)
const at = (seconds: number): string => formatHttpDate(NOW + seconds * 1000)

describe('freshnessLifetime(input) — RFC 9111 §4.2.1', () => {
  const cases: Array<
    [
      rfc: string,
      cc: string | undefined,
      expires: string | undefined,
      date: string | undefined,
      ttl: number | undefined,
      ms: number,
      source: string,
    ]
  > = [
    [
      '§5.2.2.10 s-maxage beats max-age',
      'max-age=60, s-maxage=10',
      undefined,
      undefined,
      undefined,
      10_000,
      's-maxage',
    ],
    ['§5.2.2.1 max-age beats Expires', 'max-age=60', at(3600), at(0), undefined, 60_000, 'max-age'],
    [
      '§4.2.1 Expires minus Date (not minus the response time)',
      undefined,
      at(120),
      at(-10),
      undefined,
      130_000,
      'expires',
    ],
    [
      '§4.2.1 Expires minus response time without Date',
      undefined,
      at(30),
      undefined,
      undefined,
      30_000,
      'expires',
    ],
    ['§4.2.1 Expires in the past is stale', undefined, at(-30), at(0), undefined, 0, 'expires'],
    ['§5.3 invalid Expires (0) is already stale', undefined, '0', undefined, 60_000, 0, 'expires'],
    ['§5.3 invalid Expires (-1) is already stale', undefined, '-1', at(0), 60_000, 0, 'expires'],
    [
      '§5.3 invalid Expires (garbage) is already stale',
      undefined,
      'tomorrow',
      at(0),
      60_000,
      0,
      'expires',
    ],
    [
      '§5.3 two Expires lines joined are invalid, so already stale',
      undefined,
      `${at(60)}, ${at(60)}`,
      at(0),
      60_000,
      0,
      'expires',
    ],
    [
      '§4.2 + RFC 9110 §5.6.7 an upper-case Expires still counts',
      undefined,
      at(120).toUpperCase(),
      at(0),
      undefined,
      120_000,
      'expires',
    ],
    [
      '§4.2 a lower-case Date still counts',
      undefined,
      at(120),
      at(-10).toLowerCase(),
      undefined,
      130_000,
      'expires',
    ],
    ['§5.3 Expires wins over a route TTL', undefined, at(10), at(0), 60_000, 10_000, 'expires'],
    [
      'route TTL applies only without freshness information',
      undefined,
      undefined,
      undefined,
      60_000,
      60_000,
      'route',
    ],
    [
      'route TTL never overrides max-age',
      'max-age=5',
      undefined,
      undefined,
      60_000,
      5_000,
      'max-age',
    ],
    [
      'route TTL never overrides max-age=0',
      'max-age=0',
      undefined,
      undefined,
      60_000,
      0,
      'max-age',
    ],
    [
      '§4.2.2 no heuristic freshness: nothing means 0',
      'public',
      undefined,
      undefined,
      undefined,
      0,
      'none',
    ],
    [
      '§5.2.2.4 no-cache means revalidate every time',
      'no-cache, max-age=60',
      undefined,
      undefined,
      60_000,
      0,
      'no-cache',
    ],
    // Issue 14: must-revalidate alone asks for validation once stale; the route TTL would invent freshness.
    [
      '§5.2.2.2 must-revalidate alone never gets the route TTL',
      'must-revalidate',
      undefined,
      undefined,
      60_000,
      0,
      'must-revalidate',
    ],
    [
      '§5.2.2.8 proxy-revalidate alone never gets the route TTL',
      'public, proxy-revalidate',
      undefined,
      undefined,
      60_000,
      0,
      'must-revalidate',
    ],
    [
      '§5.2.2.2 must-revalidate alone, no TTL: lifetime 0, stored only with a validator',
      'must-revalidate',
      undefined,
      undefined,
      undefined,
      0,
      'must-revalidate',
    ],
    [
      '§5.2.2.2 must-revalidate with max-age keeps its explicit lifetime',
      'max-age=30, must-revalidate',
      undefined,
      undefined,
      60_000,
      30_000,
      'max-age',
    ],
    [
      '§5.2.2.2 must-revalidate with Expires keeps its explicit lifetime',
      'must-revalidate',
      at(20),
      at(0),
      60_000,
      20_000,
      'expires',
    ],
  ]
  for (const [rfc, cc, expires, date, ttl, ms, source] of cases) {
    it(rfc, () => {
      const result = freshnessLifetime({
        directives: parseCacheControl(cc),
        expires,
        date,
        responseTime: NOW,
        routeTtlMs: ttl,
      })
      expect(result).toEqual({ lifetimeMs: ms, source })
    })
  }
})

describe('correctedInitialAge(input) — RFC 9111 §4.2.3', () => {
  const cases: Array<
    [string, { age?: string; date?: string; requestTime: number; responseTime: number }, number]
  > = [
    ['no Age, no Date: the response delay', { requestTime: NOW - 200, responseTime: NOW }, 200],
    ['Age plus response delay', { age: '30', requestTime: NOW - 500, responseTime: NOW }, 30_500],
    [
      'apparent age from Date when larger',
      { date: at(-10), requestTime: NOW, responseTime: NOW },
      10_000,
    ],
    [
      'a Date in the future gives apparent age 0',
      { date: at(10), requestTime: NOW, responseTime: NOW },
      0,
    ],
    ['§5.1 invalid Age is ignored', { age: '-5', requestTime: NOW, responseTime: NOW }, 0],
    ['§5.1 non-numeric Age is ignored', { age: 'soon', requestTime: NOW, responseTime: NOW }, 0],
    [
      '§5.1 a list-valued Age uses its first member',
      { age: '7200, 0', requestTime: NOW, responseTime: NOW },
      7_200_000,
    ],
    [
      '§5.1 a list-valued Age without spaces uses its first member',
      { age: '7200,0', requestTime: NOW, responseTime: NOW },
      7_200_000,
    ],
    [
      '§5.1 two Age lines joined by the adapter use the first',
      { age: '0, 7200', requestTime: NOW, responseTime: NOW },
      0,
    ],
    [
      '§5.1 a duplicated old Age keeps its age',
      { age: '7200, 7200', requestTime: NOW, responseTime: NOW },
      7_200_000,
    ],
    [
      '§5.1 an invalid first member makes the cache ignore the whole field',
      { age: 'abc, 7200', requestTime: NOW, responseTime: NOW },
      0,
    ],
    [
      '§5.1 a negative first member is invalid, so the field is ignored',
      { age: '-1, 7200', requestTime: NOW, responseTime: NOW },
      0,
    ],
    [
      '§5.1 a float is not a non-negative integer, so the field is ignored',
      { age: '7200.0', requestTime: NOW, responseTime: NOW },
      0,
    ],
    [
      'RFC 9110 §5.6.1.2 an empty leading list element is skipped',
      { age: ' , 30', requestTime: NOW, responseTime: NOW },
      30_000,
    ],
    [
      '§1.2.2 an Age too large to represent is 2^31 seconds',
      { age: '99999999999999999999', requestTime: NOW, responseTime: NOW },
      2_147_483_648_000,
    ],
  ]
  for (const [name, input, expected] of cases) {
    it(name, () =>
      expect(
        correctedInitialAge({
          age: input.age,
          date: input.date,
          requestTime: input.requestTime,
          responseTime: input.responseTime,
        })
      ).toBe(expected)
    )
  }

  it('current_age = corrected_initial_age + resident_time', () => {
    const facts: FreshnessFacts = {
      storedAt: NOW,
      initialAgeMs: 5_000,
      staleAt: NOW + 55_000,
      allowMaxStale: true,
    }
    expect(currentAge(facts, NOW + 10_000)).toBe(15_000)
  })
})

describe('parseAge(value) — RFC 9111 §5.1', () => {
  it.each([
    [undefined, undefined],
    ['0', 0],
    ['60', 60],
    ['  60  ', 60],
    ['7200, 0', 7200],
    ['0,7200', 0],
    ['abc', undefined],
    ['-7200', undefined],
    ['7200.0', undefined],
    ['"60"', undefined],
    ['', undefined],
    ['abc, 60', undefined],
    ['99999999999', 2_147_483_648],
  ])('%j → %j', (value, expected) => expect(parseAge(value)).toBe(expected))
})

describe('requestUsability(facts, request, now, respect) — RFC 9111 §4.2, §5.2.1', () => {
  // Stored at NOW with age 0, fresh for 60 s.
  const facts: FreshnessFacts = {
    storedAt: NOW,
    initialAgeMs: 0,
    staleAt: NOW + 60_000,
    allowMaxStale: true,
  }
  const strict: FreshnessFacts = { ...facts, allowMaxStale: false }
  const cases: Array<
    [
      rfc: string,
      facts: FreshnessFacts,
      cc: string | undefined,
      elapsedS: number,
      respect: boolean,
      expected: string,
    ]
  > = [
    ['§4.2 fresh while age < lifetime', facts, undefined, 59, true, 'usable'],
    ['§4.2 stale once age reaches lifetime', facts, undefined, 60, true, 'stale'],
    ['§5.2.1.4 request no-cache forces a forward', facts, 'no-cache', 1, true, 'request'],
    ['§5.2.1.4 request no-cache ignored when not respected', facts, 'no-cache', 1, false, 'usable'],
    ['§5.2.1.1 age over request max-age forces a forward', facts, 'max-age=5', 6, true, 'request'],
    ['§5.2.1.1 age within request max-age is usable', facts, 'max-age=5', 5, true, 'usable'],
    ['§5.2.1.1 max-age=0 with age 0 is usable', facts, 'max-age=0', 0, true, 'usable'],
    [
      '§5.2.1.3 less than min-fresh left forces a forward',
      facts,
      'min-fresh=10',
      51,
      true,
      'request',
    ],
    ['§5.2.1.3 enough left for min-fresh is usable', facts, 'min-fresh=10', 50, true, 'usable'],
    [
      '§5.2.1.2 max-stale accepts a stale response within its value',
      facts,
      'max-stale=10',
      70,
      true,
      'usable',
    ],
    ['§5.2.1.2 max-stale value exceeded', facts, 'max-stale=10', 71, true, 'stale'],
    [
      '§5.2.1.2 max-stale without value accepts any staleness',
      facts,
      'max-stale',
      100_000,
      true,
      'usable',
    ],
    [
      '§5.2.2.2 must-revalidate (and s-maxage, §5.2.2.10) forbid max-stale',
      strict,
      'max-stale',
      61,
      true,
      'stale',
    ],
  ]
  for (const [rfc, f, cc, elapsed, respect, expected] of cases) {
    it(rfc, () =>
      expect(requestUsability(f, parseCacheControl(cc), NOW + elapsed * 1000, respect)).toBe(
        expected
      )
    )
  }
})

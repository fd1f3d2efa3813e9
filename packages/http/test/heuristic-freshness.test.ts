import { describe, expect, it } from 'vitest'
import { parseCacheControl } from '../src/semantics/cache-control.js'
import { freshnessLifetime } from '../src/semantics/freshness.js'
import {
  DEFAULT_HEURISTIC_POLICY,
  heuristicLifetime,
  type HeuristicInput,
} from '../src/semantics/heuristic-freshness.js'
import { formatHttpDate } from '../src/semantics/http-date.js'

const NOW = Date.UTC(2025, 0, 11, 12)
const DAY = 86_400_000
const at = (ms: number): string => formatHttpDate(NOW + ms)

function input(overrides: Partial<HeuristicInput> & { cc?: string } = {}): HeuristicInput {
  const { cc, ...rest } = overrides
  return {
    status: 200,
    directives: parseCacheControl(cc),
    expires: undefined,
    date: at(0),
    lastModified: at(-5 * DAY),
    responseTime: NOW,
    policy: DEFAULT_HEURISTIC_POLICY,
    ...rest,
  }
}

describe('heuristicLifetime(input) — RFC 9111 §4.2.2', () => {
  const cases: Array<[rfc: string, HeuristicInput, expected: number | undefined]> = [
    ['§4.2.2 10 % of Date − Last-Modified by default', input(), DAY / 2],
    ['§4.2.2 capped at one day by default', input({ lastModified: at(-100 * DAY) }), DAY],
    [
      '§4.2.2 the fraction is configurable',
      input({ policy: { fraction: 0.2, maxMs: 10 * DAY } }),
      DAY,
    ],
    ['§4.2.2 the cap is configurable', input({ policy: { fraction: 0.1, maxMs: 60_000 } }), 60_000],
    [
      '§4.2.2 without Date, the interval ends at the response time',
      input({ date: undefined }),
      DAY / 2,
    ],
    ['§4.2.2 an invalid Date counts as absent', input({ date: 'yesterday' }), DAY / 2],
    [
      '§4.2.2 Date is read case-insensitively (§4.2)',
      input({ date: at(0).toUpperCase() }),
      DAY / 2,
    ],
    [
      '§4.2.2 a Last-Modified after Date gives no freshness',
      input({ lastModified: at(60_000) }),
      0,
    ],
    ['§4.2.2 Last-Modified equal to Date gives no freshness', input({ lastModified: at(0) }), 0],
    ['§4.2.2 no Last-Modified, no heuristic', input({ lastModified: undefined }), undefined],
    ['§4.2.2 an invalid Last-Modified, no heuristic', input({ lastModified: '0' }), undefined],
    [
      '§4.2.2 "MUST NOT use heuristics … when an explicit expiration time is present": max-age',
      input({ cc: 'max-age=0' }),
      undefined,
    ],
    ['§4.2.2 … s-maxage', input({ cc: 's-maxage=5' }), undefined],
    ['§4.2.2 … Expires', input({ expires: at(DAY) }), undefined],
    [
      '§4.2.2 + §5.3 … an invalid Expires, which means already expired',
      input({ expires: '0' }),
      undefined,
    ],
    [
      '§5.2.2.4 no-cache: every use is revalidated, no heuristic',
      input({ cc: 'no-cache' }),
      undefined,
    ],
    ['§4.2.2 a heuristically cacheable status (404)', input({ status: 404 }), DAY / 2],
    ['§4.2.2 a heuristically cacheable status (301)', input({ status: 301 }), DAY / 2],
    [
      '§4.2.2 a status that is not heuristically cacheable (302)',
      input({ status: 302 }),
      undefined,
    ],
    [
      '§4.2.2 a status that is not heuristically cacheable (500)',
      input({ status: 500 }),
      undefined,
    ],
    ['§4.2.2 206 is never stored, so never gets a heuristic', input({ status: 206 }), undefined],
    ['§4.2.2 not even when marked public', input({ status: 206, cc: 'public' }), undefined],
    [
      'RFC 9110 §15: public does not make an unrecognised status cacheable',
      input({ status: 299, cc: 'public' }),
      undefined,
    ],
    [
      '§4.2.2 "marked as explicitly cacheable (e.g., with a public response directive)" (302)',
      input({ status: 302, cc: 'public' }),
      DAY / 2,
    ],
    [
      '§4.2.2 must-revalidate alone does not prevent a heuristic',
      input({ cc: 'must-revalidate' }),
      DAY / 2,
    ],
    [
      '§5.2.2.3 must-understand with an understood status',
      input({ cc: 'public, must-understand' }),
      DAY / 2,
    ],
    [
      '§5.2.2.3 must-understand with a status the cache does not understand',
      input({ status: 299, cc: 'public, must-understand' }),
      undefined,
    ],
    [
      'a caller-supplied status list replaces RFC 9110 §15.1',
      input({ status: 500, statuses: new Set([500]) }),
      DAY / 2,
    ],
  ]
  for (const [rfc, value, expected] of cases) {
    it(rfc, () => expect(heuristicLifetime(value)).toBe(expected))
  }
})

describe('freshnessLifetime(input) with an opt-in heuristic', () => {
  const heuristic = { policy: DEFAULT_HEURISTIC_POLICY, status: 200, lastModified: at(-5 * DAY) }
  const base = { expires: undefined, date: at(0), responseTime: NOW }

  it('uses the heuristic when the response has no explicit freshness and there is no route TTL', () => {
    expect(
      freshnessLifetime({ ...base, directives: parseCacheControl(undefined), heuristic })
    ).toEqual({
      lifetimeMs: DAY / 2,
      source: 'heuristic',
    })
  })

  it('the app-level route TTL wins over the heuristic', () => {
    expect(
      freshnessLifetime({
        ...base,
        directives: parseCacheControl(undefined),
        routeTtlMs: 60_000,
        heuristic,
      })
    ).toEqual({
      lifetimeMs: 60_000,
      source: 'route',
    })
  })

  it('explicit freshness wins over the heuristic (RFC 9111 §4.2.2)', () => {
    expect(
      freshnessLifetime({ ...base, directives: parseCacheControl('max-age=5'), heuristic })
    ).toEqual({
      lifetimeMs: 5_000,
      source: 'max-age',
    })
  })

  it('falls back to none when the heuristic does not apply', () => {
    expect(
      freshnessLifetime({
        ...base,
        directives: parseCacheControl(undefined),
        heuristic: { ...heuristic, lastModified: undefined },
      })
    ).toEqual({ lifetimeMs: 0, source: 'none' })
  })

  it('is off unless asked for', () => {
    expect(freshnessLifetime({ ...base, directives: parseCacheControl(undefined) })).toEqual({
      lifetimeMs: 0,
      source: 'none',
    })
  })
})

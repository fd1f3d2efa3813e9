import { describe, expect, it } from 'vitest'
import {
  appendCacheStatus,
  formatCacheStatus,
  isCacheStatusName,
  remainingTtl,
  type CacheStatusParams,
} from '../src/semantics/cache-status.js'

describe('formatCacheStatus(name, params) — RFC 9211 §2', () => {
  const cases: Array<[string, CacheStatusParams, string]> = [
    ['§2.1 hit with §2.4 ttl', { hit: true, ttl: 30 }, 'cachewire; hit; ttl=30'],
    ['§2.4 a stale hit has a negative ttl', { hit: true, ttl: -5 }, 'cachewire; hit; ttl=-5'],
    [
      '§2.2 fwd, §2.3 fwd-status, §2.5 stored',
      { fwd: 'uri-miss', fwdStatus: 200, stored: true, ttl: 60 },
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60',
    ],
    [
      '§2.6 collapsed',
      { fwd: 'uri-miss', fwdStatus: 200, collapsed: true },
      'cachewire; fwd=uri-miss; fwd-status=200; collapsed',
    ],
    [
      '§2.2 bypass with §2.8 detail',
      { fwd: 'bypass', detail: 'cookie' },
      'cachewire; fwd=bypass; detail=cookie',
    ],
    [
      '§2.2 method for unsafe methods',
      { fwd: 'method', fwdStatus: 201 },
      'cachewire; fwd=method; fwd-status=201',
    ],
    ['§2.2 vary-miss and request', { fwd: 'vary-miss' }, 'cachewire; fwd=vary-miss'],
    [
      'false flags are omitted',
      { fwd: 'request', stored: false, collapsed: false, hit: false },
      'cachewire; fwd=request',
    ],
    ['a detail that is not an sf-token is dropped', { hit: true, detail: 'a b' }, 'cachewire; hit'],
  ]
  for (const [rfc, params, expected] of cases) {
    it(rfc, () => expect(formatCacheStatus('cachewire', params)).toBe(expected))
  }

  it('§2: appends after members added nearer the origin', () => {
    expect(appendCacheStatus('Origin; hit', 'cachewire; hit')).toBe('Origin; hit, cachewire; hit')
    expect(appendCacheStatus(undefined, 'cachewire; hit')).toBe('cachewire; hit')
  })

  it('§2: the cache name is an sf-token', () => {
    expect(isCacheStatusName('cachewire')).toBe(true)
    expect(isCacheStatusName('edge-1.example')).toBe(true)
    expect(isCacheStatusName('my cache')).toBe(false)
    expect(isCacheStatusName('1cache')).toBe(false)
  })

  it('§2.4 ttl floors, so a response is never reported fresher than it is', () => {
    expect(remainingTtl(61_500, 1_000)).toBe(60)
    expect(remainingTtl(1_000, 1_500)).toBe(-1)
  })
})

import { Cache, InvalidOptionError, MemoryStore } from '@cachewire/core'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { cacheControl } from '../src/headers/cache-control-value.js'
import { resolveHttpCacheOptions } from '../src/options/resolve-options.js'
import { resolveRoutePolicy } from '../src/options/resolve-route.js'
import type { HttpCacheOptions, RouteOptions } from '../src/options/types.js'
import type { HttpRequest } from '../src/types.js'

describe('resolveHttpCacheOptions(options)', () => {
  it('defaults', () => {
    const resolved = resolveHttpCacheOptions()
    expect(resolved.cache).toBeInstanceOf(Cache)
    expect(resolved.ownsStore).toBe(true)
    expect(resolved.ttlMs).toBeUndefined()
    expect([...resolved.statuses]).toEqual([
      200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501,
    ])
    expect(resolved.maxEntryBytes).toBe(1_048_576)
    expect(resolved.maxHeaderBytes).toBe(16_384)
    expect(resolved.maxVariants).toBe(32)
    expect(resolved.hosts).toBeUndefined()
    expect(resolved.query.sort).toBe(true)
    expect(resolved.query.ignore('utm_campaign')).toBe(true)
    expect(resolved.query.ignore('fbclid')).toBe(true)
    expect(resolved.query.ignore('gclid')).toBe(true)
    expect(resolved.query.ignore('id')).toBe(false)
    expect([...resolved.methods]).toEqual(['GET', 'HEAD'])
    expect(resolved.allowCookies).toBe(false)
    expect(resolved.shareAuthenticated).toBe(false)
    expect(resolved.privateIfCredentialed).toBe(true)
    // Issue 14: request directives that force origin work are ignored unless asked for.
    expect(resolved.honourRequestDirectives).toBe(false)
    expect(resolved.heuristic).toBeUndefined()
    expect(resolved.staleWhileRevalidateMs).toBe(0)
    expect(resolved.staleIfErrorMs).toBe(0)
    expect(resolved.revalidationWindowMs).toBe(300_000)
    expect(resolved.etag).toBe('strong')
    expect(resolved.targetedField).toBeUndefined()
    expect(resolved.surrogateKeyHeader).toBe('surrogate-key')
    expect(resolved.cacheStatusName).toBe('cachewire')
    expect(resolved.debug).toBe(false)
    expect(resolved.coalesce).toEqual({ enabled: true, timeoutMs: 5000 })
    expect(resolved.maxKeysPerWindow).toEqual({ keys: 10_000, windowMs: 60_000 })
  })

  it('reads durations by the one unit rule and lower-cases field names', () => {
    const resolved = resolveHttpCacheOptions({
      ttl: '5 minutes',
      stale: { whileRevalidate: '30s', ifError: 1000 },
      freshness: {
        revalidationWindow: false,
        targetedField: 'CDN-Cache-Control',
        requestDirectives: 'honour',
        heuristic: { fraction: 0.2, max: '2h' },
      },
      coalesce: { timeout: 50 },
      safety: { maxKeysPerWindow: { keys: 10, window: '1h' } },
      cdn: { surrogateKeyHeader: false },
    })
    expect(resolved.ttlMs).toBe(300_000)
    expect(resolved.staleWhileRevalidateMs).toBe(30_000)
    expect(resolved.staleIfErrorMs).toBe(1000)
    expect(resolved.revalidationWindowMs).toBe(0)
    expect(resolved.targetedField).toBe('cdn-cache-control')
    expect(resolved.honourRequestDirectives).toBe(true)
    expect(resolved.heuristic).toEqual({ fraction: 0.2, maxMs: 7_200_000 })
    expect(resolveHttpCacheOptions({ freshness: { heuristic: {} } }).heuristic).toEqual({
      fraction: 0.1,
      maxMs: 86_400_000,
    })
    expect(resolveHttpCacheOptions({ freshness: { heuristic: false } }).heuristic).toBeUndefined()
    expect(
      resolveHttpCacheOptions({
        safety: { shareAuthenticated: true, privateIfCredentialed: false },
      })
    ).toMatchObject({ shareAuthenticated: true, privateIfCredentialed: false })
    expect(resolved.coalesce).toEqual({ enabled: true, timeoutMs: 50 })
    expect(resolved.maxKeysPerWindow).toEqual({ keys: 10, windowMs: 3_600_000 })
    expect(resolved.surrogateKeyHeader).toBeUndefined()
  })

  it('uses the given cache, or builds one on the given store (and owns only what it built)', () => {
    const cache = new Cache()
    expect(resolveHttpCacheOptions({ storage: { cache } }).cache).toBe(cache)
    expect(resolveHttpCacheOptions({ storage: { cache } }).ownsStore).toBe(false)
    const store = new MemoryStore()
    const onStore = resolveHttpCacheOptions({ storage: { store } })
    expect(onStore.cache.store).toBe(store)
    expect(onStore.ownsStore).toBe(false)
  })

  it('returns an already resolved object unchanged', () => {
    const resolved = resolveHttpCacheOptions({ ttl: '1m' })
    expect(resolveHttpCacheOptions(resolved)).toBe(resolved)
  })

  const invalid: Array<[string, unknown, RegExp]> = [
    ['ttl', { ttl: 'soon' }, /expected options\.ttl to be/],
    ['ttl, a bare 60 (likely seconds)', { ttl: 60 }, /options\.ttl .*'60s'/],
    ['ttl', { ttl: -1 }, /options\.ttl/],
    ['storage.cache', { storage: { cache: {} } }, /expected options\.storage\.cache to be a Cache/],
    ['storage.store', { storage: { store: {} } }, /options\.storage\.store/],
    [
      'storage.maxEntryBytes',
      { storage: { maxEntryBytes: 0 } },
      /options\.storage\.maxEntryBytes to be a positive integer, got 0/,
    ],
    [
      'storage.maxHeaderBytes',
      { storage: { maxHeaderBytes: 1.5 } },
      /options\.storage\.maxHeaderBytes/,
    ],
    ['storage.maxVariants', { storage: { maxVariants: 1.5 } }, /options\.storage\.maxVariants/],
    ['freshness.statuses', { freshness: { statuses: 'all' } }, /options\.freshness\.statuses/],
    [
      'freshness.statuses[1]',
      { freshness: { statuses: [200, 99] } },
      /options\.freshness\.statuses\[1\]/,
    ],
    [
      'freshness.requestDirectives',
      { freshness: { requestDirectives: 'no' } },
      /options\.freshness\.requestDirectives/,
    ],
    [
      'freshness.targetedField',
      { freshness: { targetedField: 'bad name' } },
      /options\.freshness\.targetedField/,
    ],
    [
      'freshness.targetedField cannot be Cache-Control itself',
      { freshness: { targetedField: 'Cache-Control' } },
      /options\.freshness\.targetedField/,
    ],
    [
      'freshness.revalidationWindow',
      { freshness: { revalidationWindow: 300 } },
      /options\.freshness\.revalidationWindow/,
    ],
    [
      'freshness.heuristic: true',
      { freshness: { heuristic: true } },
      /options\.freshness\.heuristic to be false or/,
    ],
    [
      'freshness.heuristic.fraction 0',
      { freshness: { heuristic: { fraction: 0 } } },
      /options\.freshness\.heuristic\.fraction to be a number in \(0, 1\]/,
    ],
    [
      'freshness.heuristic.fraction over 1',
      { freshness: { heuristic: { fraction: 10 } } },
      /options\.freshness\.heuristic\.fraction/,
    ],
    [
      'freshness.heuristic.max, a bare 600 (likely seconds)',
      { freshness: { heuristic: { max: 600 } } },
      /options\.freshness\.heuristic\.max/,
    ],
    [
      'freshness.heuristic unknown name',
      { freshness: { heuristic: { factor: 0.1 } } },
      /freshness\.heuristic\.factor/,
    ],
    [
      'safety.shareAuthenticated',
      { safety: { shareAuthenticated: 'yes' } },
      /options\.safety\.shareAuthenticated to be a boolean/,
    ],
    [
      'safety.privateIfCredentialed',
      { safety: { privateIfCredentialed: 1 } },
      /options\.safety\.privateIfCredentialed to be a boolean/,
    ],
    ['keys.hosts', { keys: { hosts: 'example.com' } }, /options\.keys\.hosts/],
    ['keys.hosts[0]', { keys: { hosts: ['exa mple.com'] } }, /options\.keys\.hosts\[0\]/],
    [
      'keys.hosts[0] with a port',
      { keys: { hosts: ['example.com:80'] } },
      /options\.keys\.hosts\[0\]/,
    ],
    ['keys.query', { keys: { query: 1 } }, /options\.keys\.query/],
    ['keys.query.sort', { keys: { query: { sort: 'yes' } } }, /options\.keys\.query\.sort/],
    [
      'keys.query.ignore[0]',
      { keys: { query: { ignore: [''] } } },
      /options\.keys\.query\.ignore\[0\]/,
    ],
    ['keys.key', { keys: { key: 'x' } }, /options\.keys\.key to be a function/],
    ['keys.methods', { keys: { methods: [] } }, /options\.keys\.methods/],
    ['keys.methods[0]', { keys: { methods: ['POST'] } }, /options\.keys\.methods\[0\]/],
    [
      'keys.keyedHeaders[0]',
      { keys: { keyedHeaders: ['a b'] } },
      /options\.keys\.keyedHeaders\[0\]/,
    ],
    [
      'safety.allowCookies',
      { safety: { allowCookies: 1 } },
      /options\.safety\.allowCookies to be a boolean/,
    ],
    ['safety.scope', { safety: { scope: 'public' } }, /options\.safety\.scope/],
    [
      'safety.privateKey with scope private',
      { safety: { scope: 'private' } },
      /options\.safety\.privateKey/,
    ],
    [
      'safety.maxKeysPerWindow.window',
      { safety: { maxKeysPerWindow: { keys: 5, window: 60 } } },
      /options\.safety\.maxKeysPerWindow\.window/,
    ],
    [
      'stale.whileRevalidate',
      { stale: { whileRevalidate: true } },
      /options\.stale\.whileRevalidate/,
    ],
    ['stale.ifError', { stale: { ifError: 'x' } }, /options\.stale\.ifError/],
    ['etag', { etag: 'md5' }, /options\.etag to be "strong", "weak" or false/],
    [
      'cdn.surrogateKeyHeader',
      { cdn: { surrogateKeyHeader: 'a:b' } },
      /options\.cdn\.surrogateKeyHeader/,
    ],
    ['cdn.purgeHooks[0]', { cdn: { purgeHooks: [{}] } }, /options\.cdn\.purgeHooks\[0\]/],
    [
      'cdn.cdnCacheControl.maxAge (seconds written as a bare number)',
      { cdn: { cdnCacheControl: { maxAge: 600 } } },
      /options\.cdn\.cdnCacheControl\.maxAge/,
    ],
    [
      'observability.cacheStatusName',
      { observability: { cacheStatusName: 'my cache' } },
      /options\.observability\.cacheStatusName/,
    ],
    ['observability.debug', { observability: { debug: 1 } }, /options\.observability\.debug/],
    ['observability.onError', { observability: { onError: 5 } }, /options\.observability\.onError/],
    ['coalesce', { coalesce: 'yes' }, /options\.coalesce/],
    ['coalesce.timeout', { coalesce: { timeout: -5 } }, /options\.coalesce\.timeout/],
    ['tags', { tags: 'a' }, /options\.tags/],
    ['tags[0]', { tags: [''] }, /options\.tags\[0\]/],
    ['clock', { clock: 5 }, /options\.clock/],
  ]
  for (const [name, options, message] of invalid) {
    it(`rejects a bad ${name} with an InvalidOptionError naming it`, () => {
      expect(() => resolveHttpCacheOptions(options as HttpCacheOptions)).toThrow(InvalidOptionError)
      expect(() => resolveHttpCacheOptions(options as HttpCacheOptions)).toThrow(message)
    })
  }

  it('rejects a non-object', () => {
    expect(() => resolveHttpCacheOptions(null as never)).toThrow(InvalidOptionError)
  })

  it.each([
    [{ tll: '1m' }, /options\.tll .*did you mean "ttl"/],
    [
      { storage: { maxEntryByte: 5 } },
      /options\.storage\.maxEntryByte .*did you mean "maxEntryBytes"/,
    ],
    [{ keys: { query: { sorts: true } } }, /options\.keys\.query\.sorts .*did you mean "sort"/],
    [{ safety: { scopes: 'shared' } }, /options\.safety\.scopes .*did you mean "scope"/],
    [{ stale: { ifErrors: '1m' } }, /options\.stale\.ifErrors .*did you mean "ifError"/],
    [{ observability: { debugs: true } }, /options\.observability\.debugs .*did you mean "debug"/],
    [{ cdn: { surrogateKey: true } }, /options\.cdn\.surrogateKey .*did you mean "surrogateKeys"/],
    [{ freshness: { nonsense: 1 } }, /options\.freshness\.nonsense/],
  ])(
    'rejects an unknown name at every level, with the nearest known one: %j',
    (options, message) => {
      expect(() => resolveHttpCacheOptions(options as HttpCacheOptions)).toThrow(message)
    }
  )

  it.each([
    ['maxEntrySize', 'storage.maxEntryBytes'],
    ['staleWhileRevalidate', 'stale.whileRevalidate'],
    ['targetedCacheControl', 'freshness.targetedField'],
    ['store', 'storage.store'],
    ['debug', 'observability.debug'],
    ['purgeHooks', 'cdn.purgeHooks'],
  ])('names where a 0.x option went: %s → %s', (old, place) => {
    expect(() => resolveHttpCacheOptions({ [old]: 1 } as HttpCacheOptions)).toThrow(
      `options.${old} to be written as options.${place} since 1.0`
    )
  })

  it("says how respectRequestNoCache reads now: freshness.requestDirectives 'honour' | 'ignore'", () => {
    expect(() =>
      resolveHttpCacheOptions({ respectRequestNoCache: false } as HttpCacheOptions)
    ).toThrow(
      /options\.respectRequestNoCache to be written as options\.freshness\.requestDirectives \('honour' \| 'ignore'\)/
    )
  })

  it('invalid shapes do not compile', () => {
    // @ts-expect-error: flat 0.x names are gone
    expectTypeOf<{ maxEntrySize: number }>().toMatchTypeOf<HttpCacheOptions>()
    // @ts-expect-error: scope is 'shared' or 'private'
    resolveHttpCacheOptions.bind(null, { safety: { scope: 'public' } })
    // @ts-expect-error: requestDirectives is 'honour' or 'ignore'
    resolveHttpCacheOptions.bind(null, { freshness: { requestDirectives: true } })
    // @ts-expect-error: a duration is a number or a string with a unit
    resolveHttpCacheOptions.bind(null, { ttl: '5 parsecs' })
    // @ts-expect-error: methods are GET and HEAD only
    resolveHttpCacheOptions.bind(null, { keys: { methods: ['POST'] } })
    expectTypeOf<NonNullable<NonNullable<HttpCacheOptions['keys']>['key']>>()
      .parameter(0)
      .toEqualTypeOf<HttpRequest>()
    expectTypeOf<NonNullable<NonNullable<HttpCacheOptions<{ tenant: string }>['keys']>['key']>>()
      .parameter(0)
      .toEqualTypeOf<{ tenant: string }>()
  })
})

describe('resolveRoutePolicy(options)', () => {
  it('resolves durations and keeps functions', () => {
    const key = (): string => 'k'
    const route = resolveRoutePolicy({
      ttl: '1m',
      stale: { whileRevalidate: false, ifError: '1h' },
      safety: { allowCookies: true },
      tags: ['a'],
      keys: { key },
    })
    expect(route).toMatchObject({
      ttlMs: 60_000,
      staleWhileRevalidateMs: 0,
      staleIfErrorMs: 3_600_000,
      allowCookies: true,
      tags: ['a'],
      key,
    })
  })

  it('leaves unset overrides undefined so engine options apply', () => {
    expect(resolveRoutePolicy()).toMatchObject({
      ttlMs: undefined,
      staleWhileRevalidateMs: undefined,
      staleIfErrorMs: undefined,
      allowCookies: undefined,
      tags: undefined,
      key: undefined,
      cdn: undefined,
    })
  })

  it('returns an already resolved policy unchanged', () => {
    const route = resolveRoutePolicy({ ttl: '1m' })
    expect(resolveRoutePolicy(route)).toBe(route)
  })

  it.each([
    [{ ttl: 'x' }, /options\.ttl/],
    [{ ttl: 30 }, /options\.ttl/],
    [{ safety: { allowCookies: 'yes' } }, /options\.safety\.allowCookies/],
    [{ keys: { key: 1 } }, /options\.keys\.key/],
    [{ tags: [1] }, /options\.tags\[0\]/],
    [{ stale: { whileRevalidate: 5 } }, /options\.stale\.whileRevalidate/],
    [{ tagz: [] }, /options\.tagz .*did you mean "tags"/],
  ])('rejects %j', (options, message) => {
    expect(() => resolveRoutePolicy(options as RouteOptions)).toThrow(message)
  })

  it.each([
    [
      { storage: { store: new MemoryStore() } },
      'storage',
      /storage is per app, pass it to createHttpCache\(\)/,
    ],
    [{ freshness: {} }, 'freshness', /freshness is per app/],
    [{ coalesce: false }, 'coalesce', /coalesce is per app/],
    [{ observability: {} }, 'observability', /observability is per app/],
    [{ clock: Date.now }, 'clock', /clock is per app/],
    [{ etag: 'weak' }, 'etag', /etag is per app/],
    [{ keys: { hosts: ['a.example'] } }, 'keys.hosts', /keys\.hosts is per app/],
    [{ keys: { query: {} } }, 'keys.query', /keys\.query is per app/],
    [{ cdn: { purgeHooks: [] } }, 'cdn.purgeHooks', /cdn\.purgeHooks is per app/],
    [{ store: new MemoryStore() }, 'store', /storage\.store is per app/],
    [
      { staleWhileRevalidate: '1m' },
      'staleWhileRevalidate',
      /written as stale\.whileRevalidate since 1\.0/,
    ],
  ])(
    'refuses an app-only option in a route policy, saying where it goes: %j',
    (options, option, message) => {
      try {
        resolveRoutePolicy(options as RouteOptions)
        expect.unreachable()
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionError)
        expect((error as InvalidOptionError).option).toBe(option)
        expect((error as Error).message).toMatch(message)
      }
    }
  )

  it('names the adapter entry point when told', () => {
    expect(() => resolveRoutePolicy({ storage: {} } as RouteOptions, 'responseCache()')).toThrow(
      'storage is per app, pass it to responseCache()'
    )
  })

  it('invalid policies do not compile', () => {
    // @ts-expect-error: storage is per app
    resolveRoutePolicy.bind(null, { storage: {} })
    // @ts-expect-error: keys.hosts is per app
    resolveRoutePolicy.bind(null, { keys: { hosts: [] } })
    // @ts-expect-error: purge hooks are per app
    resolveRoutePolicy.bind(null, { cdn: { purgeHooks: [] } })
  })
})

describe('cacheControl(directives): the unit rule', () => {
  it('takes durations and writes whole seconds', () => {
    expect(
      cacheControl({
        public: true,
        maxAge: '1m',
        staleWhileRevalidate: '30s',
        staleIfError: '1 hour',
      })
    ).toBe('public, max-age=60, stale-while-revalidate=30, stale-if-error=3600')
    expect(cacheControl({ maxAge: 0, noCache: true })).toBe('no-cache, max-age=0')
    expect(cacheControl({ sMaxage: 120_000 })).toBe('s-maxage=120')
  })

  it.each([
    [{ maxAge: 60 }, /options\.maxAge .*'60s'/],
    [{ maxAge: '1500ms' }, /options\.maxAge to be a whole number of seconds/],
    [{ maxAge: -1 }, /options\.maxAge/],
    [{ public: true, private: true }, /options\.private/],
    [{ public: 'yes' }, /options\.public to be a boolean/],
    [{ maxage: '1m' }, /options\.maxage .*did you mean "maxAge"/],
  ])('refuses %j with an InvalidOptionError', (options, message) => {
    expect(() => cacheControl(options as never)).toThrow(InvalidOptionError)
    expect(() => cacheControl(options as never)).toThrow(message)
  })
})

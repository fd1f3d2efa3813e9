import { describe, expect, it } from 'vitest'
import * as http from '../src/index.js'

describe('@cachewire/http exports', () => {
  it('exposes the engine, option resolvers, helpers and the core names adapters need', () => {
    expect(Object.keys(http).sort()).toEqual(
      [
        'Cache',
        'CachewireError',
        'DEFAULT_CACHEABLE_STATUSES',
        'DecodeError',
        'Forward',
        'HttpCache',
        'InvalidArgumentError',
        'InvalidOptionError',
        'MemoryStore',
        'NEEDS_STORE',
        'createFrontDoor',
        'writeReply',
        'Reason',
        'cacheControl',
        'createHttpCache',
        'formatCacheStatus',
        'generateEtag',
        'isNotModified',
        'notModifiedHeaders',
        'parseCacheControl',
        'resolveHttpCacheOptions',
        'resolveRouteOptions',
        'Refresher',
        'readJsonBody',
        'RequestCache',
        'middlewareHelpers',
        'SAFE_METHODS',
        'REFRESH_HEADER',
        'EngineObserver',
        'DiagnosticsChannel',
        'createPurgeApi',
        'MIN_PURGE_TOKEN_LENGTH',
        'varnishPurger',
        'surrogateKeyRegex',
        'formatCacheControlField',
      ].sort()
    )
  })

  it('createHttpCache validates options at build time with an InvalidOptionError', () => {
    expect(() => http.createHttpCache({ maxVariants: 0 })).toThrow(http.InvalidOptionError)
    expect(() => http.createHttpCache({ maxVariants: 0 })).toThrow(http.CachewireError)
  })

  it('an engine built on a given cache uses it', () => {
    const cache = new http.Cache({ store: new http.MemoryStore() })
    expect(http.createHttpCache({ cache }).cache).toBe(cache)
  })
})

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as http from '../src/index.js'
import * as kit from '../src/kit.js'
import * as operations from '../src/operations.js'

describe('@cachewire/http entry points, split by audience', () => {
  it('the main entry holds the engine and what app authors need', () => {
    expect(Object.keys(http).sort()).toEqual(
      [
        'Cache',
        'CachewireError',
        'HttpCache',
        'InvalidArgumentError',
        'InvalidOptionError',
        'MemoryStore',
        'Reason',
        'cacheControl',
        'createHttpCache',
        'generateEtag',
        'isNotModified',
        'parseCacheControl',
        'resolveRoutePolicy',
      ].sort()
    )
  })

  it('names at most 45 things, types included', () => {
    const source = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8')
    const names = [...source.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((match) =>
      (match[1] as string)
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean)
    )
    expect(new Set(names).size).toBe(names.length)
    expect(names.length).toBeLessThanOrEqual(45)
  })

  it('the kit holds what adapter authors need', () => {
    for (const name of [
      'ServeLoop',
      'intercept',
      'captureLive',
      'bufferResponse',
      'conditionalResponse',
      'createFrontDoor',
      'Refresher',
      'compilePathRules',
      'cacheControlApplies',
      'errorStatus',
      'engineOptions',
      'engineRoute',
      'RequestCache',
    ]) {
      expect(kit, name).toHaveProperty(name)
    }
  })

  it('operations hold the purge API, health checks, the Varnish purger and the diagnostics and tracing channel names', () => {
    expect(Object.keys(operations).sort()).toEqual(
      [
        'DiagnosticsChannel',
        'HttpTracingChannel',
        'MIN_PURGE_TOKEN_LENGTH',
        'createHealthChecks',
        'createPurgeApi',
        'livenessAnswer',
        'readJsonBody',
        'surrogateKeyRegex',
        'varnishPurger',
      ].sort()
    )
  })

  it('otel holds the OpenTelemetry bridge', async () => {
    expect(Object.keys(await import('../src/otel.js'))).toEqual(['instrumentCachewire'])
  })

  it('createHttpCache validates options at build time with an InvalidOptionError', () => {
    expect(() => http.createHttpCache({ storage: { maxVariants: 0 } })).toThrow(
      http.InvalidOptionError
    )
    expect(() => http.createHttpCache({ storage: { maxVariants: 0 } })).toThrow(http.CachewireError)
  })

  it('an engine built on a given cache uses it', () => {
    const cache = new http.Cache({ store: new http.MemoryStore() })
    expect(http.createHttpCache({ storage: { cache } }).cache).toBe(cache)
  })
})

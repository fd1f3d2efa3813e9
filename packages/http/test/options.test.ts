import { Cache, InvalidOptionError, MemoryStore } from '@cachewire/core'
import { describe, expect, it } from 'vitest'
import { resolveHttpCacheOptions, resolveRouteOptions } from '../src/options.js'
import type { HttpCacheOptions } from '../src/types.js'

describe('resolveHttpCacheOptions(options)', () => {
  it('defaults', () => {
    const resolved = resolveHttpCacheOptions()
    expect(resolved.cache).toBeInstanceOf(Cache)
    expect(resolved.ttlMs).toBeUndefined()
    expect([...resolved.statuses]).toEqual([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501])
    expect(resolved.maxEntrySize).toBe(1_048_576)
    expect(resolved.hosts).toBeUndefined()
    expect(resolved.query.sort).toBe(true)
    expect(resolved.query.ignore('utm_campaign')).toBe(true)
    expect(resolved.query.ignore('fbclid')).toBe(true)
    expect(resolved.query.ignore('gclid')).toBe(true)
    expect(resolved.query.ignore('id')).toBe(false)
    expect([...resolved.methods]).toEqual(['GET', 'HEAD'])
    expect(resolved.allowCookies).toBe(false)
    expect(resolved.respectRequestNoCache).toBe(true)
    expect(resolved.staleWhileRevalidateMs).toBe(0)
    expect(resolved.staleIfErrorMs).toBe(0)
    expect(resolved.revalidationWindowMs).toBe(300_000)
    expect(resolved.etag).toBe('strong')
    expect(resolved.targetedCacheControl).toBeUndefined()
    expect(resolved.surrogateKeyHeader).toBe('surrogate-key')
    expect(resolved.cacheStatusName).toBe('cachewire')
    expect(resolved.debug).toBe(false)
    expect(resolved.coalesce).toEqual({ enabled: true, timeoutMs: 5000 })
    expect(resolved.maxVariants).toBe(32)
  })

  it('converts durations and lower-cases field names', () => {
    const resolved = resolveHttpCacheOptions({
      ttl: '5m',
      staleWhileRevalidate: '30s',
      staleIfError: 1000,
      revalidationWindow: false,
      targetedCacheControl: 'CDN-Cache-Control',
      surrogateKeyHeader: false,
    })
    expect(resolved.ttlMs).toBe(300_000)
    expect(resolved.staleWhileRevalidateMs).toBe(30_000)
    expect(resolved.staleIfErrorMs).toBe(1000)
    expect(resolved.revalidationWindowMs).toBe(0)
    expect(resolved.targetedCacheControl).toBe('cdn-cache-control')
    expect(resolved.surrogateKeyHeader).toBeUndefined()
  })

  it('uses the given cache, or builds one on the given store', () => {
    const cache = new Cache()
    expect(resolveHttpCacheOptions({ cache }).cache).toBe(cache)
    const store = new MemoryStore()
    expect(resolveHttpCacheOptions({ store }).cache.store).toBe(store)
  })

  it('returns an already resolved object unchanged', () => {
    const resolved = resolveHttpCacheOptions({ ttl: '1m' })
    expect(resolveHttpCacheOptions(resolved)).toBe(resolved)
  })

  const invalid: Array<[string, HttpCacheOptions, RegExp]> = [
    ['ttl', { ttl: 'soon' as never }, /expected options\.ttl to be/],
    ['ttl', { ttl: -1 }, /options\.ttl/],
    ['cache', { cache: {} as never }, /expected options\.cache to be a Cache/],
    ['store', { store: {} as never }, /options\.store/],
    ['statuses', { statuses: 'all' as never }, /options\.statuses/],
    ['statuses[1]', { statuses: [200, 99] }, /options\.statuses\[1\]/],
    ['maxEntrySize', { maxEntrySize: 0 }, /options\.maxEntrySize to be a positive integer, got 0/],
    ['hosts', { hosts: 'example.com' as never }, /options\.hosts/],
    ['hosts[0]', { hosts: ['exa mple.com'] }, /options\.hosts\[0\]/],
    ['hosts[0] with a port', { hosts: ['example.com:80'] }, /options\.hosts\[0\]/],
    ['query', { query: 1 as never }, /options\.query/],
    ['query.sort', { query: { sort: 'yes' as never } }, /options\.query\.sort/],
    ['query.ignore[0]', { query: { ignore: [''] } }, /options\.query\.ignore\[0\]/],
    ['key', { key: 'x' as never }, /options\.key to be a function/],
    ['methods', { methods: [] }, /options\.methods/],
    ['methods[0]', { methods: ['POST' as never] }, /options\.methods\[0\]/],
    ['allowCookies', { allowCookies: 1 as never }, /options\.allowCookies to be a boolean/],
    ['respectRequestNoCache', { respectRequestNoCache: 'no' as never }, /options\.respectRequestNoCache/],
    ['staleWhileRevalidate', { staleWhileRevalidate: true as never }, /options\.staleWhileRevalidate/],
    ['staleIfError', { staleIfError: 'x' as never }, /options\.staleIfError/],
    ['etag', { etag: 'md5' as never }, /options\.etag to be "strong", "weak" or false/],
    ['targetedCacheControl', { targetedCacheControl: 'bad name' }, /options\.targetedCacheControl/],
    ['targetedCacheControl cannot be Cache-Control itself', { targetedCacheControl: 'Cache-Control' }, /options\.targetedCacheControl/],
    ['surrogateKeyHeader', { surrogateKeyHeader: 'a:b' }, /options\.surrogateKeyHeader/],
    ['cacheStatusName', { cacheStatusName: 'my cache' }, /options\.cacheStatusName/],
    ['debug', { debug: 1 as never }, /options\.debug/],
    ['coalesce', { coalesce: 'yes' as never }, /options\.coalesce/],
    ['coalesce.timeoutMs', { coalesce: { timeoutMs: -5 } }, /options\.coalesce\.timeoutMs/],
    ['maxVariants', { maxVariants: 1.5 }, /options\.maxVariants/],
    ['tags', { tags: 'a' as never }, /options\.tags/],
    ['tags[0]', { tags: [''] }, /options\.tags\[0\]/],
    ['clock', { clock: 5 as never }, /options\.clock/],
    ['onError', { onError: 5 as never }, /options\.onError/],
  ]
  for (const [name, options, message] of invalid) {
    it(`rejects a bad ${name} with an InvalidOptionError naming it`, () => {
      expect(() => resolveHttpCacheOptions(options)).toThrow(InvalidOptionError)
      expect(() => resolveHttpCacheOptions(options)).toThrow(message)
    })
  }

  it('rejects a non-object', () => {
    expect(() => resolveHttpCacheOptions(null as never)).toThrow(InvalidOptionError)
  })
})

describe('resolveRouteOptions(options)', () => {
  it('resolves durations and keeps functions', () => {
    const key = (): string => 'k'
    const route = resolveRouteOptions({ ttl: '1m', staleWhileRevalidate: false, staleIfError: '1h', allowCookies: true, tags: ['a'], key })
    expect(route).toEqual({ ttlMs: 60_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 3_600_000, allowCookies: true, tags: ['a'], key })
  })

  it('leaves unset overrides undefined so engine options apply', () => {
    expect(resolveRouteOptions()).toEqual({
      ttlMs: undefined,
      staleWhileRevalidateMs: undefined,
      staleIfErrorMs: undefined,
      allowCookies: undefined,
      tags: undefined,
      key: undefined,
    })
  })

  it.each([
    [{ ttl: 'x' as never }, /options\.ttl/],
    [{ allowCookies: 'yes' as never }, /options\.allowCookies/],
    [{ key: 1 as never }, /options\.key/],
    [{ tags: [1 as never] }, /options\.tags\[0\]/],
  ])('rejects %j', (options, message) => {
    expect(() => resolveRouteOptions(options)).toThrow(message)
  })
})

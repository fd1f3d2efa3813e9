import diagnosticsChannel from 'node:diagnostics_channel'
import express from 'express'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { Cache, MemoryStore, cacheMiddleware } from '@cachewire/express'
import { Reason } from '@cachewire/http'
import { DiagnosticsChannel } from '@cachewire/http/operations'
import { createPrometheusMetrics } from '@cachewire/http/metrics'
import { listen, request } from '../helpers/servers.js'

function appWith(middleware: ReturnType<typeof cacheMiddleware>): express.Express {
  const app = express()
  app.use(middleware)
  app.get('/products', (_req, res) => res.json({ items: [1, 2, 3] }))
  app.get('/private', (_req, res) => res.set('cache-control', 'private').send('mine'))
  app.post('/products', (_req, res) => res.send('created'))
  return app
}

/** The scripted traffic every test here counts against. */
async function scriptedTraffic(
  url: string,
  middleware: ReturnType<typeof cacheMiddleware>
): Promise<void> {
  await request(`${url}/products`) // miss, stored
  await middleware.whenIdle()
  await request(`${url}/products`) // hit
  await request(`${url}/products`) // hit
  await request(`${url}/private`) // miss, not stored: private
  await request(`${url}/products`, { method: 'POST' }) // bypass: method (and invalidates /products)
  await request(`${url}/products`, { headers: { cookie: 'a=1' } }) // bypass: cookie
  await middleware.whenIdle()
}

const unsubscribe: Array<() => void> = []
afterEach(() => {
  for (const stop of unsubscribe.splice(0)) stop()
})

function collect(channel: string): unknown[] {
  const seen: unknown[] = []
  const listener = (message: unknown): void => void seen.push(message)
  diagnosticsChannel.subscribe(channel, listener)
  unsubscribe.push(() => diagnosticsChannel.unsubscribe(channel, listener))
  return seen
}

describe('engine counters after scripted traffic', () => {
  it('count hits, misses, bypasses and not-stored reasons with Cache-Status words', async () => {
    const middleware = cacheMiddleware({
      ttl: '1m',
      storage: { cache: new Cache({ store: new MemoryStore() }) },
    })
    const { url } = await listen(appWith(middleware))
    await scriptedTraffic(url, middleware)
    const stats = middleware.engine.observer.stats()
    expect(stats.lookups).toEqual({ hit: 2, stale: 0, miss: 2, revalidated: 0, bypass: 2 })
    expect(stats.hitRate).toBe(0.5)
    expect(stats.bypassReasons).toEqual({ [Reason.Method]: 1, [Reason.Cookie]: 1 })
    expect(stats.notStoredReasons).toEqual({ [Reason.Private]: 1 })
    expect(stats.stores).toBe(1)
    expect(stats.invalidated).toBe(1) // the POST removed the stored /products
    expect(stats.topPaths.byHits[0]).toMatchObject({ path: '/products', hits: 2 })
    expect(stats.topPaths.byHits[0]?.bytes).toBeGreaterThan(0)
    expect(stats.recentReasons.map((entry) => entry.reason)).toEqual([
      'cookie',
      'method',
      'private',
    ])
  })

  it('keep paths only: never the query', async () => {
    const middleware = cacheMiddleware({ ttl: '1m' })
    const { url } = await listen(appWith(middleware))
    await request(`${url}/products?email=ada@example.com`)
    await middleware.whenIdle()
    await request(`${url}/products?email=ada@example.com`)
    expect(JSON.stringify(middleware.engine.observer.stats())).not.toContain('ada@example.com')
  })
})

describe('diagnostics_channel events', () => {
  it('publish lookup, bypass, store and invalidate messages', async () => {
    const lookups = collect(DiagnosticsChannel.Lookup)
    const bypasses = collect(DiagnosticsChannel.Bypass)
    const stores = collect(DiagnosticsChannel.Store)
    const invalidations = collect(DiagnosticsChannel.Invalidate)
    const middleware = cacheMiddleware({ ttl: '1m', tags: ['catalog'] })
    const { url } = await listen(appWith(middleware))
    await scriptedTraffic(url, middleware)
    await middleware.invalidateTags(['catalog'])
    expect(lookups).toEqual([
      { result: 'miss', method: 'GET', path: '/products' },
      { result: 'hit', method: 'GET', path: '/products' },
      { result: 'hit', method: 'GET', path: '/products' },
      { result: 'miss', method: 'GET', path: '/private' },
    ])
    expect(bypasses).toEqual([
      { reason: 'method', method: 'POST', path: '/products' },
      { reason: 'cookie', method: 'GET', path: '/products' },
    ])
    expect(stores).toHaveLength(2)
    expect(stores[0]).toMatchObject({ stored: true, path: '/products', reason: undefined })
    expect((stores[0] as { bytes: number }).bytes).toBeGreaterThan(0)
    expect(stores[1]).toEqual({
      stored: false,
      reason: 'private',
      path: '/private',
      bytes: 0,
      durationMs: 0,
    })
    expect(invalidations).toContainEqual({ tags: ['catalog'], removed: 0 })
    expect(invalidations).toHaveLength(2)
  })

  it('build no message when nobody subscribes', async () => {
    const middleware = cacheMiddleware({ ttl: '1m' })
    const { url } = await listen(appWith(middleware))
    await request(`${url}/products`)
    expect(diagnosticsChannel.hasSubscribers(DiagnosticsChannel.Lookup)).toBe(false)
  })
})

describe('createPrometheusMetrics({ engine })', () => {
  it('exports the counters, gauges and store latency after scripted traffic', async () => {
    const store = new MemoryStore()
    const middleware = cacheMiddleware({ ttl: '1m', storage: { cache: new Cache({ store }) } })
    const metrics = createPrometheusMetrics({
      engine: middleware.engine,
      writeBehind: {
        stats: () => ({
          queued: 3,
          persisted: 0,
          retried: 0,
          failed: 1,
          writtenThrough: 0,
          replayed: 0,
        }),
      },
    })
    const { url } = await listen(appWith(middleware))
    await scriptedTraffic(url, middleware)
    const text = await metrics.register.metrics()
    expect(text).toContain('cachewire_lookups_total{result="hit"} 2')
    expect(text).toContain('cachewire_lookups_total{result="miss"} 2')
    expect(text).toContain('cachewire_lookups_total{result="stale"} 0')
    expect(text).toContain('cachewire_bypasses_total{reason="method"} 1')
    expect(text).toContain('cachewire_bypasses_total{reason="cookie"} 1')
    expect(text).toContain('cachewire_not_stored_total{reason="private"} 1')
    expect(text).toContain('cachewire_stores_total 1')
    expect(text).toContain('cachewire_store_duration_seconds_count 1')
    expect(text).toContain('cachewire_breaker_state{state="closed"} 1')
    expect(text).toContain('cachewire_breaker_state{state="open"} 0')
    expect(text).toContain('cachewire_write_behind_queue_depth 3')
    expect(text).toContain('cachewire_write_behind_failed_total 1')
    expect(text).toContain('cachewire_evictions_total 0')
    // The POST invalidated the one stored entry.
    expect(text).toContain('cachewire_entries 0')
    metrics.close()
    expect((await metrics.register.metrics()).trim()).toBe('')
  })

  it('counts evictions, entries and bytes from a core cache alone', async () => {
    const cache = new Cache({ store: new MemoryStore({ maxBytes: 4096 }) })
    const register = new Registry()
    createPrometheusMetrics({ cache, register, prefix: 'app_cache_' })
    for (let i = 0; i < 20; i++) await cache.set(`k${i}`, 'x'.repeat(400))
    await cache.get('k19')
    await cache.get('k0')
    const text = await register.metrics()
    expect(text).toContain('app_cache_lookups_total{result="hit"} 1')
    expect(text).toContain('app_cache_lookups_total{result="miss"} 1')
    expect(Number(/app_cache_evictions_total (\d+)/.exec(text)?.[1])).toBeGreaterThan(0)
    expect(Number(/app_cache_entries (\d+)/.exec(text)?.[1])).toBeGreaterThan(0)
    expect(Number(/app_cache_bytes (\d+)/.exec(text)?.[1])).toBeGreaterThan(0)
  })

  it('rejects a missing engine and cache when built', () => {
    expect(() => createPrometheusMetrics({})).toThrow(/options\.engine/)
  })
})

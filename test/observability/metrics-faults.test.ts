/**
 * Faults as Prometheus shows them: a private redis-server frozen (SIGSTOP) under an Express app
 * must show up as store timeouts by operation and node, a breaker that opens and closes again
 * (state per node and transitions), dropped calls and per-route hit ratios; entries and bytes
 * from a store that can measure its server. The full metric list is printed for the record.
 */
import express from 'express'
import { Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client'
import { describe, expect, it, vi } from 'vitest'
import { Cache, MemoryStore, type Store } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { responseCache } from '@cachewire/express'
import { createPrometheusMetrics } from '@cachewire/http/metrics'
import { startRedisProcess } from '../helpers/redis-process.js'
import { listen, request } from '../helpers/servers.js'

/** The value of one sample, by its exact labels; undefined when absent. */
function sample(
  metrics: MetricObjectWithValues<MetricValue<string>>[],
  name: string,
  labels: Record<string, string> = {}
): number | undefined {
  const metric = metrics.find((candidate) => candidate.name === name)
  const found = metric?.values.find(
    (value) =>
      Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted) &&
      Object.keys(value.labels).length === Object.keys(labels).length
  )
  return found?.value
}

/** One line per metric: name, type, labels, help (for the lead's note). */
function listing(
  register: Registry,
  metrics: MetricObjectWithValues<MetricValue<string>>[]
): string {
  return metrics
    .map((metric) => {
      const labels =
        (register.getSingleMetric(metric.name) as unknown as { labelNames?: string[] })
          .labelNames ?? []
      return `${metric.name} | ${metric.type} | ${labels.join(', ') || '-'} | ${metric.help}`
    })
    .join('\n')
}

describe('Prometheus metrics that show faults', () => {
  it('a frozen Redis: timeouts by operation and node, the breaker opening and closing, drops, per-route hit ratios', async () => {
    const redis = await startRedisProcess()
    // A deadline long enough for a loaded machine: only the frozen server may miss it.
    // The breakers live in the store (issue 13): one per node and direction; reads are what fail here.
    const store = new RedisStore({
      url: redis.url,
      timeout: '500ms',
      breaker: { failureThreshold: 2, breakDuration: '300ms' },
    })
    const cache = responseCache({ ttl: '1m', storage: { cache: new Cache({ store }) } })
    const app = express()
    app.get('/products', cache.route({ name: 'products' }), (_req, res) => res.json([1, 2, 3]))
    app.get('/users/:id', cache.route({ name: 'user' }), (req, res) =>
      res.json({ id: req.params.id })
    )
    const { url } = await listen(app)
    const register = new Registry()
    const metrics = createPrometheusMetrics({ engine: cache.engine, register })

    await request(`${url}/products`)
    await cache.whenIdle()
    for (let i = 0; i < 3; i++) await request(`${url}/products`)
    await request(`${url}/users/1`)
    await cache.whenIdle()
    let json = await register.getMetricsAsJSON()
    expect(
      sample(json, 'cachewire_route_lookups_total', { route: 'products', result: 'hit' })
    ).toBe(3)
    expect(
      sample(json, 'cachewire_route_lookups_total', { route: 'products', result: 'miss' })
    ).toBe(1)
    expect(sample(json, 'cachewire_route_lookups_total', { route: 'user', result: 'miss' })).toBe(1)
    expect(
      sample(json, 'cachewire_store_operation_duration_seconds', {
        store: 'redis',
        operation: 'get',
        le: '+Inf',
      })
    ).toBeGreaterThanOrEqual(5)
    expect(
      sample(json, 'cachewire_store_operation_duration_seconds', {
        store: 'redis',
        operation: 'set',
        le: '+Inf',
      })
    ).toBe(2)
    expect(
      sample(json, 'cachewire_node_breaker_state', {
        node: `127.0.0.1:${redis.port}`,
        direction: 'read',
        state: 'closed',
      })
    ).toBe(1)
    // Counted on the Redis server: the two entries and the URL's tag record are keys of this store.
    expect(
      sample(json, 'cachewire_store_server_entries', { store: 'redis' })
    ).toBeGreaterThanOrEqual(2)
    expect(sample(json, 'cachewire_store_server_bytes', { store: 'redis' })).toBeGreaterThan(0)

    redis.freeze()
    for (let i = 0; i < 6; i++) expect((await request(`${url}/products`)).status).toBe(200)
    json = await register.getMetricsAsJSON()
    const node = `127.0.0.1:${redis.port}`
    expect(
      sample(json, 'cachewire_store_errors_total', {
        store: 'redis',
        operation: 'get',
        node,
        type: 'timeout',
      })
    ).toBeGreaterThanOrEqual(2)
    expect(
      sample(json, 'cachewire_breaker_transitions_total', { node, direction: 'read', to: 'open' })
    ).toBeGreaterThanOrEqual(1)
    expect(
      sample(json, 'cachewire_node_breaker_state', { node, direction: 'read', state: 'open' }) +
        sample(json, 'cachewire_node_breaker_state', {
          node,
          direction: 'read',
          state: 'half-open',
        })
    ).toBe(1)
    expect(sample(json, 'cachewire_breaker_state', { state: 'closed' })).toBe(0)
    expect(
      sample(json, 'cachewire_store_dropped_total', { direction: 'read', reason: 'breaker-open' })
    ).toBeGreaterThan(0)
    expect(
      sample(json, 'cachewire_route_lookups_total', { route: 'products', result: 'miss' })
    ).toBe(7)

    redis.thaw()
    await vi.waitFor(
      async () => {
        await request(`${url}/products`)
        expect(
          sample(await register.getMetricsAsJSON(), 'cachewire_breaker_transitions_total', {
            node,
            direction: 'read',
            to: 'closed',
          })
        ).toBeGreaterThanOrEqual(1)
      },
      { timeout: 8_000, interval: 100 }
    )
    json = await register.getMetricsAsJSON()
    expect(
      sample(json, 'cachewire_breaker_transitions_total', {
        node,
        direction: 'read',
        to: 'half-open',
      })
    ).toBeGreaterThanOrEqual(1)
    expect(
      sample(json, 'cachewire_node_breaker_state', { node, direction: 'read', state: 'closed' })
    ).toBe(1)
    // Closed by the probe's answer: from half-open, or from open when the answer came after the probe's deadline.
    const details = cache.engine.observer.stats().faults.map((fault) => fault.detail)
    expect(details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^closed → open/),
        expect.stringMatching(/^open → half-open/),
      ])
    )
    expect(details.some((detail) => /^(half-open|open) → closed/.test(detail))).toBe(true)
    console.info(
      `metrics exported for an engine (name | type | labels | help):\n${listing(register, json)}`
    )
    metrics.close()
    expect((await register.metrics()).trim()).toBe('')
    await cache.close()
    await store.close()
  })

  it('counts errors of a failing invalidation, and invalidations applied', async () => {
    const redis = await startRedisProcess()
    const store = new RedisStore({ url: redis.url, timeout: '1s', bulkTimeout: '1s' })
    const cache = new Cache({ store })
    cache.on('error', () => {})
    const register = new Registry()
    createPrometheusMetrics({ cache, register })
    await cache.set('a', 1, { tags: ['t'] })
    expect(await cache.invalidateTags(['t'])).toEqual({ status: 'applied', removed: 1 })
    redis.freeze()
    // Not lost (issue 13): queued, and applied once Redis answers again.
    expect(await cache.invalidateTags(['t'])).toEqual({ status: 'queued', removed: 0 })
    redis.thaw()
    expect((await cache.whenIdle()).drained).toBe(true)
    const json = await register.getMetricsAsJSON()
    expect(
      sample(json, 'cachewire_store_errors_total', {
        store: 'redis',
        operation: 'invalidateTags',
        node: `127.0.0.1:${redis.port}`,
        type: 'timeout',
      })
    ).toBe(1)
    // Every applied invalidation emits `invalidate` (counted as applied), the queued one late too.
    expect(sample(json, 'cachewire_invalidations_total', { status: 'applied' })).toBe(2)
    expect(sample(json, 'cachewire_invalidations_total', { status: 'queued' })).toBe(1)
    expect(sample(json, 'cachewire_invalidations_total', { status: 'applied_late' })).toBe(1)
    expect(sample(json, 'cachewire_pending_operations')).toBe(0)
    await cache.close()
  })

  it('exports entries and bytes measured on the server where the store can measure, and none where it cannot', async () => {
    class MeasuredStore extends MemoryStore {
      measured = 0
      async measure(): Promise<{
        entries: number
        bytes: number
        exact: boolean
        measuredAt: number
      }> {
        this.measured++
        return { entries: 1234, bytes: 56789, exact: true, measuredAt: Date.now() }
      }
    }
    const measuredStore = new MeasuredStore()
    const register = new Registry()
    createPrometheusMetrics({ cache: new Cache({ store: measuredStore }), register })
    await register.metrics()
    const text = await register.metrics()
    expect(text).toContain('cachewire_store_server_entries{store="memory"} 1234')
    expect(text).toContain('cachewire_store_server_bytes{store="memory"} 56789')
    // Two scrapes within 30 s ask the server once.
    expect(measuredStore.measured).toBe(1)

    const plain: Store = new MemoryStore()
    const other = new Registry()
    createPrometheusMetrics({ cache: new Cache({ store: plain }), register: other })
    const otherText = await other.metrics()
    expect(otherText).toContain('# TYPE cachewire_store_server_entries gauge')
    expect(otherText).not.toMatch(/^cachewire_store_server_entries\{/m)
  })
})

import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { InvalidOptionError, type Cache, type WriteBehind } from '@cachewire/core'
import type { HttpCache } from '../engine/http-cache.js'
import { storeMetrics } from './prometheus-store-metrics.js'

export interface PrometheusMetricsOptions {
  /** The engine to export (request outcomes, reasons, stores and its core cache). Give this or `cache`. */
  engine?: HttpCache | undefined
  /** A core cache alone (hits, misses, entries, bytes, evictions, breaker), when there is no engine. */
  cache?: Cache | undefined
  /** Registry to add the metrics to. @default a new `Registry` (see `register` on the result) */
  register?: Registry | undefined
  /** Prefix of every metric name. @default 'cachewire_' */
  prefix?: string | undefined
  /** A write-behind writer whose queue depth and failures to export. */
  writeBehind?: Pick<WriteBehind<never>, 'stats'> | undefined
  /** Latency histogram buckets (response writes, store calls), in seconds. @default [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] */
  buckets?: number[] | undefined
}

export interface PrometheusMetrics {
  /** The registry the metrics live in: serve `await register.metrics()` as text/plain on /metrics. */
  register: Registry
  /** Removes the metrics from the registry and stops listening to the engine. */
  close(): void
}

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const

/**
 * Prometheus metrics for an engine or a cache, on `prom-client` (an optional peer dependency:
 * install it to use this entry). Counts are read from the engine's and the cache's counters when
 * Prometheus scrapes; store call latency and errors come from the `cachewire:core.store` tracing
 * channel, so while this exporter lives each store call pays for one traced call. The full list,
 * with types and labels, is in the package README ("Observability").
 *
 * @example
 * ```ts
 * import { createPrometheusMetrics } from '@cachewire/http/metrics'
 * const metrics = createPrometheusMetrics({ engine: middleware.engine })
 * app.get('/metrics', async (req, res) => res.type('text/plain').send(await metrics.register.metrics()))
 * ```
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions): PrometheusMetrics {
  const engine = options.engine
  const cache = engine?.cache ?? options.cache
  if (cache === undefined)
    throw new InvalidOptionError(
      'engine',
      'an HttpCache (or options.cache, a Cache)',
      options.engine
    )
  const prefix = options.prefix ?? 'cachewire_'
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))
    throw new InvalidOptionError('prefix', 'a Prometheus metric name prefix', prefix)
  const register = options.register ?? new Registry()
  const registers = [register]
  const names: string[] = []
  const name = (suffix: string): string => {
    names.push(prefix + suffix)
    return prefix + suffix
  }
  const writeBehind = options.writeBehind
  const buckets = options.buckets ?? [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

  new Counter({
    name: name('lookups_total'),
    help: 'Requests answered, by result: hit, stale (served stale), miss, revalidated, bypass. Without an engine: core cache hits and misses.',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset()
      if (engine === undefined) {
        const stats = cache.stats()
        this.inc({ result: 'hit' }, stats.hits)
        this.inc({ result: 'miss' }, stats.misses)
        return
      }
      for (const [result, count] of Object.entries(engine.observer.stats(0).lookups))
        this.inc({ result }, count)
    },
  })
  if (engine !== undefined) {
    const reasons = (
      metric: string,
      help: string,
      pick: 'bypassReasons' | 'notStoredReasons'
    ): void => {
      new Counter({
        name: name(metric),
        help,
        labelNames: ['reason'],
        registers,
        collect() {
          this.reset()
          for (const [reason, count] of Object.entries(engine.observer.stats(0)[pick]))
            this.inc({ reason }, count)
        },
      })
    }
    reasons(
      'bypasses_total',
      'Requests that went around the cache, by reason (the Cache-Status detail words).',
      'bypassReasons'
    )
    reasons(
      'not_stored_total',
      'Responses not stored, by reason (the Cache-Status detail words).',
      'notStoredReasons'
    )
    new Counter({
      name: name('route_lookups_total'),
      help: 'Requests answered per route policy name (default: no route; unnamed: a route without a name), by result; hit ratio = (hit + stale) / (hit + stale + miss + revalidated).',
      labelNames: ['route', 'result'],
      registers,
      collect() {
        this.reset()
        for (const { route, hit, stale, miss, revalidated, bypass } of engine.observer.stats(0)
          .routes) {
          for (const [result, count] of Object.entries({ hit, stale, miss, revalidated, bypass }))
            this.inc({ route, result }, count)
        }
      },
    })
    new Counter({
      name: name('purges_total'),
      help: 'Purges through the purge API, by kind (url, tags, namespace); dry runs excluded.',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset()
        for (const [kind, count] of Object.entries(engine.observer.stats(0).purges))
          this.inc({ kind }, count)
      },
    })
  }
  new Counter({
    name: name('stores_total'),
    help: 'Entries written to the store.',
    registers,
    collect() {
      this.reset()
      this.inc(engine !== undefined ? engine.observer.stats(0).stores : cache.stats().sets)
    },
  })
  new Counter({
    name: name('evictions_total'),
    help: 'Entries evicted to make room (stores that can tell: memory).',
    registers,
    collect() {
      this.reset()
      this.inc(cache.stats().evictions ?? 0)
    },
  })
  new Gauge({
    name: name('entries'),
    help: "Entries held, as cache.stats() tells (memory and a tiered store's L1: live entries; Redis: its last measurement, see store_server_entries); 0 where it cannot tell.",
    registers,
    collect() {
      this.set(cache.stats().entries ?? 0)
    },
  })
  new Gauge({
    name: name('bytes'),
    help: "Bytes held, as cache.stats() tells (memory and a tiered store's L1; Redis: its last measurement, see store_server_bytes); 0 where it cannot tell.",
    registers,
    collect() {
      this.set(cache.stats().bytes ?? 0)
    },
  })
  new Gauge({
    name: name('breaker_state'),
    help: "Circuit breaker state (the worst of the store's breakers; per node: node_breaker_state): 1 for the current state, 0 for the others.",
    labelNames: ['state'],
    registers,
    collect() {
      const state = cache.stats().breaker
      for (const candidate of BREAKER_STATES)
        this.set({ state: candidate }, candidate === state ? 1 : 0)
    },
  })
  if (writeBehind !== undefined) {
    new Gauge({
      name: name('write_behind_queue_depth'),
      help: 'Write-behind writes waiting to be persisted.',
      registers,
      collect() {
        this.set(writeBehind.stats().queued)
      },
    })
    new Counter({
      name: name('write_behind_failed_total'),
      help: 'Write-behind writes given up after every retry.',
      registers,
      collect() {
        this.reset()
        this.inc(writeBehind.stats().failed)
      },
    })
  }
  const histogram = new Histogram({
    name: name('store_duration_seconds'),
    help: 'Time to write a response to the store (per store call: store_operation_duration_seconds).',
    buckets,
    registers,
  })
  const stopListening = engine?.observer.onStore((message) =>
    histogram.observe(message.durationMs / 1000)
  )
  const stopStore = storeMetrics({ name, registers, buckets }, cache)
  return {
    register,
    close() {
      stopListening?.()
      stopStore()
      for (const metric of names) register.removeSingleMetric(metric)
    },
  }
}

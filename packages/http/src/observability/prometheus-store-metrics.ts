import diagnosticsChannel from 'node:diagnostics_channel'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import {
  CoreTracingChannel,
  StoreUnavailableError,
  withDeadline,
  type Cache,
  type CacheEvents,
  type Store,
  type StoreTraceContext,
} from '@cachewire/core'

/** What the store metrics are built with. */
export interface StoreMetricsKit {
  /** Registers a metric name (prefixed) for removal on close. */
  name(suffix: string): string
  registers: Registry[]
  /** Histogram buckets, in seconds. */
  buckets: number[]
}

/** What `stats()` may hold beyond today's core fields, read only when present. */
interface ExtendedStats {
  breaker: 'closed' | 'open' | 'half-open'
  skipped: number
  entries: number | undefined
  bytes: number | undefined
  breakers?: ReadonlyArray<{ node: string; direction: string; state: string }>
  pendingOperations?: number
  queuedInvalidations?: number
  dropped?: Record<string, Record<string, number>>
}

/** What a store or cache may offer for entries and bytes counted by the server (Redis). */
type Measure = () => Promise<{ entries: number; bytes: number } | undefined>

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const
/** Server-side counts are asked for at most this often (a scrape every 15 s would otherwise SCAN every time). */
const MEASURE_INTERVAL_MS = 30_000
/** Longest a scrape waits for the server's counts. */
const MEASURE_TIMEOUT_MS = 2_000

/** Loose listener registration, for events a cache may or may not emit. */
type Listen = (event: string, listener: (payload: never) => void) => unknown

/**
 * Metrics of the store under a cache: one latency histogram per store operation and errors and
 * timeouts by operation and node (from the `cachewire:core.store` tracing channel), calls the
 * store did not send, breakers per node and their transitions, pending operations and queued
 * invalidations (from `stats()` where the cache reports them), and entries and bytes counted by
 * the server where the store can measure them. Returns the function that stops listening.
 *
 * @example
 * ```ts
 * const stop = storeMetrics(kit, cache)
 * ```
 */
export function storeMetrics(kit: StoreMetricsKit, cache: Cache): () => void {
  const { name, registers } = kit
  const store = cache.store
  const node = defaultNode(store)
  const stats = (): ExtendedStats => cache.stats() as ExtendedStats
  let inFlight = 0

  const duration = new Histogram({
    name: name('store_operation_duration_seconds'),
    help: 'Time of each store call the cache made, by operation (get, set, delete, invalidateTags…), failed calls included.',
    labelNames: ['store', 'operation'],
    buckets: kit.buckets,
    registers,
  })
  const errors = new Counter({
    name: name('store_errors_total'),
    help: 'Store calls that failed, by operation, node (host:port; the store name when it cannot tell) and type: timeout (past its deadline) or error.',
    labelNames: ['store', 'operation', 'node', 'type'],
    registers,
  })
  const started = new WeakMap<object, number>()
  const settle = (context: StoreTraceContext): void => {
    const at = started.get(context)
    if (at === undefined) return
    started.delete(context)
    inFlight--
    duration.observe(
      { store: store.name, operation: context.operation },
      (performance.now() - at) / 1000
    )
  }
  const channel = diagnosticsChannel.tracingChannel<
    unknown,
    StoreTraceContext & { error?: unknown; result?: unknown }
  >(CoreTracingChannel.Store)
  const subscribers: diagnosticsChannel.TracingChannelSubscribers<
    StoreTraceContext & { error?: unknown; result?: unknown }
  > = {
    start: (context) => {
      if (context.store !== store) return
      started.set(context, performance.now())
      inFlight++
    },
    asyncStart: () => {},
    end: (context) => {
      if ('error' in context || 'result' in context) settle(context)
    },
    asyncEnd: settle,
    error: (context) => {
      // A call the store did not send (breaker open, queue full) is a drop, counted from stats().
      if (context.store !== store || context.error instanceof StoreUnavailableError) return
      const code = (context.error as { code?: unknown } | undefined)?.code
      const failedOn = (context.error as { node?: unknown } | undefined)?.node
      errors.inc({
        store: store.name,
        operation: context.operation,
        node: typeof failedOn === 'string' ? failedOn : node,
        type: code === 'CACHEWIRE_STORE_TIMEOUT' ? 'timeout' : 'error',
      })
    },
  }
  channel.subscribe(subscribers)

  new Counter({
    name: name('store_dropped_total'),
    help: 'Store calls not sent, by direction (read, write; any where the store does not tell) and reason (breaker-open, queue-full, queue-timeout). A dropped read is a miss; a dropped write is an entry not stored.',
    labelNames: ['direction', 'reason'],
    registers,
    collect() {
      this.reset()
      const snapshot = stats()
      if (snapshot.dropped === undefined) {
        this.inc({ direction: 'any', reason: 'breaker-open' }, snapshot.skipped)
        return
      }
      for (const [direction, reasons] of Object.entries(snapshot.dropped)) {
        for (const [reason, count] of Object.entries(reasons))
          this.inc({ direction, reason }, count)
      }
    },
  })
  new Gauge({
    name: name('node_breaker_state'),
    help: 'Each circuit breaker by node and direction (any: one breaker for the whole store): 1 for its current state, 0 for the others.',
    labelNames: ['node', 'direction', 'state'],
    registers,
    collect() {
      this.reset()
      const snapshot = stats()
      const breakers =
        snapshot.breakers !== undefined && snapshot.breakers.length > 0
          ? snapshot.breakers
          : [{ node, direction: 'any', state: snapshot.breaker }]
      for (const breaker of breakers) {
        for (const state of BREAKER_STATES)
          this.set(
            { node: breaker.node, direction: breaker.direction, state },
            breaker.state === state ? 1 : 0
          )
      }
    },
  })
  const transitions = new Counter({
    name: name('breaker_transitions_total'),
    help: 'Circuit breaker changes of state, by node, direction and the state entered (open: the store is skipped; half-open: a probe goes; closed: it answers again).',
    labelNames: ['node', 'direction', 'to'],
    registers,
  })
  const onBreaker = (event: CacheEvents['breaker'][0]): void => {
    transitions.inc({ node: event.node ?? node, direction: event.direction ?? 'any', to: event.to })
  }
  new Gauge({
    name: name('pending_operations'),
    help: "Store operations not finished: calls on the wire, waiting in the store's queue, and invalidations waiting to be retried.",
    registers,
    collect() {
      this.set(stats().pendingOperations ?? inFlight)
    },
  })
  new Gauge({
    name: name('queued_invalidations'),
    help: 'Invalidations waiting for the store to come back (caches that queue them; purged entries are hidden from reads meanwhile).',
    registers,
    collect() {
      this.set(stats().queuedInvalidations ?? 0)
    },
  })
  const invalidations = new Counter({
    name: name('invalidations_total'),
    help: 'Invalidations by status: applied (the store removed the entries), queued (the store could not be reached: kept and retried), applied_late (a queued one went through).',
    labelNames: ['status'],
    registers,
  })
  for (const status of ['applied', 'queued', 'applied_late']) invalidations.inc({ status }, 0)
  const listeners: Array<[string, (payload: never) => void]> = [
    ['breaker', onBreaker],
    ['invalidate', () => invalidations.inc({ status: 'applied' })],
    ['invalidation-queued', () => invalidations.inc({ status: 'queued' })],
    ['invalidation-applied', () => invalidations.inc({ status: 'applied_late' })],
  ]
  for (const [event, listener] of listeners)
    (cache.on as unknown as Listen).call(cache, event, listener)

  const measure = measurer(cache)
  new Gauge({
    name: name('store_server_entries'),
    help: "Entries counted by the store's server (Redis: exact when small, sampled when large), asked at most every 30 s; no sample when the store cannot measure.",
    labelNames: ['store'],
    registers,
    async collect() {
      this.reset()
      const measured = await measure()
      if (measured !== undefined) this.set({ store: store.name }, measured.entries)
    },
  })
  new Gauge({
    name: name('store_server_bytes'),
    help: "Bytes held on the store's server, measured with store_server_entries; no sample when the store cannot measure.",
    labelNames: ['store'],
    registers,
    async collect() {
      this.reset()
      const measured = await measure()
      if (measured !== undefined) this.set({ store: store.name }, measured.bytes)
    },
  })

  return () => {
    channel.unsubscribe(subscribers)
    for (const [event, listener] of listeners)
      (cache.off as unknown as Listen).call(cache, event, listener)
  }
}

/**
 * Entries and bytes from the server of a store that can measure one (`Store.measure`: Redis),
 * throttled; through the cache's `measure()` where it has one (fail-open, traced). `undefined`
 * for a store in this process, or when the server does not answer in time.
 */
function measurer(cache: Cache): () => Promise<{ entries: number; bytes: number } | undefined> {
  const own = (cache as unknown as { measure?: Measure }).measure
  const store = cache.store as Store & { measure?: Measure }
  const measure: Measure | undefined =
    typeof store.measure !== 'function'
      ? undefined
      : typeof own === 'function'
        ? () => own.call(cache)
        : () => (store.measure as Measure).call(store)
  let last:
    { at: number; value: Promise<{ entries: number; bytes: number } | undefined> } | undefined
  return () => {
    if (measure === undefined) return Promise.resolve(undefined)
    const now = performance.now()
    if (last === undefined || now - last.at >= MEASURE_INTERVAL_MS) {
      last = {
        at: now,
        value: withDeadline(measure(), MEASURE_TIMEOUT_MS, 'measure').catch(() => undefined),
      }
    }
    return last.value
  }
}

/**
 * The node a store's errors are counted under when the error does not name one: `host:port` of a
 * standalone Redis (alone or as a tiered store's L2), `cluster` for a Cluster, else the store's name.
 */
export function defaultNode(store: Store): string {
  const shared = store.name === 'tiered' ? ((store as { l2?: Store }).l2 ?? store) : store
  const client = (
    shared as { client?: { isCluster?: boolean; options?: { host?: unknown; port?: unknown } } }
  ).client
  if (client === undefined) return shared.name
  if (client.isCluster === true) return 'cluster'
  const { host, port } = client.options ?? {}
  return typeof host === 'string' && typeof port === 'number' ? `${host}:${port}` : shared.name
}

import { EventEmitter } from 'node:events'
import { DecodedValues, ReadListeners } from './reads.js'
import { StatsCounters } from './stats.js'
import { resolveCacheOptions, type CacheOptions } from './options.js'
import { SingleFlight } from './patterns/single-flight.js'
import { LoaderDurations, type WrapContext } from './patterns/wrap.js'
import { PendingWrites } from './patterns/pending-writes.js'
import { InvalidationQueue } from './resilience/invalidation-queue.js'
import { StoreCalls } from './resilience/store-call.js'
import { emptyDropCounts, worstState } from './resilience/store-health.js'
import type { Clock } from './clock.js'
import type { CacheEvents, CacheStats, Store } from './types.js'

/** How long a store that has just recovered holds its reads back while queued purges are applied. */
const RECOVERY_DRAIN_MS = 1000

/** What a cache and every namespace view of it share. */
export interface Shared {
  store: Store
  defaultTtlMs: number
  strict: boolean
  clock: Clock
  stats: StatsCounters
  calls: StoreCalls
  values: DecodedValues
  events: EventEmitter<CacheEvents>
  listeners: ReadListeners
  pending: PendingWrites
  wrap: WrapContext
  /** Invalidations waiting for the store. */
  invalidations: InvalidationQueue
  /** Namespace versions this process moved to and the store has not been told yet, by namespace. */
  pendingVersions: Map<string, string>
  closeTimeoutMs: number
  /** Stops listening to the store's background faults and recoveries. */
  unobserve: () => void
}

/** Resolves the options of a root cache into what it and its views share. */
export function createShared(options: CacheOptions): Shared {
  const resolved = resolveCacheOptions(options)
  const stats = new StatsCounters()
  const events = new EventEmitter<CacheEvents>()
  const calls = new StoreCalls(stats, events, resolved.timer, resolved.store)
  const invalidations = new InvalidationQueue({
    maxSize: resolved.invalidationQueue.maxSize,
    clock: resolved.timer,
    calls,
    events,
  })
  // A store with breakers tells of faults outside calls, of breaker transitions, and of
  // recoveries: queued purges go then, before the store lets reads through again.
  const unobserve =
    resolved.store.observe?.({
      fault: (error) => calls.emit(error),
      transition: (change) => void events.emit('breaker', change),
      recovered: async () => void (await invalidations.idle(RECOVERY_DRAIN_MS)),
    }) ?? (() => {})
  return {
    store: resolved.store,
    defaultTtlMs: resolved.defaultTtlMs,
    strict: resolved.strict,
    clock: resolved.clock,
    stats,
    calls,
    values: new DecodedValues(resolved.serializer),
    events,
    listeners: new ReadListeners(events),
    pending: new PendingWrites(),
    wrap: {
      flights: new SingleFlight(),
      loaderDurations: new LoaderDurations(),
      clock: resolved.clock,
      timer: resolved.timer,
      random: resolved.random,
    },
    invalidations,
    pendingVersions: new Map(),
    closeTimeoutMs: resolved.invalidationQueue.closeTimeoutMs,
    unobserve,
  }
}

/** The cache's counters with the store's health (breakers, pending work, drops) where it has one. */
export function cacheStats(shared: Shared): CacheStats {
  const { store, stats, invalidations } = shared
  const health = store.health?.()
  const breakers = health?.breakers ?? []
  const queuedInvalidations = invalidations.size
  return {
    ...stats.snapshot(store.size?.(), worstState(breakers)),
    breakers,
    pendingOperations: (health?.inFlight ?? 0) + (health?.queued ?? 0) + queuedInvalidations,
    queuedInvalidations,
    dropped: health?.dropped ?? { read: emptyDropCounts(), write: emptyDropCounts() },
  }
}

/** Waits for queued invalidations (up to `closeTimeout`); see `Cache.whenIdle`. */
export async function whenIdle(shared: Shared): Promise<{ drained: boolean; pending: number }> {
  const { invalidations, closeTimeoutMs } = shared
  const drained = await invalidations.idle(closeTimeoutMs)
  return { drained, pending: invalidations.size }
}

/** Applies what is queued (bounded), says what could not be, stops listening, closes the store. */
export async function closeShared(shared: Shared): Promise<void> {
  const { invalidations, calls, store, unobserve } = shared
  const { pending } = await whenIdle(shared)
  if (pending > 0)
    calls.report(
      calls.wrap(
        'close',
        new Error(`${pending} queued invalidations were not applied before close`)
      )
    )
  invalidations.close()
  unobserve()
  await store.close?.()
}

/** Construction token for namespace views; module-private to the package, so users cannot forge one. */
export class ViewInit {
  readonly shared: Shared
  readonly segments: readonly string[]
  readonly defaultTtlMs: number
  constructor(shared: Shared, segments: readonly string[], defaultTtlMs: number) {
    this.shared = shared
    this.segments = segments
    this.defaultTtlMs = defaultTtlMs
  }
}

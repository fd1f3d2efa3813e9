import { EventEmitter } from 'node:events'
import { DecodedValues } from './reads.js'
import { StatsCounters } from './stats.js'
import { resolveCacheOptions, type CacheOptions } from './options.js'
import { SingleFlight } from './patterns/single-flight.js'
import { LoaderDurations, type WrapContext } from './patterns/wrap.js'
import { PendingWrites } from './patterns/pending-writes.js'
import { StoreCalls } from './resilience/store-call.js'
import type { Clock } from './clock.js'
import type { CacheEvents, Store } from './types.js'

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
  pending: PendingWrites
  wrap: WrapContext
}

/** Resolves the options of a root cache into what it and its views share. */
export function createShared(options: CacheOptions): Shared {
  const resolved = resolveCacheOptions(options)
  const stats = new StatsCounters()
  const events = new EventEmitter<CacheEvents>()
  return {
    store: resolved.store,
    defaultTtlMs: resolved.defaultTtlMs,
    strict: resolved.strict,
    clock: resolved.clock,
    stats,
    calls: new StoreCalls(resolved.breaker, stats, events, resolved.store),
    values: new DecodedValues(resolved.serializer),
    events,
    pending: new PendingWrites(),
    wrap: {
      flights: new SingleFlight(),
      loaderDurations: new LoaderDurations(),
      clock: resolved.clock,
      timer: resolved.timer,
      random: resolved.random,
    },
  }
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

import type { CacheStats, StoreSize } from './types.js'
import type { CircuitState } from './resilience/circuit-breaker.js'

/** Counters shared by a cache and every namespace view of it. */
export class StatsCounters {
  hits = 0
  misses = 0
  sets = 0
  deletes = 0
  errors = 0
  timeouts = 0
  skipped = 0
  stale = 0

  /** The counters; the store's health (breakers, pending work, drops) is added by the cache. */
  snapshot(
    size: StoreSize | undefined,
    breaker: CircuitState
  ): Omit<CacheStats, 'breakers' | 'pendingOperations' | 'queuedInvalidations' | 'dropped'> {
    const reads = this.hits + this.misses
    return {
      hits: this.hits,
      misses: this.misses,
      hitRate: reads === 0 ? 0 : this.hits / reads,
      sets: this.sets,
      deletes: this.deletes,
      errors: this.errors,
      timeouts: this.timeouts,
      skipped: this.skipped,
      entries: size?.entries,
      bytes: size?.bytes,
      evictions: size?.evictions,
      expirations: size?.expirations,
      stale: this.stale,
      breaker,
    }
  }
}

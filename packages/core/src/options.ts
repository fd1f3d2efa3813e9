import { InvalidOptionError } from './errors.js'
import { parseDuration, type Duration } from './duration.js'
import { rejectUnknownOptions } from './known-options.js'
import { MemoryStore } from './stores/memory-store.js'
import { CircuitBreaker, type CircuitBreakerOptions } from './resilience/circuit-breaker.js'
import type { Clock } from './clock.js'
import type { Store } from './types.js'

export interface CacheOptions {
  /** Where entries live. @default new MemoryStore() (64 MiB) */
  store?: Store
  /** TTL for entries set without one: `'5m'`, `'90 seconds'`, or milliseconds (1000 or more). @default '5m' */
  defaultTtl?: Duration
  /**
   * Skip a failing store for a while instead of waiting on it per call; `false` turns it off.
   * Its clock is the cache's `clock`.
   * @default { failureThreshold: 5, breakDuration: '5s' }
   */
  breaker?: Omit<CircuitBreakerOptions, 'clock'> | false
  /** Time source for the breaker. @default Date.now */
  clock?: Clock
}

export interface ResolvedCacheOptions {
  store: Store
  defaultTtlMs: number
  breaker: CircuitBreaker | undefined
}

const CACHE_OPTIONS = ['store', 'defaultTtl', 'breaker', 'clock'] as const
const BREAKER_OPTIONS = ['failureThreshold', 'breakDuration'] as const

const STORE_METHODS = ['get', 'set', 'delete', 'has', 'invalidateTags', 'deletePattern', 'increment', 'clear'] as const

/** Validates and defaults cache options once, at construction. */
export function resolveCacheOptions(options: CacheOptions): ResolvedCacheOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  rejectUnknownOptions(options, CACHE_OPTIONS, '')
  const store = options.store ?? new MemoryStore()
  for (const method of STORE_METHODS) {
    if (typeof (store as unknown as Record<string, unknown>)[method] !== 'function') {
      throw new InvalidOptionError('store', `a Store (missing method ${method})`, store)
    }
  }
  const defaultTtlMs = parseDuration(options.defaultTtl ?? '5m', 'defaultTtl')
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new InvalidOptionError('clock', 'a function returning milliseconds', options.clock)
  let breaker: CircuitBreaker | undefined
  if (options.breaker !== false) {
    if (options.breaker !== undefined && (typeof options.breaker !== 'object' || options.breaker === null)) {
      throw new InvalidOptionError('breaker', 'an object or false', options.breaker)
    }
    // The breaker reads the cache's clock: one time source per cache.
    if (options.breaker !== undefined) rejectUnknownOptions(options.breaker, BREAKER_OPTIONS, 'breaker', { breakDurationMs: 'breakDuration' })
    breaker = new CircuitBreaker({ ...options.breaker, ...(options.clock ? { clock: options.clock } : {}) })
  }
  return { store, defaultTtlMs, breaker }
}

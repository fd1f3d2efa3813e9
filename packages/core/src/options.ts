import { InvalidOptionError } from './errors.js'
import { toMilliseconds } from './duration.js'
import { MemoryStore } from './stores/memory-store.js'
import { CircuitBreaker, type CircuitBreakerOptions } from './resilience/circuit-breaker.js'
import type { Clock } from './clock.js'
import type { Store, Ttl } from './types.js'

export interface CacheOptions {
  /** Where entries live. @default new MemoryStore() (64 MiB) */
  store?: Store
  /** TTL for entries set without one. @default '5m' */
  defaultTtl?: Ttl
  /** Skip a failing store for a while instead of waiting on it per call; `false` turns it off. @default { failureThreshold: 5, breakDurationMs: 5000 } */
  breaker?: CircuitBreakerOptions | false
  /** Time source for the breaker. @default Date.now */
  clock?: Clock
}

export interface ResolvedCacheOptions {
  store: Store
  defaultTtlMs: number
  breaker: CircuitBreaker | undefined
}

const STORE_METHODS = ['get', 'set', 'delete', 'has', 'invalidateTags', 'deletePattern', 'increment', 'clear'] as const

/** Validates and defaults cache options once, at construction. */
export function resolveCacheOptions(options: CacheOptions): ResolvedCacheOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  const store = options.store ?? new MemoryStore()
  for (const method of STORE_METHODS) {
    if (typeof (store as unknown as Record<string, unknown>)[method] !== 'function') {
      throw new InvalidOptionError('store', `a Store (missing method ${method})`, store)
    }
  }
  const defaultTtlMs = toMilliseconds(options.defaultTtl ?? '5m', 'defaultTtl')
  let breaker: CircuitBreaker | undefined
  if (options.breaker !== false) {
    if (options.breaker !== undefined && (typeof options.breaker !== 'object' || options.breaker === null)) {
      throw new InvalidOptionError('breaker', 'an object or false', options.breaker)
    }
    breaker = new CircuitBreaker({ ...options.breaker, ...(options.clock ? { clock: options.clock } : {}) })
  }
  return { store, defaultTtlMs, breaker }
}

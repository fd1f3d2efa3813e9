import type { EventEmitter } from 'node:events'
import { CachewireError, StoreError, StoreTimeoutError, StoreUnavailableError } from '../errors.js'
import type { StatsCounters } from '../stats.js'
import type { CacheEvents, Store } from '../types.js'
import { traceStoreCall } from '../tracing.js'
import type { CircuitBreaker, CircuitState } from './circuit-breaker.js'

/**
 * Every store call a `Cache` makes goes through here: skipped while the breaker is open, and any
 * failure turned into a fallback value plus a counted, emitted error. This is what makes the cache
 * fail open (DESIGN rule 3). One instance is shared by a cache and all of its namespace views.
 */
export class StoreCalls {
  readonly #breaker: CircuitBreaker | undefined
  readonly #stats: StatsCounters
  readonly #events: EventEmitter<CacheEvents>
  /** The store called, for the `cachewire:core.store` tracing channel. */
  readonly #store: Store | undefined

  constructor(
    breaker: CircuitBreaker | undefined,
    stats: StatsCounters,
    events: EventEmitter<CacheEvents>,
    store?: Store
  ) {
    this.#breaker = breaker
    this.#stats = stats
    this.#events = events
    this.#store = store
    breaker?.onTransition((from, to) => void events.emit('breaker', { from, to }))
  }

  /** The breaker's state; `'closed'` when there is no breaker. */
  get breakerState(): CircuitState {
    return this.#breaker?.state ?? 'closed'
  }

  /** Runs a store operation behind the breaker; any failure becomes `fallback` plus an `error` event. */
  async call<T>(operation: string, run: () => Promise<T>, fallback: T): Promise<T> {
    const breaker = this.#breaker
    if (breaker !== undefined && !breaker.allow()) {
      this.#stats.skipped++
      return fallback
    }
    try {
      const result = await traceStoreCall(this.#store, operation, run)
      breaker?.success()
      return result
    } catch (error) {
      breaker?.failure()
      this.report(error instanceof CachewireError ? error : new StoreError(operation, error))
      return fallback
    }
  }

  /**
   * Like `call`, for strict reads: when the store cannot answer, this throws a
   * `StoreUnavailableError` instead of falling back, with `reason` saying why — `'breaker-open'`
   * (not asked), `'timeout'` or `'error'` — and the underlying error as `cause`. The failure is
   * still counted and emitted as `call` would. A store that guards itself (a breaker inside the
   * store) may throw a `StoreUnavailableError` of its own: its reason is kept.
   */
  async callStrict<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const breaker = this.#breaker
    if (breaker !== undefined && !breaker.allow()) {
      this.#stats.skipped++
      throw new StoreUnavailableError(`store ${operation} skipped: circuit breaker is open`, { reason: 'breaker-open', operation })
    }
    try {
      const result = await traceStoreCall(this.#store, operation, run)
      breaker?.success()
      return result
    } catch (error) {
      breaker?.failure()
      throw this.#unavailable(operation, error)
    }
  }

  #unavailable(operation: string, error: unknown): StoreUnavailableError {
    if (error instanceof StoreUnavailableError) {
      this.#stats.skipped++
      return new StoreUnavailableError(error.message, { reason: error.reason, operation, cause: error })
    }
    const reported = error instanceof CachewireError ? error : new StoreError(operation, error)
    this.report(reported)
    const reason = error instanceof StoreTimeoutError ? 'timeout' : 'error'
    return new StoreUnavailableError(`store ${operation} could not answer: ${reported.message}`, { reason, operation, cause: reported })
  }

  /** Records an error: counted, and emitted when someone listens (an unheard `error` event must not crash the process). */
  report(error: Error): void {
    if (error instanceof StoreTimeoutError) this.#stats.timeouts++
    if (!(error instanceof StoreUnavailableError)) this.#stats.errors++
    if (this.#events.listenerCount('error') > 0) this.#events.emit('error', error)
  }
}

import type { EventEmitter } from 'node:events'
import {
  CachewireError,
  QueueFullError,
  StoreError,
  StoreTimeoutError,
  StoreUnavailableError,
} from '../errors.js'
import type { StatsCounters } from '../stats.js'
import type { CacheEvents, Store } from '../types.js'
import { traceStoreCall } from '../tracing.js'
import { ErrorThrottle } from './error-throttle.js'

/** Error events of one kind (code and operation) emitted at most this often. */
const ERROR_EVENT_INTERVAL_MS = 1000

/**
 * Every store call a `Cache` makes goes through here: any failure becomes a fallback value plus
 * a counted, emitted error. This is what makes the cache fail open (DESIGN rule 3). Breakers live
 * in the stores that need them (a `RedisStore` has one per node and direction): a call a breaker
 * skipped arrives here as a `StoreUnavailableError` and is counted as skipped. One instance is
 * shared by a cache and all of its namespace views.
 */
export class StoreCalls {
  readonly #stats: StatsCounters
  readonly #events: EventEmitter<CacheEvents>
  readonly #throttle: ErrorThrottle
  /** The store called, for the `cachewire:core.store` tracing channel. */
  readonly #store: Store | undefined

  constructor(
    stats: StatsCounters,
    events: EventEmitter<CacheEvents>,
    clock: () => number,
    store?: Store
  ) {
    this.#stats = stats
    this.#events = events
    this.#throttle = new ErrorThrottle(clock, ERROR_EVENT_INTERVAL_MS)
    this.#store = store
  }

  /** Runs a store operation; any failure becomes `fallback` plus an `error` event. */
  async call<T>(operation: string, run: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await traceStoreCall(this.#store, operation, run)
    } catch (error) {
      return this.failed(operation, error, fallback, false)
    }
  }

  /**
   * Like `call`, for strict reads: when the store cannot answer, this throws a
   * `StoreUnavailableError` instead of falling back, with `reason` saying why — `'breaker-open'`,
   * `'queue-full'`, `'queue-timeout'` (not asked), `'timeout'` or `'error'` — and the underlying
   * error as `cause`. The failure is still counted and emitted as `call` would.
   */
  async callStrict<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await traceStoreCall(this.#store, operation, run)
    } catch (error) {
      return this.failed(operation, error, undefined as T, true)
    }
  }

  /**
   * What a call that failed with `error` comes to, for a caller that awaits `trace` itself (a read
   * without a frame of `call`'s in between): `fallback`, reported as `call` reports it, or for a
   * `strict` call the `StoreUnavailableError` that `callStrict` throws.
   */
  failed<T>(operation: string, error: unknown, fallback: T, strict: boolean): T {
    if (strict) throw this.#unavailable(operation, error)
    this.report(this.wrap(operation, error))
    return fallback
  }

  /** Runs a store call under the `cachewire:core.store` tracing channel, with no fallback: for invalidations, which the queue retries. */
  trace<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return traceStoreCall(this.#store, operation, run)
  }

  /** A store failure as the typed error the cache reports. */
  wrap(operation: string, error: unknown): CachewireError {
    return error instanceof CachewireError ? error : new StoreError(operation, error)
  }

  /**
   * Records an error of a call: counted (a call the store did not send as `skipped`); emitted
   * when someone listens (an unheard `error` event must not crash the process). Store faults
   * (an outage makes thousands a second) are emitted at most once per kind per second, with
   * `suppressed` telling how many of that kind were held back; other errors (an undecodable
   * value) are each emitted.
   */
  report(error: Error): void {
    if (error instanceof StoreTimeoutError) this.#stats.timeouts++
    if (error instanceof StoreUnavailableError) this.#stats.skipped++
    else this.#stats.errors++
    this.emit(error)
  }

  /** Emits an error seen outside any call (a store's probe, a lost connection), rate-limited, without counting a call. */
  emit(error: Error): void {
    if (this.#events.listenerCount('error') === 0) return
    if (!isStoreFault(error)) {
      this.#events.emit('error', error)
      return
    }
    const { emit, suppressed } = this.#throttle.admit(kindOf(error))
    if (!emit) return
    if (error instanceof CachewireError) error.suppressed = suppressed
    this.#events.emit('error', error)
  }

  #unavailable(operation: string, error: unknown): StoreUnavailableError {
    if (error instanceof StoreUnavailableError) {
      this.report(error)
      return new StoreUnavailableError(error.message, {
        reason: error.reason,
        operation,
        cause: error,
      })
    }
    const reported = this.wrap(operation, error)
    this.report(reported)
    const reason = error instanceof StoreTimeoutError ? 'timeout' : 'error'
    return new StoreUnavailableError(`store ${operation} could not answer: ${reported.message}`, {
      reason,
      operation,
      cause: reported,
    })
  }
}

/** Errors of the store's health, which come in floods during an outage. */
function isStoreFault(error: Error): boolean {
  return (
    error instanceof StoreError ||
    error instanceof StoreTimeoutError ||
    error instanceof StoreUnavailableError ||
    error instanceof QueueFullError
  )
}

function kindOf(error: Error): string {
  const { code, operation, reason } = error as {
    code?: unknown
    operation?: unknown
    reason?: unknown
  }
  return `${String(code ?? error.name)}:${String(operation ?? '')}:${String(reason ?? '')}`
}

import { InvalidOptionError } from '../errors.js'
import { systemClock, type Clock } from '../clock.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  failureThreshold?: number
  /** How long the circuit stays open before a single probe is let through (`'5s'`, or milliseconds). @default '5s' */
  breakDuration?: Duration
  /** Time source. @default Date.now */
  clock?: Clock
}

const BREAKER_OPTIONS = ['failureThreshold', 'breakDuration', 'clock'] as const
const RENAMED_BREAKER_OPTIONS = { breakDurationMs: 'breakDuration' } as const

export type CircuitState = 'closed' | 'open' | 'half-open'

/** Told of every change of state: `open` → `half-open` when a probe is let through. */
export type CircuitTransitionListener = (from: CircuitState, to: CircuitState) => void

/**
 * Skips a sick store instead of waiting on it for every request. After `failureThreshold`
 * consecutive failures the circuit opens; after `breakDuration` one call is let through as a
 * probe; its success closes the circuit, its failure opens it again.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from '@cachewire/core'
 * const breaker = new CircuitBreaker({ failureThreshold: 3, breakDuration: '2s' })
 * if (breaker.allow()) { try { await op(); breaker.success() } catch { breaker.failure() } }
 * ```
 */
export class CircuitBreaker {
  readonly #failureThreshold: number
  readonly #breakDurationMs: number
  readonly #clock: Clock
  #state: CircuitState = 'closed'
  #failures = 0
  #openedAt = 0
  #probeInFlight = false
  readonly #listeners = new Set<CircuitTransitionListener>()

  constructor(options: CircuitBreakerOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('breaker', 'an object or false', options)
    rejectUnknownOptions(options, BREAKER_OPTIONS, 'breaker', RENAMED_BREAKER_OPTIONS)
    const { failureThreshold = 5, breakDuration = '5s', clock = systemClock } = options
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1) throw new InvalidOptionError('breaker.failureThreshold', 'a positive integer', failureThreshold)
    if (typeof clock !== 'function') throw new InvalidOptionError('breaker.clock', 'a function returning milliseconds', clock)
    this.#failureThreshold = failureThreshold
    this.#breakDurationMs = parseDuration(breakDuration, 'breaker.breakDuration', { kind: 'timeout' })
    this.#clock = clock
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#clock() - this.#openedAt >= this.#breakDurationMs) return 'half-open'
    return this.#state
  }

  /** Whether a call may go to the store now. In half-open state only one probe is allowed at a time. */
  allow(): boolean {
    const state = this.state
    if (state === 'closed') return true
    if (state === 'open') return false
    if (this.#probeInFlight) return false
    this.#probeInFlight = true
    this.#move('half-open')
    return true
  }

  success(): void {
    this.#failures = 0
    this.#probeInFlight = false
    this.#move('closed')
  }

  /**
   * Calls `listener` on every change of state (for metrics and a fault history); returns the
   * function that stops it. A listener that throws is ignored: it cannot break a store call.
   *
   * @example
   * ```ts
   * const stop = breaker.onTransition((from, to) => console.warn(`breaker ${from} -> ${to}`))
   * ```
   */
  onTransition(listener: CircuitTransitionListener): () => void {
    this.#listeners.add(listener)
    return () => void this.#listeners.delete(listener)
  }

  failure(): void {
    this.#probeInFlight = false
    if (this.#state === 'half-open') {
      this.#open()
      return
    }
    this.#failures += 1
    if (this.#failures >= this.#failureThreshold) this.#open()
  }

  #open(): void {
    this.#openedAt = this.#clock()
    this.#failures = 0
    this.#move('open')
  }

  #move(to: CircuitState): void {
    const from = this.#state
    this.#state = to
    if (from === to) return
    for (const listener of this.#listeners) {
      try {
        listener(from, to)
      } catch {
        // A listener's fault must not turn a store call into an error.
      }
    }
  }
}

import { InvalidOptionError } from '../errors.js'
import { systemClock, type Clock } from '../clock.js'

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  failureThreshold?: number
  /** How long the circuit stays open before a single probe is let through. @default 5000 */
  breakDurationMs?: number
  clock?: Clock
}

export type CircuitState = 'closed' | 'open' | 'half-open'

/**
 * Skips a sick store instead of waiting on it for every request. After `failureThreshold`
 * consecutive failures the circuit opens; after `breakDurationMs` one call is let through as a
 * probe; its success closes the circuit, its failure opens it again.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from '@cachewire/core'
 * const breaker = new CircuitBreaker({ failureThreshold: 3, breakDurationMs: 2000 })
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

  constructor(options: CircuitBreakerOptions = {}) {
    const { failureThreshold = 5, breakDurationMs = 5000, clock = systemClock } = options
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1) throw new InvalidOptionError('breaker.failureThreshold', 'a positive integer', failureThreshold)
    if (!Number.isFinite(breakDurationMs) || breakDurationMs <= 0) throw new InvalidOptionError('breaker.breakDurationMs', 'a positive number', breakDurationMs)
    this.#failureThreshold = failureThreshold
    this.#breakDurationMs = breakDurationMs
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
    this.#state = 'half-open'
    return true
  }

  success(): void {
    this.#failures = 0
    this.#probeInFlight = false
    this.#state = 'closed'
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
    this.#state = 'open'
    this.#openedAt = this.#clock()
    this.#failures = 0
  }
}

import { InvalidOptionError } from '../errors.js'
import { systemClock, type Clock } from '../clock.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  failureThreshold?: number
  /**
   * How long the circuit stays open the first time before one probe is let through (`'200ms'`,
   * or milliseconds). Short, so a blip costs little.
   * @default '200ms'
   */
  breakDuration?: Duration
  /**
   * Each failed probe doubles the open period, up to this cap; a successful probe (or `close()`)
   * starts again from `breakDuration`. Equal to `breakDuration`: no backoff.
   * @default '5s'
   */
  maxBreakDuration?: Duration
  /** Time source. @default Date.now */
  clock?: Clock
}

const BREAKER_OPTIONS = ['failureThreshold', 'breakDuration', 'maxBreakDuration', 'clock'] as const
const RENAMED_BREAKER_OPTIONS = { breakDurationMs: 'breakDuration' } as const

export type CircuitState = 'closed' | 'open' | 'half-open'

/** Told of every change of state: `open` → `half-open` when a probe is let through. */
export type CircuitTransitionListener = (from: CircuitState, to: CircuitState) => void

/**
 * Skips a sick dependency instead of waiting on it for every call. After `failureThreshold`
 * consecutive failures the circuit opens for `breakDuration`; then one call is let through as a
 * probe: its success closes the circuit, its failure opens it again for twice as long (up to
 * `maxBreakDuration`). `close()` closes it at once, for a caller that knows the dependency is back
 * (a Redis client that has just become ready).
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from '@cachewire/core'
 * const breaker = new CircuitBreaker({ failureThreshold: 3, breakDuration: '200ms', maxBreakDuration: '5s' })
 * if (breaker.allow()) { try { await op(); breaker.success() } catch { breaker.failure() } }
 * ```
 */
export class CircuitBreaker {
  readonly #failureThreshold: number
  readonly #breakDurationMs: number
  readonly #maxBreakDurationMs: number
  readonly #clock: Clock
  #state: CircuitState = 'closed'
  #failures = 0
  #openedAt = 0
  #openForMs = 0
  #probeInFlight = false
  readonly #listeners = new Set<CircuitTransitionListener>()

  constructor(options: CircuitBreakerOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('breaker', 'an object or false', options)
    rejectUnknownOptions(options, BREAKER_OPTIONS, 'breaker', RENAMED_BREAKER_OPTIONS)
    const { failureThreshold = 5, breakDuration = '200ms', clock = systemClock } = options
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1)
      throw new InvalidOptionError(
        'breaker.failureThreshold',
        'a positive integer',
        failureThreshold
      )
    if (typeof clock !== 'function')
      throw new InvalidOptionError('breaker.clock', 'a function returning milliseconds', clock)
    this.#failureThreshold = failureThreshold
    this.#breakDurationMs = parseDuration(breakDuration, 'breaker.breakDuration', {
      kind: 'timeout',
    })
    const maxBreakDuration = options.maxBreakDuration ?? Math.max(5000, this.#breakDurationMs)
    this.#maxBreakDurationMs = parseDuration(maxBreakDuration, 'breaker.maxBreakDuration', {
      kind: 'timeout',
    })
    if (this.#maxBreakDurationMs < this.#breakDurationMs) {
      throw new InvalidOptionError(
        'breaker.maxBreakDuration',
        `a duration no shorter than breakDuration (${this.#breakDurationMs} ms)`,
        maxBreakDuration
      )
    }
    this.#clock = clock
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#clock() - this.#openedAt >= this.#openForMs)
      return 'half-open'
    return this.#state
  }

  /** Milliseconds until a probe may go, while open; 0 otherwise. */
  get retryInMs(): number {
    if (this.#state !== 'open') return 0
    return Math.max(0, this.#openedAt + this.#openForMs - this.#clock())
  }

  /** How long the current (or, when closed, the next) open period lasts. */
  get openForMs(): number {
    return this.#state === 'closed' ? this.#breakDurationMs : this.#openForMs
  }

  /** Whether a call may go now. In half-open state only one probe is allowed at a time. */
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
    if (this.#state !== 'closed') this.#openForMs = 0
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

  /** Records a failure; resolves `true` when this failure opened the circuit. */
  failure(): boolean {
    const probing = this.#probeInFlight || this.#state === 'half-open'
    this.#probeInFlight = false
    if (probing) {
      this.#open(
        Math.min(this.#maxBreakDurationMs, Math.max(this.#breakDurationMs, this.#openForMs * 2))
      )
      return true
    }
    if (this.#state === 'open') return false
    this.#failures += 1
    if (this.#failures < this.#failureThreshold) return false
    this.#open(this.#breakDurationMs)
    return true
  }

  /** Closes the circuit now (the dependency is known to be back) and resets the backoff. */
  close(): void {
    this.success()
  }

  #open(forMs: number): void {
    this.#openedAt = this.#clock()
    this.#openForMs = forMs
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

/** Kinds remembered at most; past this the oldest half is forgotten (kinds are few: codes × operations × nodes). */
const MAX_KINDS = 256

/**
 * At most one error of a kind per interval: an outage produces thousands of identical errors a
 * second, and a log (or an `onError` that pages someone) should get one, with a count of the
 * rest. The first error of a kind always passes.
 *
 * @example
 * ```ts
 * const throttle = new ErrorThrottle(() => performance.now(), 1000)
 * const { emit, suppressed } = throttle.admit('CACHEWIRE_STORE_TIMEOUT:get')
 * ```
 */
export class ErrorThrottle {
  readonly #clock: () => number
  readonly #intervalMs: number
  readonly #kinds = new Map<string, { emittedAt: number; suppressed: number }>()

  constructor(clock: () => number, intervalMs: number) {
    this.#clock = clock
    this.#intervalMs = intervalMs
  }

  /** Whether an error of `kind` may be emitted now, and how many of that kind were held back since the last one. */
  admit(kind: string): { emit: boolean; suppressed: number } {
    const now = this.#clock()
    const seen = this.#kinds.get(kind)
    if (seen !== undefined && now - seen.emittedAt < this.#intervalMs) {
      seen.suppressed++
      return { emit: false, suppressed: seen.suppressed }
    }
    const suppressed = seen?.suppressed ?? 0
    if (seen === undefined && this.#kinds.size >= MAX_KINDS) {
      for (const old of [...this.#kinds.keys()].slice(0, MAX_KINDS / 2)) this.#kinds.delete(old)
    }
    this.#kinds.set(kind, { emittedAt: now, suppressed: 0 })
    return { emit: true, suppressed }
  }
}

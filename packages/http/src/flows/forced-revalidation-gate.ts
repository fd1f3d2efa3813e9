/**
 * How often one key may be revalidated at a client's request (RFC 9111 §5.2.1 `no-cache`,
 * `max-age`, `min-fresh`, under `freshness.requestDirectives: 'honour'`): once per this many ms.
 * Requests past it are answered from the entry, which was validated at most this long ago.
 */
export const FORCED_REVALIDATION_INTERVAL_MS = 1000

/**
 * Most keys remembered at once. Past it (every one forced within the last interval), further
 * forced revalidations are refused, so a flood of keys cannot grow the map without bound.
 */
export const MAX_FORCED_KEYS = 10_000

/**
 * Bounds the origin work clients can force: at most one forced revalidation per key per
 * `intervalMs` (requests in between are answered from the entry; concurrent ones wait for the
 * one under way, see the engine's coalescer). Per engine instance, bounded by `maxKeys`.
 *
 * @example
 * ```ts
 * const gate = new ForcedRevalidationGate()
 * gate.admit(hash, now)       // true: go to the origin
 * gate.admit(hash, now + 10)  // false: answer from the entry
 * ```
 */
export class ForcedRevalidationGate {
  /** Last forced revalidation per key, oldest first (a key is moved to the end when renewed). */
  readonly #last = new Map<string, number>()
  readonly #intervalMs: number
  readonly #maxKeys: number

  constructor(intervalMs = FORCED_REVALIDATION_INTERVAL_MS, maxKeys = MAX_FORCED_KEYS) {
    this.#intervalMs = intervalMs
    this.#maxKeys = maxKeys
  }

  /** May this key be revalidated now at a client's request? Records it when it may. */
  admit(key: string, now: number): boolean {
    const last = this.#last.get(key)
    // A clock that went back counts as a new interval.
    if (last !== undefined && now >= last && now - last < this.#intervalMs) return false
    this.#last.delete(key)
    if (this.#last.size >= this.#maxKeys) {
      for (const [old, at] of this.#last) {
        if (now >= at && now - at < this.#intervalMs) break
        this.#last.delete(old)
      }
      if (this.#last.size >= this.#maxKeys) return false
    }
    this.#last.set(key, now)
    return true
  }
}

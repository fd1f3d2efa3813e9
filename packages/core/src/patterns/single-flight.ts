export interface FlightResult<T> {
  value: T
  /** The key stays claimed until this settles (e.g. the cache write), so a caller arriving in between joins instead of loading again. */
  holdUntil?: Promise<unknown>
}

/**
 * One in-flight promise per key, per instance (never module-level, so two caches or an ESM and
 * a CJS copy never share it). Callers that arrive while a run is in flight get its promise.
 */
export class SingleFlight {
  readonly #inflight = new Map<string, Promise<unknown>>()

  run<T>(key: string, work: () => Promise<FlightResult<T>>): Promise<T> {
    const existing = this.#inflight.get(key)
    if (existing !== undefined) return existing as Promise<T>
    const result = work()
    const value = result.then((r) => r.value)
    this.#inflight.set(key, value)
    const release = (): void => {
      if (this.#inflight.get(key) === value) this.#inflight.delete(key)
    }
    // Without a hold, the key is released in the same turn the value resolves, before any awaiting
    // caller resumes: a caller that asks again afterwards starts a new run instead of joining a finished one.
    result.then(
      (r) => (r.holdUntil === undefined ? release() : void r.holdUntil.then(release, release)),
      release
    )
    return value
  }

  /** Whether a run for `key` is in flight: a caller now would join it. */
  has(key: string): boolean {
    return this.#inflight.has(key)
  }

  get size(): number {
    return this.#inflight.size
  }
}

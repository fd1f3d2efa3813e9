/**
 * Runs tasks one at a time per key, in the order they were queued; tasks under different keys run
 * side by side. This is what makes `KeyvStore`'s read-modify-write steps (counters, tag records)
 * atomic within one process. A Keyv store offers no compare-and-set, so nothing here reaches
 * across processes.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>()

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    const result = previous.then(task)
    const tail = result.then(
      () => undefined,
      () => undefined
    )
    this.#tails.set(key, tail)
    // The last task of a key removes its entry, so keys seen once do not accumulate.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    })
    return result
  }

  /** Keys with queued or running work (for tests and diagnostics). */
  get size(): number {
    return this.#tails.size
  }
}

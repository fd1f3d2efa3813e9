/**
 * Work started and not settled yet, counted, for a `whenIdle` that waits for it. A count and not
 * a Set of the promises: every stored miss is tracked, and a Set that fills and drains with the
 * load rehashes each time it shrinks (V8's `SetShrink`, on every stored miss under load).
 *
 * @example
 * ```ts
 * const pending = new PendingWork()
 * pending.add(store.write(entry), (error) => console.error(error))
 * await pending.idle() // once the write settled
 * ```
 */
export class PendingWork {
  #count = 0
  #waiters: (() => void)[] = []

  /** Counts `work` until it settles. A rejection goes to `onError`, or is left to `work`'s other handlers. */
  add(work: Promise<unknown>, onError?: (error: unknown) => void): void {
    this.#count++
    work.then(
      () => this.#settled(),
      (error: unknown) => {
        this.#settled()
        onError?.(error)
      }
    )
  }

  /** Resolves once nothing is pending, work added meanwhile included. */
  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  get size(): number {
    return this.#count
  }

  #settled(): void {
    if (--this.#count > 0) return
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }
}

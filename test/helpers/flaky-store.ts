import type { Store, StoreSetOptions, StoreSize } from '@cachewire/core'

/**
 * A real store behind a switch: while `failing`, every call rejects as a store that cannot be
 * reached would (no mocks: the data lives in the wrapped store). It has no synchronous reads, so
 * every read goes through `get` and can fail.
 */
export class FlakyStore implements Store {
  readonly name = 'flaky'
  readonly inner: Store
  failing = false

  constructor(inner: Store) {
    this.inner = inner
  }

  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (this.failing) throw new Error(`flaky store: ${operation} refused (connection reset)`)
    return run()
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#call('get', () => this.inner.get(key))
  }
  set(key: string, value: Uint8Array, options: StoreSetOptions): Promise<void> {
    return this.#call('set', () => this.inner.set(key, value, options))
  }
  delete(key: string): Promise<boolean> {
    return this.#call('delete', () => this.inner.delete(key))
  }
  has(key: string): Promise<boolean> {
    return this.#call('has', () => this.inner.has(key))
  }
  invalidateTags(tags: readonly string[]): Promise<number> {
    return this.#call('invalidateTags', () => this.inner.invalidateTags(tags))
  }
  countTagged(tags: readonly string[]): Promise<number> {
    return this.#call('countTagged', () => this.inner.countTagged?.(tags) ?? Promise.resolve(0))
  }
  deletePattern(pattern: string): Promise<number> {
    return this.#call('deletePattern', () => this.inner.deletePattern(pattern))
  }
  increment(key: string, by: number, ttlMs: number): Promise<number> {
    return this.#call('increment', () => this.inner.increment(key, by, ttlMs))
  }
  clear(): Promise<void> {
    return this.#call('clear', () => this.inner.clear())
  }
  size(): StoreSize | undefined {
    return this.inner.size?.()
  }
}

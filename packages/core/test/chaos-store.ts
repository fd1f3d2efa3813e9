import type { Store, StoreInvalidationOptions, StoreSetOptions } from '../src/types.js'

/** Wraps a real store and injects failures or latency, so fail-open is tested without mocks. */
export class ChaosStore implements Store {
  readonly name = 'chaos'
  readonly inner: Store
  failing = false
  /** When set, only these methods fail (while `failing`): a store that refuses writes but serves reads. */
  failOnly: ReadonlySet<string> | undefined
  latencyMs = 0
  calls = 0
  /** The `retry` flag of each invalidation call, in order. */
  readonly retries: boolean[] = []

  constructor(inner: Store) {
    this.inner = inner
  }

  async #chaos(method: string): Promise<void> {
    this.calls++
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs))
    if (this.failing && (this.failOnly === undefined || this.failOnly.has(method))) throw new Error('chaos: store unavailable')
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    await this.#chaos('get')
    return this.inner.get(key)
  }
  async set(key: string, value: Uint8Array, options: StoreSetOptions): Promise<void> {
    await this.#chaos('set')
    return this.inner.set(key, value, options)
  }
  async delete(key: string, options?: StoreInvalidationOptions): Promise<boolean> {
    this.retries.push(options?.retry === true)
    await this.#chaos('delete')
    return this.inner.delete(key)
  }
  async has(key: string): Promise<boolean> {
    await this.#chaos('has')
    return this.inner.has(key)
  }
  async invalidateTags(tags: readonly string[], options?: StoreInvalidationOptions): Promise<number> {
    this.retries.push(options?.retry === true)
    await this.#chaos('invalidateTags')
    return this.inner.invalidateTags(tags)
  }
  async deletePattern(pattern: string, options?: StoreInvalidationOptions): Promise<number> {
    this.retries.push(options?.retry === true)
    await this.#chaos('deletePattern')
    return this.inner.deletePattern(pattern)
  }
  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    await this.#chaos('increment')
    return this.inner.increment(key, by, ttlMs)
  }
  async clear(options?: StoreInvalidationOptions): Promise<void> {
    this.retries.push(options?.retry === true)
    await this.#chaos('clear')
    return this.inner.clear()
  }
}

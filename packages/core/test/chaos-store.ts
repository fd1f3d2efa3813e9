import type {
  Store,
  StoreInvalidationOptions,
  StoreSetOptions,
  WindowHitOptions,
  WindowState,
} from '../src/types.js'

/** Wraps a real store and injects failures or latency, so fail-open is tested without mocks. */
export class ChaosStore implements Store {
  readonly name = 'chaos'
  readonly inner: Store
  failing = false
  /** When set, only these methods fail (while `failing`): a store that refuses writes but serves reads. */
  failOnly: ReadonlySet<string> | undefined
  /** Thrown by every call while set (e.g. a StoreTimeoutError), before `failing` is looked at. */
  throwing: Error | undefined
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
    if (this.throwing !== undefined) throw this.throwing
    if (this.failing && (this.failOnly === undefined || this.failOnly.has(method)))
      throw new Error('chaos: store unavailable')
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
  async invalidateTags(
    tags: readonly string[],
    options?: StoreInvalidationOptions
  ): Promise<number> {
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
  async ttl(key: string): Promise<number | undefined> {
    await this.#chaos('ttl')
    return this.inner.ttl?.(key)
  }
  async hitWindow(key: string, options: WindowHitOptions): Promise<WindowState> {
    await this.#chaos('hitWindow')
    return (this.inner.hitWindow as NonNullable<Store['hitWindow']>).call(this.inner, key, options)
  }
}

import type { Store, StoreSetOptions, WindowHitOptions, WindowState } from '../src/types.js'

/** Wraps a real store and injects failures or latency, so fail-open is tested without mocks. */
export class ChaosStore implements Store {
  readonly name = 'chaos'
  readonly inner: Store
  failing = false
  /** Thrown by every call while set (e.g. a StoreTimeoutError), before `failing` is looked at. */
  throwing: Error | undefined
  latencyMs = 0
  calls = 0

  constructor(inner: Store) {
    this.inner = inner
  }

  async #chaos(): Promise<void> {
    this.calls++
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs))
    if (this.throwing !== undefined) throw this.throwing
    if (this.failing) throw new Error('chaos: store unavailable')
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    await this.#chaos()
    return this.inner.get(key)
  }
  async set(key: string, value: Uint8Array, options: StoreSetOptions): Promise<void> {
    await this.#chaos()
    return this.inner.set(key, value, options)
  }
  async delete(key: string): Promise<boolean> {
    await this.#chaos()
    return this.inner.delete(key)
  }
  async has(key: string): Promise<boolean> {
    await this.#chaos()
    return this.inner.has(key)
  }
  async invalidateTags(tags: readonly string[]): Promise<number> {
    await this.#chaos()
    return this.inner.invalidateTags(tags)
  }
  async deletePattern(pattern: string): Promise<number> {
    await this.#chaos()
    return this.inner.deletePattern(pattern)
  }
  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    await this.#chaos()
    return this.inner.increment(key, by, ttlMs)
  }
  async clear(): Promise<void> {
    await this.#chaos()
    return this.inner.clear()
  }
  async ttl(key: string): Promise<number | undefined> {
    await this.#chaos()
    return this.inner.ttl?.(key)
  }
  async hitWindow(key: string, options: WindowHitOptions): Promise<WindowState> {
    await this.#chaos()
    return (this.inner.hitWindow as NonNullable<Store['hitWindow']>).call(this.inner, key, options)
  }
}

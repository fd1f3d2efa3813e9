import {
  CircuitBreaker,
  StoreUnavailableError,
  type BreakerStatus,
  type CircuitBreakerOptions,
  type Store,
  type StoreHealth,
  type StoreObserver,
  type StoreSetOptions,
  type StoreSize,
} from '@cachewire/core'

/**
 * A real store behind a switch: while `failing`, every call rejects as a store that cannot be
 * reached would (no mocks: the data lives in the wrapped store). It has no synchronous reads, so
 * every read goes through `get` and can fail.
 *
 * With `breaker` options it guards itself as a `RedisStore` does (breakers live in the stores
 * that need them): one breaker for node `flaky`, reported in `health()`, its transitions and
 * recovery told to the cache's observer; an open breaker skips calls (`StoreUnavailableError`)
 * and, after its break, lets one call through as the probe.
 */
export class FlakyStore implements Store {
  readonly name = 'flaky'
  readonly inner: Store
  failing = false
  readonly #breaker: CircuitBreaker | undefined
  readonly #observers = new Set<StoreObserver>()

  constructor(inner: Store, options: { breaker?: Omit<CircuitBreakerOptions, 'clock'> } = {}) {
    this.inner = inner
    if (options.breaker === undefined) return
    const breaker = new CircuitBreaker(options.breaker)
    breaker.onTransition((from, to) => {
      for (const observer of this.#observers) {
        observer.transition?.({ from, to, node: 'flaky', direction: 'read' })
        if (to === 'closed') void observer.recovered()
      }
    })
    this.#breaker = breaker
  }

  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const breaker = this.#breaker
    if (breaker !== undefined && !breaker.allow())
      throw new StoreUnavailableError(`flaky store: ${operation} skipped (breaker open)`, {
        reason: 'breaker-open',
        operation,
      })
    try {
      if (this.failing) throw new Error(`flaky store: ${operation} refused (connection reset)`)
      const result = await run()
      breaker?.success()
      return result
    } catch (error) {
      breaker?.failure()
      throw error
    }
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
  health(): StoreHealth | undefined {
    const breaker = this.#breaker
    if (breaker === undefined) return undefined
    const breakers: BreakerStatus[] = [
      { node: 'flaky', direction: 'read', state: breaker.state, retryInMs: breaker.retryInMs },
    ]
    const none = { 'breaker-open': 0, 'queue-full': 0, 'queue-timeout': 0 }
    return { breakers, inFlight: 0, queued: 0, dropped: { read: { ...none }, write: { ...none } } }
  }
  observe(observer: StoreObserver): () => void {
    this.#observers.add(observer)
    return () => this.#observers.delete(observer)
  }
}

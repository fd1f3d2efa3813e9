import { InvalidOptionError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'
import { MemoryStore } from './memory-store.js'
import type { Bus, InvalidationMessage, Store, StoreSetOptions, StoreSize } from '../types.js'

export interface TieredStoreOptions {
  /** The shared, authoritative store (usually a `RedisStore`). */
  l2: Store
  /** The in-process copy. @default new MemoryStore({ maxBytes: 32 MiB }) */
  l1?: Store
  /** Carries invalidations to the other processes' L1 (usually a `RedisBus`). Without one, L1 copies live at most `l1MaxTtl`. */
  bus?: Bus
  /**
   * Longest an L1 copy lives, whatever the entry's own TTL: the bound on how stale a process can
   * be if an invalidation message is lost. A lifetime: `'1m'`, or milliseconds (1000 or more). @default '1m'
   */
  l1MaxTtl?: Duration
  /** Called with errors of the bus (publish failures); they never fail a cache call. */
  onError?: (error: unknown) => void
}

const TIERED_STORE_OPTIONS = ['l2', 'l1', 'bus', 'l1MaxTtl', 'onError'] as const
const RENAMED_TIERED_STORE_OPTIONS = { l1MaxTtlMs: 'l1MaxTtl' } as const

/**
 * Memory in front of a shared store. Reads try L1 first; L1 misses read L2 and keep a copy for
 * at most `l1MaxTtl` (never longer than the entry's own TTL). Every write and invalidation is
 * sent over the bus, so other processes drop their copies; L1 keeps serving while L2 is down.
 *
 * @example
 * ```ts
 * import { Cache, TieredStore } from '@cachewire/core'
 * import { RedisStore, RedisBus } from '@cachewire/core/redis'
 *
 * const store = new TieredStore({ l2: new RedisStore({ client: redis }), bus: new RedisBus({ client: redis }) })
 * await store.start() // subscribe to invalidations
 * const cache = new Cache({ store })
 * ```
 */
export class TieredStore implements Store {
  readonly name = 'tiered'
  readonly syncReads = 'partial'
  readonly l1: Store
  readonly l2: Store
  readonly #bus: Bus | undefined
  readonly #l1MaxTtlMs: number
  readonly #onError: (error: unknown) => void
  #started: Promise<void> | undefined

  constructor(options: TieredStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
    rejectUnknownOptions(options, TIERED_STORE_OPTIONS, '', RENAMED_TIERED_STORE_OPTIONS)
    if (typeof options.l2?.get !== 'function') throw new InvalidOptionError('l2', 'a Store', options.l2)
    if (options.l1 !== undefined && typeof options.l1?.get !== 'function') throw new InvalidOptionError('l1', 'a Store', options.l1)
    if (options.bus !== undefined && typeof options.bus?.publish !== 'function') throw new InvalidOptionError('bus', 'a Bus (publish, subscribe)', options.bus)
    this.l2 = options.l2
    this.l1 = options.l1 ?? new MemoryStore({ maxBytes: 32 * 1024 * 1024 })
    this.#bus = options.bus
    this.#l1MaxTtlMs = parseDuration(options.l1MaxTtl ?? '1m', 'l1MaxTtl')
    if (options.onError !== undefined && typeof options.onError !== 'function') throw new InvalidOptionError('onError', 'a function', options.onError)
    this.#onError = options.onError ?? (() => {})
  }

  /** Pings L2 (L1 is in this process); resolves at once when L2 cannot be pinged. */
  async ping(): Promise<void> {
    await this.l2.ping?.()
  }

  /** Subscribes to the bus. Idempotent; reads and writes work before it, but peers' invalidations arrive only after. */
  start(): Promise<void> {
    this.#started ??= this.#bus?.subscribe((message) => void this.#apply(message), () => void this.l1.clear()) ?? Promise.resolve()
    return this.#started
  }

  /** An L1 copy, without I/O; `undefined` means "ask `get`", which also reads L2. */
  getSync(key: string): Uint8Array | undefined {
    return this.l1.getSync?.(key)
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getWithTtl(key))?.value
  }

  async getWithTtl(key: string): Promise<{ value: Uint8Array; ttlMs: number } | undefined> {
    const near = this.l1.getWithTtl !== undefined ? await this.l1.getWithTtl(key) : await this.#plainGet(this.l1, key)
    if (near !== undefined) return near
    const far = this.l2.getWithTtl !== undefined ? await this.l2.getWithTtl(key) : await this.#plainGet(this.l2, key)
    if (far === undefined) return undefined
    await this.l1.set(key, far.value, { ttlMs: Math.min(far.ttlMs, this.#l1MaxTtlMs) })
    return far
  }

  async set(key: string, value: Uint8Array, options: StoreSetOptions): Promise<void> {
    // L1 first: while L2 is down this process still serves what it just computed.
    await this.l1.set(key, value, { ...options, ttlMs: Math.min(options.ttlMs, this.#l1MaxTtlMs) })
    await this.l2.set(key, value, options)
    this.#publish({ op: 'keys', keys: [key] })
  }

  async delete(key: string): Promise<boolean> {
    const [near, far] = await Promise.all([this.l1.delete(key), this.l2.delete(key)])
    this.#publish({ op: 'keys', keys: [key] })
    return near || far
  }

  async has(key: string): Promise<boolean> {
    return (await this.l1.has(key)) || this.l2.has(key)
  }

  async countTagged(tags: readonly string[]): Promise<number> {
    // L2 holds everything L1 does (L1 copies read from L2 carry no tags).
    return this.l2.countTagged !== undefined ? this.l2.countTagged(tags) : (this.l1.countTagged?.(tags) ?? 0)
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    await this.l1.invalidateTags(tags)
    if (this.l2.invalidateTagsReturningKeys !== undefined) {
      const keys = await this.l2.invalidateTagsReturningKeys(tags)
      // Peers may hold copies read from L2, which they could not file under tags: name the keys.
      if (keys.length > 0) this.#publish({ op: 'keys', keys })
      this.#publish({ op: 'tags', tags })
      return keys.length
    }
    const removed = await this.l2.invalidateTags(tags)
    this.#publish({ op: 'clear' })
    return removed
  }

  async deletePattern(pattern: string): Promise<number> {
    await this.l1.deletePattern(pattern)
    const removed = await this.l2.deletePattern(pattern)
    this.#publish({ op: 'pattern', pattern })
    return removed
  }

  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    // Counters live in L2 only: a copy in L1 would be wrong after any other process counts.
    const value = await this.l2.increment(key, by, ttlMs)
    await this.l1.delete(key)
    return value
  }

  async clear(): Promise<void> {
    await Promise.all([this.l1.clear(), this.l2.clear()])
    this.#publish({ op: 'clear' })
  }

  acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.l2.acquireLock?.(key, token, ttlMs) ?? Promise.resolve(true)
  }

  releaseLock(key: string, token: string): Promise<boolean> {
    return this.l2.releaseLock?.(key, token) ?? Promise.resolve(true)
  }

  size(): StoreSize | undefined {
    return this.l1.size?.()
  }

  async close(): Promise<void> {
    await this.#bus?.close?.()
    await this.l2.close?.()
    await this.l1.close?.()
  }

  async #plainGet(store: Store, key: string): Promise<{ value: Uint8Array; ttlMs: number } | undefined> {
    const value = await store.get(key)
    return value === undefined ? undefined : { value, ttlMs: this.#l1MaxTtlMs }
  }

  #publish(message: InvalidationMessage): void {
    if (this.#bus === undefined) return
    this.#bus.publish(message).catch(this.#onError)
  }

  async #apply(message: InvalidationMessage): Promise<void> {
    try {
      switch (message.op) {
        case 'keys':
          await Promise.all(message.keys.map((key) => this.l1.delete(key)))
          return
        case 'tags':
          await this.l1.invalidateTags(message.tags)
          return
        case 'pattern':
          await this.l1.deletePattern(message.pattern)
          return
        case 'clear':
          await this.l1.clear()
          return
      }
    } catch (error) {
      this.#onError(error)
    }
  }
}

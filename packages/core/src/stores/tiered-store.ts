import { InvalidOptionError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'
import { MemoryStore } from './memory-store.js'
import { OutageLog, type OutageStats } from './tiered-outage.js'
import type { StoreHealth, StoreObserver } from '../resilience/store-health.js'
import type {
  BoundedSetResult,
  Bus,
  EntryAge,
  InvalidationMessage,
  Store,
  StoreInvalidationOptions,
  StoreMeasure,
  StoreSetOptions,
  StoreSize,
  WindowHitOptions,
  WindowState,
} from '../types.js'

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
 * sent over the bus, so other processes drop their copies.
 *
 * While L2 is down, L1 keeps answering data reads, and writes land in L1 (for the entry's whole
 * TTL) and still reject, so the caller knows the shared store did not take them. Their keys are
 * remembered; once L2 answers again each is deleted from L2 and from every L1, so all processes
 * reload it from the source of truth. Values written during the outage are not replayed to L2: a
 * peer may have written a newer one meanwhile, and deleting is the one safe merge for a cache.
 * An invalidation L2 cannot take now still drops this process's L1 copies at once (the cache
 * queues it and retries it).
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
  readonly #outage = new OutageLog()
  #started: Promise<void> | undefined

  constructor(options: TieredStoreOptions) {
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('', 'an object', options)
    rejectUnknownOptions(options, TIERED_STORE_OPTIONS, '', RENAMED_TIERED_STORE_OPTIONS)
    if (typeof options.l2?.get !== 'function')
      throw new InvalidOptionError('l2', 'a Store', options.l2)
    if (options.l1 !== undefined && typeof options.l1?.get !== 'function')
      throw new InvalidOptionError('l1', 'a Store', options.l1)
    if (options.bus !== undefined && typeof options.bus?.publish !== 'function')
      throw new InvalidOptionError('bus', 'a Bus (publish, subscribe)', options.bus)
    this.l2 = options.l2
    this.l1 = options.l1 ?? new MemoryStore({ maxBytes: 32 * 1024 * 1024 })
    this.#bus = options.bus
    this.#l1MaxTtlMs = parseDuration(options.l1MaxTtl ?? '1m', 'l1MaxTtl')
    if (options.onError !== undefined && typeof options.onError !== 'function')
      throw new InvalidOptionError('onError', 'a function', options.onError)
    this.#onError = options.onError ?? (() => {})
  }

  /** Pings L2 (L1 is in this process); resolves at once when L2 cannot be pinged. */
  async ping(): Promise<void> {
    await this.l2.ping?.()
  }

  /** Subscribes to the bus. Idempotent; reads and writes work before it, but peers' invalidations arrive only after. */
  start(): Promise<void> {
    this.#started ??=
      this.#bus?.subscribe(
        (message) => void this.#apply(message),
        // Messages sent while we were away are lost: drop every copy, and settle what an outage left.
        () => void this.l1.clear().then(() => this.#l2Answered())
      ) ?? Promise.resolve()
    return this.#started
  }

  /** An L1 copy, without I/O; `undefined` means "ask `get`", which also reads L2. */
  getSync(key: string): Uint8Array | undefined {
    return this.l1.getSync?.(key)
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getWithTtl(key))?.value
  }

  /** A reader's memory for an L1 copy, counted by L1 (see `Store.retain`); L2 keeps no decodings. */
  retain(key: string, value: Uint8Array, bytes: number): void {
    this.l1.retain?.(key, value, bytes)
  }

  async getWithTtl(key: string): Promise<{ value: Uint8Array; ttlMs: number } | undefined> {
    const near =
      this.l1.getWithTtl !== undefined
        ? await this.l1.getWithTtl(key)
        : await this.#plainGet(this.l1, key)
    if (near !== undefined) return near
    const far = await this.#l2(() =>
      this.l2.getWithTtl !== undefined ? this.l2.getWithTtl(key) : this.#plainGet(this.l2, key)
    )
    if (far === undefined) return undefined
    await this.l1.set(key, far.value, { ttlMs: Math.min(far.ttlMs, this.#l1MaxTtlMs) })
    return far
  }

  async set(key: string, value: Uint8Array, options: StoreSetOptions): Promise<void> {
    // L1 first: while L2 is down this process still serves what it just computed.
    await this.l1.set(key, value, { ...options, ttlMs: Math.min(options.ttlMs, this.#l1MaxTtlMs) })
    try {
      await this.#l2(() => this.l2.set(key, value, options), key)
    } catch (error) {
      // The only copy now: keep it for its whole TTL, until the outage is reconciled.
      await this.l1.set(key, value, options)
      throw error
    }
    this.#publish({ op: 'keys', keys: [key] })
  }

  async delete(key: string, options?: StoreInvalidationOptions): Promise<boolean> {
    const near = await this.l1.delete(key)
    const far = await this.#l2(() => this.l2.delete(key, options), key)
    this.#publish({ op: 'keys', keys: [key] })
    return near || far
  }

  async has(key: string): Promise<boolean> {
    return (await this.l1.has(key)) || this.#l2(() => this.l2.has(key))
  }

  /** L2's TTL (the authoritative one); L1's while L2 is down. */
  async ttl(key: string): Promise<number | undefined> {
    const l2 = this.l2
    if (l2.ttl !== undefined) {
      try {
        return await this.#l2(() => (l2.ttl as NonNullable<Store['ttl']>).call(l2, key))
      } catch (error) {
        const near = await this.l1.ttl?.(key)
        if (near !== undefined) return near
        throw error
      }
    }
    return (await this.getWithTtl(key))?.ttlMs
  }

  /** Decided by L2 (the shared truth); L1 takes the value only when L2 wrote it. */
  async setIf(
    key: string,
    value: Uint8Array,
    options: StoreSetOptions,
    condition: 'absent' | 'present'
  ): Promise<boolean> {
    const l2 = this.l2
    if (l2.setIf === undefined) throw new TypeError(`the L2 store (${l2.name}) has no setIf`)
    const written = await this.#l2(() =>
      (l2.setIf as NonNullable<Store['setIf']>).call(l2, key, value, options, condition)
    )
    if (!written) return false
    await this.l1.set(key, value, { ...options, ttlMs: Math.min(options.ttlMs, this.#l1MaxTtlMs) })
    this.#publish({ op: 'keys', keys: [key] })
    return true
  }

  /** Rate windows live in L2 only, like counters: every process must count in one place. */
  async hitWindow(key: string, options: WindowHitOptions): Promise<WindowState> {
    const l2 = this.l2
    if (l2.hitWindow === undefined)
      throw new TypeError(`the L2 store (${l2.name}) has no hitWindow`)
    return this.#l2(() => (l2.hitWindow as NonNullable<Store['hitWindow']>).call(l2, key, options))
  }

  async cleanupExpired(): Promise<number> {
    return (await this.l1.cleanupExpired?.()) ?? 0
  }

  /** Of L1's copies (L2 may not be able to tell). */
  oldestAndNewest(prefix: string): { oldest: EntryAge | undefined; newest: EntryAge | undefined } {
    return this.l1.oldestAndNewest?.(prefix) ?? { oldest: undefined, newest: undefined }
  }

  async measure(): Promise<StoreMeasure> {
    const l2 = this.l2
    if (l2.measure !== undefined) return l2.measure()
    const size = l2.size?.() ?? this.l1.size?.()
    return {
      entries: size?.entries ?? 0,
      bytes: size?.bytes ?? 0,
      exact: false,
      measuredAt: Date.now(),
    }
  }

  /** Whether L2 is down, and what an outage left to reconcile. */
  outage(): OutageStats {
    return this.#outage.stats()
  }

  /** Resolves once a reconciliation under way has finished (for tests and graceful shutdown). */
  async reconciled(): Promise<void> {
    await this.#outage.settled()
  }

  async countTagged(tags: readonly string[]): Promise<number> {
    // L2 holds everything L1 does (L1 copies read from L2 carry no tags).
    return this.l2.countTagged !== undefined
      ? this.l2.countTagged(tags)
      : (this.l1.countTagged?.(tags) ?? 0)
  }

  async invalidateTags(
    tags: readonly string[],
    options?: StoreInvalidationOptions
  ): Promise<number> {
    await this.l1.invalidateTags(tags)
    try {
      const l2 = this.l2
      if (l2.invalidateTagsReturningKeys !== undefined) {
        const keys = await this.#l2(() =>
          (
            l2.invalidateTagsReturningKeys as NonNullable<Store['invalidateTagsReturningKeys']>
          ).call(l2, tags, options)
        )
        // Copies read from L2 carry no tags, here or on peers: name the keys.
        await Promise.all(keys.map((key) => this.l1.delete(key)))
        if (keys.length > 0) this.#publish({ op: 'keys', keys })
        this.#publish({ op: 'tags', tags })
        return keys.length
      }
      const removed = await this.#l2(() => l2.invalidateTags(tags, options))
      await this.l1.clear()
      this.#publish({ op: 'clear' })
      return removed
    } catch (error) {
      // Which L1 copies carry these tags only L2 knows: drop them all, once (not on every retry).
      if (options?.retry !== true) await this.l1.clear()
      throw error
    }
  }

  async deletePattern(pattern: string, options?: StoreInvalidationOptions): Promise<number> {
    await this.l1.deletePattern(pattern)
    const removed = await this.l2.deletePattern(pattern, options)
    this.#publish({ op: 'pattern', pattern })
    return removed
  }

  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    // Counters live in L2 only: a copy in L1 would be wrong after any other process counts.
    const value = await this.#l2(() => this.l2.increment(key, by, ttlMs))
    await this.l1.delete(key)
    return value
  }

  async clear(options?: StoreInvalidationOptions): Promise<void> {
    await Promise.all([this.l1.clear(), this.l2.clear(options)])
    this.#publish({ op: 'clear' })
  }

  acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.l2.acquireLock?.(key, token, ttlMs) ?? Promise.resolve(true)
  }

  releaseLock(key: string, token: string): Promise<boolean> {
    return this.l2.releaseLock?.(key, token) ?? Promise.resolve(true)
  }

  /** The shared set lives in L2 (it decides), so every process counts against one cap. */
  async addToBoundedSet(
    key: string,
    member: string,
    max: number,
    ttlMs: number
  ): Promise<BoundedSetResult> {
    const owner = this.l2.addToBoundedSet !== undefined ? this.l2 : this.l1
    if (owner.addToBoundedSet === undefined)
      throw new TypeError(`neither ${this.l2.name} nor ${this.l1.name} can keep a bounded set`)
    return owner.addToBoundedSet(key, member, max, ttlMs)
  }

  size(): StoreSize | undefined {
    return this.l1.size?.()
  }

  /** L2's breakers and pending work: L1 has none. */
  health(): StoreHealth | undefined {
    return this.l2.health?.()
  }

  observe(observer: StoreObserver): () => void {
    return this.l2.observe?.(observer) ?? (() => {})
  }

  async close(): Promise<void> {
    await this.#bus?.close?.()
    await this.l2.close?.()
    await this.l1.close?.()
  }

  /** Runs an L2 call, tracking outages: a failure marks L2 down (and remembers `key`, written in L1 only); a success settles what an outage left. */
  async #l2<T>(run: () => Promise<T>, key?: string): Promise<T> {
    let result: T
    try {
      result = await run()
    } catch (error) {
      this.#outage.failed(key)
      throw error
    }
    this.#l2Answered()
    return result
  }

  #l2Answered(): void {
    this.#outage.succeeded(async (keys, untracked) => {
      await Promise.all(keys.map((key) => this.l2.delete(key)))
      await Promise.all(keys.map((key) => this.l1.delete(key)))
      if (keys.length > 0) this.#publish({ op: 'keys', keys })
      if (untracked > 0) {
        // More writes than could be remembered: L1 may hold any of them, so L1 goes; L2 keeps older values until their TTL.
        await this.l1.clear()
        this.#onError(
          new Error(
            `cachewire tiered store: ${untracked} write(s) made while L2 was down were not tracked; their L2 entries may be stale until their TTL`
          )
        )
      }
    })
  }

  async #plainGet(
    store: Store,
    key: string
  ): Promise<{ value: Uint8Array; ttlMs: number } | undefined> {
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

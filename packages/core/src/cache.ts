import { EventEmitter } from 'node:events'
import { assertKey, assertOptions, assertTags } from './arguments.js'
import { InvalidArgumentError } from './errors.js'
import { parseDuration, type Duration } from './duration.js'
import { escapeGlob } from './glob.js'
import { NamespaceKeys } from './namespaces.js'
import { CacheReads, DecodedValues } from './reads.js'
import { encodeValue } from './serializers.js'
import { StatsCounters } from './stats.js'
import { resolveCacheOptions, type CacheOptions } from './options.js'
import { SingleFlight } from './patterns/single-flight.js'
import {
  CacheAside,
  LoaderDurations,
  type WrapContext,
  type WrapHost,
  type WrapOptions,
} from './patterns/wrap.js'
import { acquireStoreLock, type LockHandle } from './patterns/lock.js'
import { cached, type CachedOptions } from './patterns/cached.js'
import { writeThrough } from './patterns/write-through.js'
import { WriteBehind, type WriteBehindOptions } from './patterns/write-behind.js'
import { StoreCalls } from './resilience/store-call.js'
import { checkHealth, type CacheHealth, type CacheHealthOptions } from './health.js'
import { traceGet, traceInvalidate, traceSet, traceWrap } from './tracing.js'
import type { CacheEvents, CacheStats, SetOptions, Store } from './types.js'

const SET_OPTIONS = ['ttl', 'tags'] as const
const TTL_ONLY = ['ttl'] as const

/** What a cache and every namespace view of it share. */
interface Shared {
  store: Store
  defaultTtlMs: number
  stats: StatsCounters
  calls: StoreCalls
  values: DecodedValues
  events: EventEmitter<CacheEvents>
  wrap: WrapContext
}

/**
 * The cache facade over a `Store`: typed get/set, TTLs as durations (`'30s'`, `'5 minutes'`),
 * tags, namespaces, cache-aside with single-flight, stats and events. It fails open: a store
 * error or timeout is a miss (or a skipped write) plus an `error` event, never an exception on
 * the read path.
 *
 * @example
 * ```ts
 * import { Cache } from '@cachewire/core'
 *
 * const cache = new Cache({ defaultTtl: '5m' })
 * await cache.set('user:1', { name: 'Ada' }, { tags: ['users'] })
 * const user = await cache.get<{ name: string }>('user:1')
 * const fresh = await cache.wrap('user:2', () => loadUser(2), { ttl: '30s' })
 * await cache.invalidateTags(['users'])
 * ```
 */
export class Cache {
  readonly #shared: Shared
  readonly #namespace: string | undefined
  readonly #keys: NamespaceKeys
  readonly #reads: CacheReads
  readonly #aside: CacheAside

  constructor(options: CacheOptions = {}) {
    if (options instanceof ViewInit) {
      // A namespace view shares the store, stats, breaker, events and flights of its root.
      this.#shared = options.shared
      this.#namespace = options.namespace
    } else {
      const resolved = resolveCacheOptions(options)
      const stats = new StatsCounters()
      const events = new EventEmitter<CacheEvents>()
      this.#shared = {
        store: resolved.store,
        defaultTtlMs: resolved.defaultTtlMs,
        stats,
        calls: new StoreCalls(resolved.breaker, stats, events, resolved.store),
        values: new DecodedValues(),
        events,
        wrap: {
          flights: new SingleFlight(),
          loaderDurations: new LoaderDurations(),
          clock: resolved.clock,
          timer: resolved.timer,
          random: resolved.random,
        },
      }
      this.#namespace = undefined
    }
    this.#keys = new NamespaceKeys(this.#namespace, this.#shared.store, this.#shared.calls)
    this.#reads = new CacheReads(this.#shared, this.#keys)
    this.#aside = new CacheAside(this.#wrapHost(), this.#shared.wrap)
  }

  /** The store under this cache (shared by its namespaces). */
  get store(): Store {
    return this.#shared.store
  }

  /** This view's namespace, or `undefined` for the root cache. */
  get namespaceName(): string | undefined {
    return this.#namespace
  }

  /**
   * A view whose keys live in their own namespace. `invalidate()` on it drops every key in the
   * namespace in O(1) by moving to a new version; old entries age out by TTL or LRU.
   */
  namespace(name: string): Cache {
    assertKey(name, 'namespace name')
    const fullName = this.#namespace === undefined ? name : `${this.#namespace}:${name}`
    return new Cache(new ViewInit(this.#shared, fullName) as unknown as CacheOptions)
  }

  on<K extends keyof CacheEvents>(event: K, listener: (...args: CacheEvents[K]) => void): this {
    this.#shared.events.on(event, listener as never)
    return this
  }

  off<K extends keyof CacheEvents>(event: K, listener: (...args: CacheEvents[K]) => void): this {
    this.#shared.events.off(event, listener as never)
    return this
  }

  once<K extends keyof CacheEvents>(event: K, listener: (...args: CacheEvents[K]) => void): this {
    this.#shared.events.once(event, listener as never)
    return this
  }

  /** The stored value, or `undefined` on a miss, an expired entry, a store fault or an undecodable value. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    assertKey(key, 'key')
    return traceGet(this.#shared.store, this.#namespace, key, () => this.#reads.get<T>(key))
  }

  /**
   * Reads without I/O when the store can (a memory store, a tiered store's L1): resolves nothing,
   * returns at once. `{ value }` is the answer (`value` undefined: a miss); `undefined` means it
   * cannot be told synchronously, so call `get`. For hot paths that want to skip promise work.
   *
   * @example
   * ```ts
   * const found = cache.readSync<Buffer>('k')
   * const value = found !== undefined ? found.value : await cache.get<Buffer>('k')
   * ```
   */
  readSync<T = unknown>(key: string): { value: T | undefined } | undefined {
    assertKey(key, 'key')
    return this.#reads.readSync<T>(key)
  }

  /**
   * Stores `value` (JSON data, or bytes kept as they are). Resolves `true` when stored; a store
   * fault resolves `false` and emits `error`. Bad arguments (an empty key, `undefined`, an
   * unknown option, a TTL like `60` that reads as 60 ms) reject.
   */
  async set(key: string, value: unknown, options: SetOptions = {}): Promise<boolean> {
    assertKey(key, 'key')
    assertOptions(options, SET_OPTIONS)
    const ttlMs = this.#ttlMs(options.ttl)
    const tags = options.tags
    if (tags !== undefined) for (const tag of tags) assertKey(tag, 'tag')
    const bytes = encodeValue(value, key)
    const details = { ttlMs, tags, bytes: bytes.byteLength }
    return traceSet(this.#shared.store, this.#namespace, key, details, async () => {
      const storeKey = await this.#keys.storeKey(key)
      if (storeKey === undefined) return false
      const stored = await this.#call(
        'set',
        () => this.#shared.store.set(storeKey, bytes, { ttlMs, tags }).then(() => true),
        false
      )
      if (stored) {
        this.#shared.stats.sets++
        this.#shared.events.emit('set', { key, ttlMs, bytes: bytes.byteLength })
      }
      return stored
    })
  }

  async delete(key: string): Promise<boolean> {
    assertKey(key, 'key')
    return traceInvalidate(this.#shared.store, this.#namespace, { kind: 'delete', key }, async () => {
      const storeKey = await this.#keys.storeKey(key)
      if (storeKey === undefined) return false
      const removed = await this.#call('delete', () => this.#shared.store.delete(storeKey), false)
      if (removed) {
        this.#shared.stats.deletes++
        this.#shared.events.emit('delete', { key })
      }
      return removed
    })
  }

  async has(key: string): Promise<boolean> {
    assertKey(key, 'key')
    const storeKey = await this.#keys.storeKey(key)
    if (storeKey === undefined) return false
    return this.#call('has', () => this.#shared.store.has(storeKey), false)
  }

  /** Removes every entry filed under any of `tags`, on every process sharing the store. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    assertTags(tags)
    if (tags.length === 0) return 0
    return traceInvalidate(this.#shared.store, this.#namespace, { kind: 'tags', tags }, async () => {
      const removed = await this.#call(
        'invalidateTags',
        () => this.#shared.store.invalidateTags(tags),
        0
      )
      this.#shared.stats.deletes += removed
      this.#shared.events.emit('invalidate', { tags, removed })
      return removed
    })
  }

  /**
   * How many entries `invalidateTags(tags)` would remove now, removing nothing (a dry run).
   * Resolves `undefined` when the store cannot count, or cannot be reached.
   *
   * @example
   * ```ts
   * const wouldGo = await cache.countTagged(['products'])
   * ```
   */
  async countTagged(tags: readonly string[]): Promise<number | undefined> {
    assertTags(tags)
    const store = this.#shared.store
    if (store.countTagged === undefined) return undefined
    if (tags.length === 0) return 0
    return this.#call(
      'countTagged',
      () => (store.countTagged as NonNullable<Store['countTagged']>)(tags),
      undefined
    )
  }

  /** Removes every key (of this namespace) matching a glob, by SCAN on Redis: never KEYS. */
  async deletePattern(pattern: string): Promise<number> {
    if (typeof pattern !== 'string' || pattern.length === 0)
      throw new InvalidArgumentError('pattern', 'a non-empty glob', pattern)
    return traceInvalidate(this.#shared.store, this.#namespace, { kind: 'pattern', pattern }, async () => {
      const prefix = await this.#keys.storePrefix()
      if (prefix === undefined) return 0
      const removed = await this.#call(
        'deletePattern',
        () => this.#shared.store.deletePattern(escapeGlob(prefix) + pattern),
        0
      )
      this.#shared.stats.deletes += removed
      this.#shared.events.emit('invalidate', { pattern, removed })
      return removed
    })
  }

  /**
   * Atomically adds `by` to a counter and resolves the new value; the TTL applies when the counter
   * is created. Resolves `undefined` when the store cannot be reached, so callers choose how to fail.
   */
  async increment(
    key: string,
    by = 1,
    options: { ttl?: Duration } = {}
  ): Promise<number | undefined> {
    assertKey(key, 'key')
    if (!Number.isSafeInteger(by)) throw new InvalidArgumentError('by', 'a safe integer', by)
    assertOptions(options, TTL_ONLY)
    const ttlMs = this.#ttlMs(options.ttl)
    const storeKey = await this.#keys.storeKey(key)
    if (storeKey === undefined) return undefined
    return this.#call(
      'increment',
      () => this.#shared.store.increment(storeKey, by, ttlMs),
      undefined
    )
  }

  /** Root cache: empties the store. Namespace view: invalidates the namespace. */
  async clear(): Promise<void> {
    if (this.#namespace !== undefined) return this.invalidate()
    await traceInvalidate(this.#shared.store, undefined, { kind: 'clear' }, async () => {
      await this.#call('clear', () => this.#shared.store.clear(), undefined)
      this.#shared.events.emit('invalidate', { pattern: '*', removed: 0 })
    })
  }

  /**
   * Cache-aside with in-process single-flight: returns the cached value, or runs `loader` once
   * for all concurrent callers of the same key, caches its result and hands it to each of them.
   * A loader error reaches every waiter and is not cached. See `WrapOptions` for the fill lock
   * across processes and early refresh.
   */
  async wrap<T>(
    key: string,
    loader: () => T | Promise<T>,
    options: WrapOptions<T> = {}
  ): Promise<T> {
    assertKey(key, 'key')
    return traceWrap(this.#shared.store, this.#namespace, key, (trace) => this.#aside.wrap(key, loader, options, trace))
  }

  /**
   * Takes a named lock shared by every process on the store, for `ttl` (default 10 s). Resolves a
   * handle, or `undefined` when someone else holds it. Fails open: if the store cannot be asked,
   * the caller gets a handle, as if it had won. Lock tokens are crypto-random.
   */
  async acquireLock(
    name: string,
    options: { ttl?: Duration } = {}
  ): Promise<LockHandle | undefined> {
    assertKey(name, 'lock name')
    assertOptions(options, TTL_ONLY)
    return this.#acquireLock(name, parseDuration(options.ttl ?? '10s', 'ttl'))
  }

  /** Alias of `wrap`, under the name other cache libraries use. */
  getOrSet<T>(key: string, loader: () => T | Promise<T>, options: WrapOptions<T> = {}): Promise<T> {
    return this.wrap(key, loader, options)
  }

  /** Wraps a function so calls with the same key are served from this cache. See `cached`. */
  cached<Args extends unknown[], T>(
    fn: (...args: Args) => T | Promise<T>,
    options: CachedOptions<Args, T>
  ): (...args: Args) => Promise<T> {
    return cached(this, fn, options)
  }

  /** Persists `value` with `persist`, then caches it. See `writeThrough`. */
  writeThrough<T, R>(
    key: string,
    value: T,
    persist: (value: T) => R | Promise<R>,
    options: SetOptions = {}
  ): Promise<R> {
    return writeThrough(this, key, value, persist, options)
  }

  /** A write-behind writer over this cache. See `WriteBehind`. */
  writeBehind<T>(options: WriteBehindOptions<T>): WriteBehind<T> {
    return new WriteBehind<T>(this, options)
  }

  /** Counters since the cache was built, plus entries and bytes where the store can tell. */
  stats(): CacheStats {
    return this.#shared.stats.snapshot(this.#shared.store.size?.(), this.#shared.calls.breakerState)
  }

  /**
   * Whether the store answers (a ping within `timeout`, where the store can ping), its breakers
   * and queues: for readiness probes and dashboards. Never rejects. See `CacheHealth`.
   */
  async health(options: CacheHealthOptions = {}): Promise<CacheHealth> {
    return checkHealth(this.#shared.store, () => this.stats(), options, this.#shared.wrap.clock)
  }

  /** Closes the store (connections the store opened itself). */
  async close(): Promise<void> {
    await this.#shared.store.close?.()
  }

  /** Invalidates this namespace view in O(1). Throws on the root cache; use `clear()` there. */
  async invalidate(): Promise<void> {
    const namespace = this.#namespace
    if (namespace === undefined)
      throw new InvalidArgumentError(
        'invalidate()',
        'called on a namespace view (cache.namespace(name))',
        'the root cache'
      )
    await traceInvalidate(this.#shared.store, namespace, { kind: 'namespace' }, () => this.#keys.renew())
    this.#shared.events.emit('invalidate', { namespace, removed: 0 })
  }

  /** What cache-aside reads and writes through: this view's own methods. */
  #wrapHost(): WrapHost {
    return {
      namespace: this.#namespace,
      get: (key) => this.get(key),
      getWithTtl: (key) => this.#reads.getWithTtl(key),
      set: (key, value, options) => this.set(key, value, options),
      acquireLock: (name, ttlMs) => this.#acquireLock(name, ttlMs),
      report: (error) => this.#report(error),
    }
  }

  async #acquireLock(name: string, ttlMs: number): Promise<LockHandle | undefined> {
    const store = this.#shared.store
    const storeKey = store.acquireLock === undefined ? undefined : await this.#keys.storeKey(name)
    return acquireStoreLock(store, storeKey, ttlMs, this.#shared.calls)
  }

  #ttlMs(ttl: Duration | undefined): number {
    return ttl === undefined ? this.#shared.defaultTtlMs : parseDuration(ttl, 'ttl')
  }

  #call<T>(operation: string, run: () => Promise<T>, fallback: T): Promise<T> {
    return this.#shared.calls.call(operation, run, fallback)
  }

  #report(error: Error): void {
    this.#shared.calls.report(error)
  }
}

/** Construction token for namespace views; module-private, so users cannot forge one. */
class ViewInit {
  readonly shared: Shared
  readonly namespace: string
  constructor(shared: Shared, namespace: string) {
    this.shared = shared
    this.namespace = namespace
  }
}

import { assertKey, assertOptions, assertTags } from './arguments.js'
import { InvalidArgumentError } from './errors.js'
import { parseDuration, type Duration } from './duration.js'
import {
  clearInvalidation,
  keyInvalidation,
  namespaceInvalidation,
  patternInvalidation,
  tagInvalidation,
  type InvalidationContext,
} from './invalidations.js'
import { NamespaceKeys } from './namespaces.js'
import { CacheReads, NOT_SYNC, resolveStrict, type EntryMeta, type ReadOptions } from './reads.js'
import { encodeValue } from './serializers.js'
import { CacheWrites } from './writes.js'
import { CacheInspection } from './inspection.js'
import { kStoreAccess, type StoreAccess } from './store-access.js'
import {
  cacheStats,
  closeShared,
  createShared,
  ViewInit,
  whenIdle,
  type Shared,
} from './cache-context.js'
import { addToBoundedSet, type BoundedSetOptions } from './bounded-set.js'
import type { Invalidation } from './resilience/invalidation-queue.js'
import type { CacheOptions } from './options.js'
import { CacheAside, type WrapHost, type WrapOptions } from './patterns/wrap.js'
import { acquireStoreLock, type LockHandle } from './patterns/lock.js'
import { cached, type CachedOptions } from './patterns/cached.js'
import { writeThrough } from './patterns/write-through.js'
import { WriteBehind, type WriteBehindOptions } from './patterns/write-behind.js'
import { kPendingWrites, pendingHooks, type PendingHooks } from './patterns/pending-writes.js'
import { warm, type WarmEntry, type WarmOptions, type WarmRun } from './patterns/warm.js'
import type {
  BoundedSetResult,
  CacheEvents,
  CacheStats,
  EntryAge,
  InvalidationResult,
  SetOptions,
  StoreMeasure,
} from './types.js'
import { checkHealth, type CacheHealth, type CacheHealthOptions } from './health.js'
import { getTraced, traceGet, traceInvalidate, traceWrap } from './tracing.js'

const TTL_ONLY = ['ttl'] as const
const NAMESPACE_OPTIONS = ['defaultTtl'] as const

export interface NamespaceOptions {
  /** TTL of entries set in this namespace (and namespaces nested in it) without one. @default the parent's */
  defaultTtl?: Duration | undefined
}

/**
 * The cache facade over a `Store`: typed get/set, TTLs as durations (`'30s'`, `'5 minutes'`),
 * tags, namespaces, cache-aside with single-flight, stats and events. It fails open: a store
 * error or timeout is a miss (or a skipped write) plus an `error` event, never an exception on
 * the read path — unless the read is strict (`{ strict: true }`), for checks that must not
 * mistake "could not ask" for "absent". Invalidations resolve an `InvalidationResult`: one the
 * store cannot take now is queued and retried until applied, never dropped silently.
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
  readonly #segments: readonly string[]
  readonly #defaultTtlMs: number
  readonly #keys: NamespaceKeys
  readonly #reads: CacheReads
  readonly #writes: CacheWrites
  readonly #inspection: CacheInspection
  readonly #aside: CacheAside

  constructor(options: CacheOptions = {}) {
    if (options instanceof ViewInit) {
      // A namespace view shares the store, stats, breaker, events and flights of its root.
      this.#shared = options.shared
      this.#segments = options.segments
      this.#defaultTtlMs = options.defaultTtlMs
    } else {
      this.#shared = createShared(options)
      this.#segments = []
      this.#defaultTtlMs = this.#shared.defaultTtlMs
    }
    this.#keys = new NamespaceKeys(
      this.#segments,
      this.#shared.store,
      this.#shared.calls,
      this.#shared.pendingVersions
    )
    this.#reads = new CacheReads(this.#shared, this.#keys)
    this.#writes = new CacheWrites(this.#shared, this.#keys, this.#defaultTtlMs)
    this.#inspection = new CacheInspection(this.#shared, this.#keys)
    this.#aside = new CacheAside(this.#wrapHost(), this.#shared.wrap)
  }

  /** The store under this cache (shared by its namespaces). */
  get store(): Shared['store'] {
    return this.#shared.store
  }

  /** This view's namespace (`users`, or `users:admins` when nested), or `undefined` for the root cache. */
  get namespaceName(): string | undefined {
    return this.#keys.namespace
  }

  /**
   * A view whose keys live in their own namespace, optionally with its own default TTL.
   * `invalidate()` on it drops every key in the namespace, and in namespaces nested in it.
   *
   * @example
   * ```ts
   * const sessions = cache.namespace('sessions', { defaultTtl: '30m' })
   * const admins = sessions.namespace('admins') // 30m too
   * ```
   */
  namespace(name: string, options: NamespaceOptions = {}): Cache {
    assertKey(name, 'namespace name')
    assertOptions(options, NAMESPACE_OPTIONS)
    const ttlMs =
      options.defaultTtl === undefined
        ? this.#defaultTtlMs
        : parseDuration(options.defaultTtl, 'defaultTtl')
    return new Cache(
      new ViewInit(this.#shared, [...this.#segments, name], ttlMs) as unknown as CacheOptions
    )
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

  /**
   * The stored value, or `undefined` on a miss, an expired entry, an undecodable value or — unless
   * strict — a store fault. Strict: a store that cannot answer throws `StoreUnavailableError`.
   */
  get<T = unknown>(key: string, options?: ReadOptions): Promise<T | undefined> {
    try {
      assertKey(key, 'key')
      const strict = this.#strict(options)
      // A store that answers synchronously (memory, a tiered L1 copy) needs no promise chain: the
      // same read, counted the same, resolved at once. Anything it cannot tell takes the full path.
      if (this.#shared.store.syncReads !== undefined && !getTraced()) {
        const value = this.#reads.readSyncValue<T>(key)
        if (value !== NOT_SYNC) return Promise.resolve(value)
      }
      return traceGet(this.#shared.store, this.#keys.namespace, key, () =>
        this.#reads.get<T>(key, strict)
      )
    } catch (error) {
      return Promise.reject(error)
    }
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
   * Tells the store that this process keeps `bytes` of memory for the value under `key` (`value`,
   * as `get` or `readSync` gave it) for as long as the store holds it: a decoding or a prepared
   * form served from it. A store with a byte budget (`MemoryStore`, a tiered store's L1) counts
   * them against `maxBytes`, so the budget covers what readers keep; other stores, a value that
   * changed since, and a value decoded afresh on each read (not a byte value) are left alone. No
   * I/O; the HTTP adapters call it for each entry they decode.
   *
   * @example
   * ```ts
   * const found = cache.readSync<Buffer>('page:1')
   * if (found?.value !== undefined) cache.retain('page:1', found.value, 2048)
   * ```
   */
  retain(key: string, value: unknown, bytes: number): void {
    assertKey(key, 'key')
    if (!Number.isSafeInteger(bytes) || bytes < 0)
      throw new InvalidArgumentError('bytes', 'a non-negative integer', bytes)
    this.#reads.retain(key, value, bytes)
  }

  /**
   * The value with its lifetime: `{ value, ttlMs, expiresAt, stale }`; a value kept past its TTL
   * for a `wrap` grace period comes back with `stale: true`. `undefined` when absent.
   *
   * @example
   * ```ts
   * const entry = await cache.getWithMeta('user:1') // { value: {…}, ttlMs: 29_100, expiresAt: 1767225629100, stale: false }
   * ```
   */
  async getWithMeta<T = unknown>(
    key: string,
    options?: ReadOptions
  ): Promise<EntryMeta<T> | undefined> {
    assertKey(key, 'key')
    return this.#reads.getWithMeta<T>(key, this.#strict(options))
  }

  /**
   * Milliseconds the store still keeps `key`; `undefined` when absent (or, unless strict, when the
   * store cannot answer); `Infinity` when the store cannot tell. Reads no value (Redis: PTTL).
   *
   * @example
   * ```ts
   * await cache.set('k', 1, { ttl: '1m' })
   * await cache.ttl('k') // ≈ 60_000
   * ```
   */
  async ttl(key: string, options?: ReadOptions): Promise<number | undefined> {
    assertKey(key, 'key')
    return this.#reads.ttl(key, this.#strict(options))
  }

  async has(key: string, options?: ReadOptions): Promise<boolean> {
    assertKey(key, 'key')
    return this.#reads.has(key, this.#strict(options))
  }

  /**
   * Stores `value`. Resolves `true` when stored; a store fault resolves `false` and emits `error`.
   * Bad arguments (an empty key, `undefined`, an unknown option, a TTL like `60` that reads as
   * 60 ms) reject, and so does a value the serializer refuses (`SerializationError`).
   */
  set(key: string, value: unknown, options: SetOptions = {}): Promise<boolean> {
    return this.#writes.write('set', key, value, options)
  }

  /**
   * Stores `value` only if `key` is absent (SET NX), atomically. Resolves `true` when written,
   * `false` when the key was there (or the store could not be asked: see the `error` event).
   *
   * @example
   * ```ts
   * if (await cache.add('job:42:claimed', process.pid, { ttl: '5m' })) runJob(42)
   * ```
   */
  add(key: string, value: unknown, options: SetOptions = {}): Promise<boolean> {
    return this.#writes.write('add', key, value, options)
  }

  /**
   * Stores `value` only if `key` is present (SET XX), atomically: `true` when replaced.
   *
   * @example
   * ```ts
   * await cache.replace('session:abc', { ...session, seenAt: Date.now() }, { ttl: '30m' })
   * ```
   */
  replace(key: string, value: unknown, options: SetOptions = {}): Promise<boolean> {
    return this.#writes.write('replace', key, value, options)
  }

  /** Removes one key (`removed`: 1 or 0). See `InvalidationResult` for `queued` and `failed`. */
  async delete(key: string): Promise<InvalidationResult> {
    assertKey(key, 'key')
    return traceInvalidate(
      this.#shared.store,
      this.#keys.namespace,
      { kind: 'delete', key },
      async () => {
        const storeKey = await this.#keys.storeKey(key)
        return this.#submit(keyInvalidation(this.#invalidation, this.#keys, key, storeKey))
      }
    )
  }

  /**
   * Removes every entry filed under any of `tags`, on every process sharing the store: `applied`
   * with the count the store reported, or `queued` (retried until applied) when it cannot be reached.
   *
   * @example
   * ```ts
   * const { status, removed } = await cache.invalidateTags(['users'])
   * if (status !== 'applied') console.warn(`purge ${status}`) // 'queued': applied once the store is back
   * ```
   */
  async invalidateTags(tags: readonly string[]): Promise<InvalidationResult> {
    assertTags(tags)
    if (tags.length === 0) return { status: 'applied', removed: 0 }
    return traceInvalidate(this.#shared.store, this.#keys.namespace, { kind: 'tags', tags }, () =>
      this.#submit(tagInvalidation(this.#invalidation, tags))
    )
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
      () => (store.countTagged as NonNullable<Shared['store']['countTagged']>)(tags),
      undefined
    )
  }

  /** Removes every key (of this namespace) matching a glob, by SCAN on Redis: never KEYS. */
  async deletePattern(pattern: string): Promise<InvalidationResult> {
    if (typeof pattern !== 'string' || pattern.length === 0)
      throw new InvalidArgumentError('pattern', 'a non-empty glob', pattern)
    return traceInvalidate(
      this.#shared.store,
      this.#keys.namespace,
      { kind: 'pattern', pattern },
      async () => {
        const prefix = await this.#keys.storePrefix()
        return this.#submit(patternInvalidation(this.#invalidation, this.#keys, pattern, prefix))
      }
    )
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

  /** Root cache: empties the store (while queued, every read here misses). A view: `invalidate()`. */
  async clear(): Promise<InvalidationResult> {
    if (this.#segments.length > 0) return this.invalidate()
    return traceInvalidate(this.#shared.store, undefined, { kind: 'clear' }, () =>
      this.#submit(clearInvalidation(this.#invalidation))
    )
  }

  /**
   * Adds `member` to the set under `key` unless it holds `max` live members, atomically (Redis:
   * one Lua script on one key). A member lives `ttl` (default `defaultTtl`) from its last add.
   * `undefined` when the store cannot be reached or cannot do it: the caller decides how to fail.
   *
   * @example
   * ```ts
   * const slot = await cache.addToBoundedSet('variants:/products', 'accept-language=fr', { max: 32, ttl: '10m' })
   * if (slot?.member === true) await cache.set('/products|fr', body) // within the cap
   * ```
   */
  addToBoundedSet(
    key: string,
    member: string,
    options: BoundedSetOptions
  ): Promise<BoundedSetResult | undefined> {
    const { store, calls } = this.#shared
    const ttlMs = (ttl: Duration | undefined): number => this.#ttlMs(ttl)
    return addToBoundedSet({ store, calls, keys: this.#keys, ttlMs }, key, member, options)
  }

  /**
   * Cache-aside with in-process single-flight: returns the cached value, or runs `loader` once
   * for all concurrent callers of the same key, caches its result and hands it to each of them
   * (callers that join count as hits). A loader error reaches every waiter and is not cached.
   * See `WrapOptions` for the fill lock across processes, early refresh, and grace with a timeout.
   */
  wrap<T>(key: string, loader: () => T | Promise<T>, options: WrapOptions<T> = {}): Promise<T> {
    // Not async: a returned promise would settle two microtask turns after the one returned.
    try {
      assertKey(key, 'key')
      return traceWrap(this.#shared.store, this.#keys.namespace, key, (trace) =>
        this.#aside.wrap(key, loader, options, trace)
      )
    } catch (error) {
      return Promise.reject(error)
    }
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

  /** Wraps a function so calls with the same arguments are served from this cache. See `cached`. */
  cached<Args extends unknown[], T>(
    fn: (...args: Args) => T | Promise<T>,
    options: CachedOptions<Args, T> = {}
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

  /**
   * Loads `entries` into the cache, `concurrency` at a time and at most `perSecond` loads a
   * second, emitting `progress`. See `warm`.
   */
  warm(
    entries: Iterable<WarmEntry> | AsyncIterable<WarmEntry>,
    options: WarmOptions = {}
  ): WarmRun {
    return warm(this, entries, options)
  }

  /**
   * Counters since the cache was built, entries and bytes where the store can tell, and the
   * store's health where it has one (Redis): each breaker, pending operations, dropped calls.
   */
  stats(): CacheStats {
    return cacheStats(this.#shared)
  }

  /**
   * Entries and bytes measured from the store now (Redis: from the server, exact for a small
   * keyspace, sampled for a large one). `undefined` when the store cannot measure or be reached.
   */
  async measure(): Promise<StoreMeasure | undefined> {
    return this.#inspection.measure()
  }

  /** The entry of this view written longest ago, if the store can tell (memory can; Redis cannot cheaply). O(entries). */
  async oldest(): Promise<EntryAge | undefined> {
    return (await this.#inspection.ages())?.oldest
  }

  /** The entry of this view written last, if the store can tell. O(entries). */
  async newest(): Promise<EntryAge | undefined> {
    return (await this.#inspection.ages())?.newest
  }

  /** Drops expired entries now, so `stats()` counts only live ones; resolves how many. Redis expires on its own: 0. */
  async cleanupExpired(): Promise<number> {
    return this.#inspection.cleanupExpired()
  }

  /**
   * Whether the store answers (a ping within `timeout`, where the store can ping), its breakers
   * and queues: for readiness probes and dashboards. Never rejects. See `CacheHealth`.
   */
  async health(options: CacheHealthOptions = {}): Promise<CacheHealth> {
    return checkHealth(this.#shared.store, () => this.stats(), options, this.#shared.clock)
  }

  /** Waits until no invalidation is queued (retrying now), up to `invalidationQueue.closeTimeout`. */
  whenIdle(): Promise<{ drained: boolean; pending: number }> {
    return whenIdle(this.#shared)
  }

  /** Applies queued invalidations (see `whenIdle`; any left are reported), then closes the store. */
  async close(): Promise<void> {
    await closeShared(this.#shared)
  }

  /**
   * Invalidates this namespace view — and every namespace nested in it — on every process: this
   * process moves to a new version at once (O(1)), every other one once the store has it (`queued`
   * until then). Then the old entries are deleted (`sweep`, the default: a pattern delete, SCAN on
   * Redis) and counted in `removed`; `{ sweep: false }` leaves them to age out (`removed: 0`).
   * Throws on the root cache; use `clear()` there.
   */
  async invalidate(options: { sweep?: boolean } = {}): Promise<InvalidationResult> {
    const namespace = this.#keys.namespace
    if (namespace === undefined)
      throw new InvalidArgumentError(
        'invalidate()',
        'called on a namespace view (cache.namespace(name))',
        'the root cache'
      )
    assertOptions(options, ['sweep'])
    const sweep = options.sweep ?? true
    return traceInvalidate(this.#shared.store, namespace, { kind: 'namespace' }, async () =>
      this.#submit(await namespaceInvalidation(this.#invalidation, this.#keys, namespace, sweep))
    )
  }

  /** How write-behind shadows the writes it has not persisted yet (see `PendingWrites`). */
  get [kPendingWrites](): PendingHooks {
    const serializer = this.#shared.values.serializer
    return pendingHooks(this.#shared.pending, this.#keys.namespace, (key, value) =>
      encodeValue(value, key, serializer)
    )
  }

  /** What helpers built on this cache (`rateLimit`) reach the store through. */
  get [kStoreAccess](): StoreAccess {
    const calls = this.#shared.calls
    return {
      store: this.#shared.store,
      strict: (operation, run) => calls.callStrict(operation, run),
    }
  }

  /** What cache-aside reads and writes through: this view's own methods. */
  #wrapHost(): WrapHost {
    return {
      namespace: this.#keys.namespace,
      get: (key) => this.get(key, { strict: false }),
      // As `get` reads synchronously, and not while `get` is traced: a traced read goes through `get`.
      readSync: (key) => (getTraced() ? undefined : this.#reads.readSync(key)),
      getWithTtl: (key) => this.#reads.getWithTtl(key),
      getWithMeta: (key) => this.#reads.getWithMeta(key, false),
      fill: (key, value, { ttl, tags, graceMs }) =>
        this.#writes.write('set', key, value, { ttl, tags }, graceMs),
      isPending: (key) => this.#shared.pending.get(this.#keys.namespace, key) !== undefined,
      acquireLock: (name, ttlMs) => this.#acquireLock(name, ttlMs),
      joined: (key) => this.#reads.joined(key),
      servedStale: () => void this.#shared.stats.stale++,
      report: (error) => this.#shared.calls.report(error),
    }
  }

  async #acquireLock(name: string, ttlMs: number): Promise<LockHandle | undefined> {
    const store = this.#shared.store
    const storeKey = store.acquireLock === undefined ? undefined : await this.#keys.storeKey(name)
    return acquireStoreLock(store, storeKey, ttlMs, this.#shared.calls)
  }

  #strict(options: ReadOptions | undefined): boolean {
    return resolveStrict(options, this.#shared.strict)
  }

  #ttlMs(ttl: Duration | undefined): number {
    return this.#writes.ttlMs(ttl)
  }

  #call<T>(operation: string, run: () => Promise<T>, fallback: T): Promise<T> {
    return this.#shared.calls.call(operation, run, fallback)
  }

  get #invalidation(): InvalidationContext {
    return this.#shared
  }

  #submit(invalidation: Invalidation): Promise<InvalidationResult> {
    return this.#shared.invalidations.submit(invalidation)
  }
}

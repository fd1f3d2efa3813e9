import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { CachewireError, DecodeError, InvalidArgumentError, InvalidOptionError, StoreError, StoreTimeoutError, StoreUnavailableError } from './errors.js'
import { parseDuration, type Duration } from './duration.js'
import { rejectUnknownOptions } from './known-options.js'
import { escapeGlob } from './glob.js'
import { decodeValue, encodeValue } from './serializers.js'
import { StatsCounters } from './stats.js'
import { resolveCacheOptions, type CacheOptions } from './options.js'
import { SingleFlight } from './patterns/single-flight.js'
import { cached, type CachedOptions } from './patterns/cached.js'
import { writeThrough } from './patterns/write-through.js'
import { WriteBehind, type WriteBehindOptions } from './patterns/write-behind.js'
import type { CircuitBreaker } from './resilience/circuit-breaker.js'
import type { CacheEvents, CacheStats, SetOptions, Store } from './types.js'

/** Keys that begin with this are the cache's own bookkeeping (namespace versions). */
export const RESERVED_KEY_PREFIX = '@cachewire/'

/** How long a namespace version record lives; invalidating the namespace renews it. */
const NAMESPACE_VERSION_TTL_MS = 30 * 86_400_000

export interface WrapOptions<T> extends SetOptions {
  /** Return `false` to hand the loaded value back without caching it. */
  cacheIf?: ((value: T) => boolean) | undefined
  /**
   * A fill lock across processes sharing the store (Redis: SET NX PX with a token): of N
   * processes missing the same key, one runs the loader; the others poll the cache for up to
   * `wait`, then run the loader themselves (fail open). `true` means `{ ttl: '10s', wait: '5s' }`.
   */
  lock?: boolean | { ttl?: Duration | undefined; wait?: Duration | undefined } | undefined
  /**
   * Probabilistic early refresh (XFetch, Vattani et al., VLDB 2015): a hit close to expiry
   * refreshes in the background with a probability that grows as expiry nears and with how long
   * the loader takes. The number is beta (1 is the paper's default; higher refreshes earlier).
   */
  earlyRefresh?: boolean | number | undefined
}

/** A held lock; `release` frees it only if this holder still owns it. */
export interface LockHandle {
  release(): Promise<void>
}

const SET_OPTIONS = ['ttl', 'tags'] as const
const WRAP_OPTIONS = ['ttl', 'tags', 'cacheIf', 'lock', 'earlyRefresh'] as const
const TTL_ONLY = ['ttl'] as const
const TTL_AND_WAIT = ['ttl', 'wait'] as const

/** How many loader durations are remembered for early refresh. */
const LOADER_DURATIONS_KEPT = 10_000

interface Shared {
  store: Store
  defaultTtlMs: number
  breaker: CircuitBreaker | undefined
  stats: StatsCounters
  flights: SingleFlight
  /** Recent loader durations per key (ms), for XFetch's delta. Insertion-ordered, trimmed to LOADER_DURATIONS_KEPT. */
  loaderDurations: Map<string, number>
  /** Byte values already decoded, by the stored bytes they view. Weak: evicted entries take theirs along. */
  byteViews: WeakMap<Uint8Array, unknown>
  events: EventEmitter<CacheEvents>
}

/**
 * The cache facade over a `Store`: typed get/set, TTLs as numbers or strings, tags, namespaces,
 * cache-aside with single-flight, stats and events. It fails open: a store error or timeout is a
 * miss (or a skipped write) plus an `error` event, never an exception on the read path.
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

  constructor(options: CacheOptions = {}) {
    if (options instanceof ViewInit) {
      // A namespace view shares the store, stats, breaker, events and flights of its root.
      this.#shared = options.shared
      this.#namespace = options.namespace
      return
    }
    const resolved = resolveCacheOptions(options)
    this.#shared = {
      ...resolved,
      stats: new StatsCounters(),
      flights: new SingleFlight(),
      loaderDurations: new Map(),
      byteViews: new WeakMap(),
      events: new EventEmitter<CacheEvents>(),
    }
    this.#namespace = undefined
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
    const storeKey = await this.#storeKey(key)
    if (storeKey === undefined) return this.#miss(key)
    const bytes = await this.#call('get', () => this.#shared.store.get(storeKey), undefined)
    if (bytes === undefined) return this.#miss(key)
    let value: unknown = this.#shared.byteViews.get(bytes)
    try {
      if (value === undefined) {
        value = decodeValue(bytes, key)
        // A store that hands back the same bytes each time (memory) gets the same view each time,
        // so callers can memoise work per stored value. JSON values are decoded fresh: callers may mutate them.
        if (Buffer.isBuffer(value)) this.#shared.byteViews.set(bytes, value)
      }
    } catch (error) {
      this.#report(error instanceof CachewireError ? error : new DecodeError(key, error))
      void this.#call('delete', () => this.#shared.store.delete(storeKey), false)
      return this.#miss(key)
    }
    this.#shared.stats.hits++
    this.#shared.events.emit('hit', { key })
    return value as T
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
    const store = this.#shared.store
    if (store.getSync === undefined || store.syncReads === undefined) return undefined
    const storeKey = this.#storeKeySync(key, store)
    if (storeKey === undefined) return undefined
    const bytes = store.getSync(storeKey)
    if (bytes === undefined) {
      if (store.syncReads !== 'complete') return undefined
      this.#miss(key)
      return { value: undefined }
    }
    let value: unknown = this.#shared.byteViews.get(bytes)
    if (value === undefined) {
      try {
        value = decodeValue(bytes, key)
      } catch {
        // `get` reports and deletes an undecodable value; let it.
        return undefined
      }
      if (Buffer.isBuffer(value)) this.#shared.byteViews.set(bytes, value)
    }
    this.#shared.stats.hits++
    this.#shared.events.emit('hit', { key })
    return { value: value as T }
  }

  /**
   * Stores `value` (JSON data, or bytes kept as they are). Resolves `true` when stored; a store
   * fault resolves `false` and emits `error`. Bad arguments (an empty key, `undefined`) reject.
   */
  async set(key: string, value: unknown, options: SetOptions = {}): Promise<boolean> {
    assertKey(key, 'key')
    rejectUnknownOptions(options, SET_OPTIONS, '')
    const ttlMs = options.ttl === undefined ? this.#shared.defaultTtlMs : parseDuration(options.ttl, 'ttl')
    const tags = options.tags
    if (tags !== undefined) for (const tag of tags) assertKey(tag, 'tag')
    const bytes = encodeValue(value, key)
    const storeKey = await this.#storeKey(key)
    if (storeKey === undefined) return false
    const stored = await this.#call('set', () => this.#shared.store.set(storeKey, bytes, { ttlMs, tags }).then(() => true), false)
    if (stored) {
      this.#shared.stats.sets++
      this.#shared.events.emit('set', { key, ttlMs, bytes: bytes.byteLength })
    }
    return stored
  }

  async delete(key: string): Promise<boolean> {
    assertKey(key, 'key')
    const storeKey = await this.#storeKey(key)
    if (storeKey === undefined) return false
    const removed = await this.#call('delete', () => this.#shared.store.delete(storeKey), false)
    if (removed) {
      this.#shared.stats.deletes++
      this.#shared.events.emit('delete', { key })
    }
    return removed
  }

  async has(key: string): Promise<boolean> {
    assertKey(key, 'key')
    const storeKey = await this.#storeKey(key)
    if (storeKey === undefined) return false
    return this.#call('has', () => this.#shared.store.has(storeKey), false)
  }

  /** Removes every entry filed under any of `tags`, on every process sharing the store. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    if (!Array.isArray(tags)) throw new InvalidArgumentError('tags', 'an array of strings', tags)
    for (const tag of tags) assertKey(tag, 'tag')
    if (tags.length === 0) return 0
    const removed = await this.#call('invalidateTags', () => this.#shared.store.invalidateTags(tags), 0)
    this.#shared.stats.deletes += removed
    this.#shared.events.emit('invalidate', { tags, removed })
    return removed
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
    if (!Array.isArray(tags)) throw new InvalidArgumentError('tags', 'an array of strings', tags)
    for (const tag of tags) assertKey(tag, 'tag')
    const store = this.#shared.store
    if (store.countTagged === undefined) return undefined
    if (tags.length === 0) return 0
    return this.#call('countTagged', () => (store.countTagged as NonNullable<Store['countTagged']>)(tags), undefined)
  }

  /** Removes every key (of this namespace) matching a glob, by SCAN on Redis: never KEYS. */
  async deletePattern(pattern: string): Promise<number> {
    if (typeof pattern !== 'string' || pattern.length === 0) throw new InvalidArgumentError('pattern', 'a non-empty glob', pattern)
    const prefix = await this.#storePrefix()
    if (prefix === undefined) return 0
    const removed = await this.#call('deletePattern', () => this.#shared.store.deletePattern(escapeGlob(prefix) + pattern), 0)
    this.#shared.stats.deletes += removed
    this.#shared.events.emit('invalidate', { pattern, removed })
    return removed
  }

  /**
   * Atomically adds `by` to a counter and resolves the new value; the TTL applies when the counter
   * is created. Resolves `undefined` when the store cannot be reached, so callers choose how to fail.
   */
  async increment(key: string, by = 1, options: { ttl?: Duration } = {}): Promise<number | undefined> {
    assertKey(key, 'key')
    if (!Number.isSafeInteger(by)) throw new InvalidArgumentError('by', 'a safe integer', by)
    rejectUnknownOptions(options, TTL_ONLY, '')
    const ttlMs = options.ttl === undefined ? this.#shared.defaultTtlMs : parseDuration(options.ttl, 'ttl')
    const storeKey = await this.#storeKey(key)
    if (storeKey === undefined) return undefined
    return this.#call('increment', () => this.#shared.store.increment(storeKey, by, ttlMs), undefined)
  }

  /** Root cache: empties the store. Namespace view: invalidates the namespace. */
  async clear(): Promise<void> {
    if (this.#namespace !== undefined) return this.invalidate()
    await this.#call('clear', () => this.#shared.store.clear(), undefined)
    this.#shared.events.emit('invalidate', { pattern: '*', removed: 0 })
  }

  /**
   * Cache-aside with in-process single-flight: returns the cached value, or runs `loader` once
   * for all concurrent callers of the same key, caches its result and hands it to each of them.
   * A loader error reaches every waiter and is not cached.
   */
  async wrap<T>(key: string, loader: () => T | Promise<T>, options: WrapOptions<T> = {}): Promise<T> {
    assertKey(key, 'key')
    if (typeof loader !== 'function') throw new InvalidArgumentError('loader', 'a function', loader)
    rejectUnknownOptions(options, WRAP_OPTIONS, '')
    // Checked now, not when the loaded value is written: a bad TTL is the caller's error, not a store fault.
    if (options.ttl !== undefined) parseDuration(options.ttl, 'ttl')
    const flightKey = `${this.#namespace ?? ''}\u0000${key}`
    const beta = options.earlyRefresh === true ? 1 : options.earlyRefresh === false ? 0 : (options.earlyRefresh ?? 0)
    if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) throw new InvalidArgumentError('options.earlyRefresh', 'true, false or a non-negative number', options.earlyRefresh)
    return this.#shared.flights.run(flightKey, async () => {
      const cached = beta > 0 ? await this.#getWithTtl<T>(key) : await this.get<T>(key).then((value) => (value === undefined ? undefined : { value, ttlMs: Infinity }))
      if (cached !== undefined) {
        if (beta > 0 && this.#refreshEarly(flightKey, cached.ttlMs, beta)) {
          void this.#shared.flights
            .run(`${flightKey}\u0000refresh`, async () => ({ value: await this.#load(key, flightKey, loader, options) }))
            .catch((error: unknown) => this.#report(toError(error)))
        }
        return { value: cached.value }
      }
      const lock = options.lock === undefined || options.lock === false ? undefined : resolveLock(options.lock)
      if (lock === undefined) {
        const value = await this.#timedLoad(flightKey, loader)
        if (value === undefined || (options.cacheIf !== undefined && !options.cacheIf(value))) return { value }
        // The value goes back to callers now; the key stays claimed until the write lands.
        const written = this.set(key, value, { ttl: options.ttl, tags: options.tags }).catch((error: unknown) => this.#report(toError(error)))
        return { value, holdUntil: written }
      }
      const handle = await this.acquireLock(`fill:${key}`, { ttl: lock.ttlMs })
      if (handle === undefined) {
        // Another process is loading: wait for its value, then fail open and load ourselves.
        const deadline = Date.now() + lock.waitMs
        while (Date.now() < deadline) {
          await sleep(Math.min(25, Math.max(1, deadline - Date.now())))
          const value = await this.get<T>(key)
          if (value !== undefined) return { value }
        }
        return { value: await this.#load(key, flightKey, loader, options) }
      }
      try {
        return { value: await this.#load(key, flightKey, loader, options) }
      } finally {
        await handle.release()
      }
    })
  }

  /**
   * Takes a named lock shared by every process on the store, for `ttl` (default 10 s). Resolves a
   * handle, or `undefined` when someone else holds it. Fails open: if the store cannot be asked,
   * the caller gets a handle, as if it had won.
   */
  async acquireLock(name: string, options: { ttl?: Duration } = {}): Promise<LockHandle | undefined> {
    assertKey(name, 'lock name')
    rejectUnknownOptions(options, TTL_ONLY, '')
    const ttlMs = parseDuration(options.ttl ?? '10s', 'ttl')
    const store = this.#shared.store
    const noop: LockHandle = { release: async () => {} }
    if (store.acquireLock === undefined || store.releaseLock === undefined) return noop
    const storeKey = await this.#storeKey(name)
    if (storeKey === undefined) return noop
    const token = randomBytes(12).toString('base64url')
    const acquired = await this.#call('acquireLock', () => (store.acquireLock as NonNullable<Store['acquireLock']>)(storeKey, token, ttlMs), true)
    if (!acquired) return undefined
    return { release: async () => void (await this.#call('releaseLock', () => (store.releaseLock as NonNullable<Store['releaseLock']>)(storeKey, token), false)) }
  }

  /** Alias of `wrap`, under the name other cache libraries use. */
  getOrSet<T>(key: string, loader: () => T | Promise<T>, options: WrapOptions<T> = {}): Promise<T> {
    return this.wrap(key, loader, options)
  }

  /** Wraps a function so calls with the same key are served from this cache. See `cached`. */
  cached<Args extends unknown[], T>(fn: (...args: Args) => T | Promise<T>, options: CachedOptions<Args, T>): (...args: Args) => Promise<T> {
    return cached(this, fn, options)
  }

  /** Persists `value` with `persist`, then caches it. See `writeThrough`. */
  writeThrough<T, R>(key: string, value: T, persist: (value: T) => R | Promise<R>, options: SetOptions = {}): Promise<R> {
    return writeThrough(this, key, value, persist, options)
  }

  /** A write-behind writer over this cache. See `WriteBehind`. */
  writeBehind<T>(options: WriteBehindOptions<T>): WriteBehind<T> {
    return new WriteBehind<T>(this, options)
  }

  /** Counters since the cache was built, plus entries and bytes where the store can tell. */
  stats(): CacheStats {
    return this.#shared.stats.snapshot(this.#shared.store.size?.(), this.#shared.breaker?.state ?? 'closed')
  }

  /** Closes the store (connections the store opened itself). */
  async close(): Promise<void> {
    await this.#shared.store.close?.()
  }

  /** Invalidates this namespace view in O(1). Throws on the root cache; use `clear()` there. */
  async invalidate(): Promise<void> {
    const namespace = this.#namespace
    if (namespace === undefined) throw new InvalidArgumentError('invalidate()', 'called on a namespace view (cache.namespace(name))', 'the root cache')
    const token = newVersion()
    await this.#call('set', () => this.#shared.store.set(namespaceVersionKey(namespace), Buffer.from(token), { ttlMs: NAMESPACE_VERSION_TTL_MS }), undefined)
    this.#shared.events.emit('invalidate', { namespace, removed: 0 })
  }

  async #timedLoad<T>(flightKey: string, loader: () => T | Promise<T>): Promise<T> {
    const started = performance.now()
    const value = await loader()
    const durations = this.#shared.loaderDurations
    durations.delete(flightKey)
    durations.set(flightKey, performance.now() - started)
    if (durations.size > LOADER_DURATIONS_KEPT) durations.delete(durations.keys().next().value as string)
    return value
  }

  /** Loads and waits for the write, so a lock held around it covers the value landing in the store. */
  async #load<T>(key: string, flightKey: string, loader: () => T | Promise<T>, options: WrapOptions<T>): Promise<T> {
    const value = await this.#timedLoad(flightKey, loader)
    if (value !== undefined && (options.cacheIf === undefined || options.cacheIf(value))) await this.set(key, value, { ttl: options.ttl, tags: options.tags })
    return value
  }

  /** XFetch: refresh when now - delta * beta * ln(rand) >= expiry, i.e. -delta * beta * ln(rand) >= remaining TTL. */
  #refreshEarly(flightKey: string, ttlMs: number, beta: number): boolean {
    const delta = this.#shared.loaderDurations.get(flightKey)
    if (delta === undefined || !Number.isFinite(ttlMs)) return false
    return -delta * beta * Math.log(Math.random()) >= ttlMs
  }

  async #getWithTtl<T>(key: string): Promise<{ value: T; ttlMs: number } | undefined> {
    const store = this.#shared.store
    if (store.getWithTtl === undefined) {
      const value = await this.get<T>(key)
      return value === undefined ? undefined : { value, ttlMs: Infinity }
    }
    const storeKey = await this.#storeKey(key)
    if (storeKey === undefined) return undefined
    const found = await this.#call('get', () => (store.getWithTtl as NonNullable<Store['getWithTtl']>)(storeKey), undefined)
    if (found === undefined) return this.#miss(key)
    try {
      const value = decodeValue(found.value, key) as T
      this.#shared.stats.hits++
      this.#shared.events.emit('hit', { key })
      return { value, ttlMs: found.ttlMs }
    } catch (error) {
      this.#report(error instanceof CachewireError ? error : new DecodeError(key, error))
      return this.#miss(key)
    }
  }

  /** Records an error: counted, and emitted when someone listens (an unheard `error` event must not crash the process). */
  #report(error: Error): void {
    const stats = this.#shared.stats
    if (error instanceof StoreTimeoutError) stats.timeouts++
    if (!(error instanceof StoreUnavailableError)) stats.errors++
    if (this.#shared.events.listenerCount('error') > 0) this.#shared.events.emit('error', error)
  }

  #miss(key: string): undefined {
    this.#shared.stats.misses++
    this.#shared.events.emit('miss', { key })
    return undefined
  }

  /** Runs a store operation behind the breaker; any failure becomes `fallback` plus an `error` event. */
  async #call<T>(operation: string, run: () => Promise<T>, fallback: T): Promise<T> {
    const breaker = this.#shared.breaker
    if (breaker !== undefined && !breaker.allow()) {
      this.#shared.stats.skipped++
      return fallback
    }
    try {
      const result = await run()
      breaker?.success()
      return result
    } catch (error) {
      breaker?.failure()
      this.#report(error instanceof CachewireError ? error : new StoreError(operation, error))
      return fallback
    }
  }

  /** The store key without I/O, or undefined when a namespace version is not known synchronously. */
  #storeKeySync(key: string, store: Store): string | undefined {
    const namespace = this.#namespace
    if (namespace === undefined) return key
    const version = store.getSync?.(namespaceVersionKey(namespace))
    if (version === undefined) return undefined
    return `${namespace}@${Buffer.from(version.buffer, version.byteOffset, version.byteLength).toString('latin1')}:${key}`
  }

  async #storeKey(key: string): Promise<string | undefined> {
    const prefix = await this.#storePrefix()
    return prefix === undefined ? undefined : prefix + key
  }

  /** '' for the root cache; `<namespace>@<version>:` for a view. `undefined` when the version cannot be read. */
  async #storePrefix(): Promise<string | undefined> {
    const namespace = this.#namespace
    if (namespace === undefined) return ''
    const versionKey = namespaceVersionKey(namespace)
    const store = this.#shared.store
    let bytes = await this.#call('get', () => store.get(versionKey), null)
    if (bytes === null) return undefined
    if (bytes === undefined) {
      // First use: claim a version. Two processes racing both write; the reads below agree on the last one.
      await this.#call('set', () => store.set(versionKey, Buffer.from(newVersion()), { ttlMs: NAMESPACE_VERSION_TTL_MS }), undefined)
      bytes = await this.#call('get', () => store.get(versionKey), null)
      if (bytes === null || bytes === undefined) return undefined
    }
    return `${namespace}@${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')}:`
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

function namespaceVersionKey(namespace: string): string {
  return `${RESERVED_KEY_PREFIX}ns:${namespace}`
}

function newVersion(): string {
  return randomBytes(6).toString('base64url')
}

function assertKey(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(what, 'a non-empty string', value)
  if (value.length > 4096) throw new InvalidArgumentError(what, 'at most 4096 characters', `${value.length} characters`)
  if (what === 'key' && value.startsWith(RESERVED_KEY_PREFIX)) throw new InvalidArgumentError(what, `a key that does not start with ${RESERVED_KEY_PREFIX}`, value)
}

function resolveLock(option: true | { ttl?: Duration | undefined; wait?: Duration | undefined }): { ttlMs: number; waitMs: number } {
  if (option !== true && (typeof option !== 'object' || option === null)) throw new InvalidOptionError('lock', 'true, false or { ttl?, wait? }', option)
  const settings = option === true ? {} : option
  rejectUnknownOptions(settings, TTL_AND_WAIT, 'lock')
  return { ttlMs: parseDuration(settings.ttl ?? '10s', 'lock.ttl'), waitMs: parseDuration(settings.wait ?? '5s', 'lock.wait', { kind: 'timeout' }) }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

import { EventEmitter } from 'node:events'
import {
  InvalidOptionError,
  parseDuration,
  rejectUnknownOptions,
  type Cache,
  type Duration,
} from '@cachewire/core'
import type { StoredData } from 'keyv'

export interface KeyvCachewireOptions {
  /**
   * TTL of values Keyv sets without one (Keyv's "never expires"): every cachewire entry has a TTL.
   * A duration (`'1h'`) or milliseconds (1000 or more). @default the cache's `defaultTtl`
   */
  defaultTtl?: Duration | undefined
  /**
   * Tags for each value Keyv sets, from its key (without Keyv's `<namespace>:` prefix) and the
   * Keyv namespace. Tagged values go with `cache.invalidateTags(tags)` on the cachewire side.
   *
   * @example
   * ```ts
   * tags: (key) => (key.startsWith('user:') ? ['users'] : [])
   * ```
   */
  tags?: ((key: string, namespace: string | undefined) => readonly string[] | undefined) | undefined
}

const KNOWN_OPTIONS = ['defaultTtl', 'tags']

/** What Keyv hands a store and reads back: its serialized text, or `{ value, expires }` with `serialize: undefined`. */
type KeyvValue = unknown

/**
 * A Keyv storage adapter backed by a cachewire `Cache`, so Keyv, cache-manager (v6, v7) and
 * cacheable users get cachewire's stores (memory bounded by bytes, Redis and Redis Cluster,
 * tiered), tags, namespaces, the breakers of a `RedisStore`, fail-open reads and purges that
 * are queued and retried when the store cannot take them.
 *
 * - Keyv's namespace maps onto `cache.namespace(<namespace>)`, so `keyv.clear()` invalidates that
 *   namespace in O(1) (and only it). Without a Keyv namespace, `clear()` clears the cache you passed:
 *   the whole store for a root cache, the namespace for a namespace view.
 * - TTLs are Keyv's milliseconds; a value set without one lives for `defaultTtl`.
 * - Values are stored as Keyv hands them (its serialized text), so read them through Keyv.
 * - The cache's `error` events are forwarded as this adapter's `error` events (Keyv re-emits them)
 *   while someone listens; `disconnect()` stops that. It never closes the cache: you own it.
 *
 * @example
 * ```ts
 * import { Keyv } from 'keyv'
 * import { createCache } from 'cache-manager'
 * import { Cache } from '@cachewire/core'
 * import { KeyvCachewire } from '@cachewire/keyv'
 *
 * const cache = new Cache({ defaultTtl: '5m' })
 * const keyv = new Keyv({ store: new KeyvCachewire(cache, { tags: (key) => [key.split(':')[0] ?? key] }) })
 * const manager = createCache({ stores: [keyv] })
 * await manager.set('user:1', { name: 'Ada' }, 60_000)
 * await cache.invalidateTags(['user']) // gone for cache-manager too
 * ```
 */
export class KeyvCachewire extends EventEmitter {
  /** Keyv reads adapter settings here; `dialect` names the backend. */
  opts: Record<string, unknown>
  /** The cache this adapter writes to (views of it per Keyv namespace). */
  readonly cache: Cache
  #namespace: string | undefined
  #view: Cache
  readonly #defaultTtl: Duration | undefined
  readonly #tags: KeyvCachewireOptions['tags']
  readonly #forward = (error: Error): void => {
    this.emit('error', error)
  }
  #forwarding = false

  constructor(cache: Cache, options: KeyvCachewireOptions = {}) {
    super()
    if (!isCache(cache)) throw new InvalidOptionError('cache', 'a cachewire Cache', cache)
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('', 'an object', options)
    rejectUnknownOptions(options, KNOWN_OPTIONS, '')
    if (options.defaultTtl !== undefined) parseDuration(options.defaultTtl, 'defaultTtl')
    if (options.tags !== undefined && typeof options.tags !== 'function')
      throw new InvalidOptionError('tags', 'a function (key, namespace) => string[]', options.tags)
    this.cache = cache
    this.#view = cache
    this.#defaultTtl = options.defaultTtl
    this.#tags = options.tags
    this.opts = { dialect: 'cachewire' }
    // Forward the cache's errors only while someone listens here, so adapters that are dropped
    // without disconnect() do not pile listeners onto a shared cache unheard.
    this.on('newListener', (event: string | symbol) => {
      if (event === 'error' && !this.#forwarding) {
        this.#forwarding = true
        this.cache.on('error', this.#forward)
      }
    })
    this.on('removeListener', (event: string | symbol) => {
      if (event === 'error' && this.listenerCount('error') === 0) this.#stopForwarding()
    })
  }

  /** Keyv's namespace for this adapter; Keyv sets it. Maps onto `cache.namespace(name)`. */
  get namespace(): string | undefined {
    return this.#namespace
  }

  set namespace(name: string | undefined) {
    this.#namespace = name === '' ? undefined : name
    this.#view = this.#namespace === undefined ? this.cache : this.cache.namespace(this.#namespace)
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.#view.get<StoredData<Value>>(this.#key(key))
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return Promise.all(keys.map((key) => this.get<Value>(key)))
  }

  async has(key: string): Promise<boolean> {
    return this.#view.has(this.#key(key))
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.has(key)))
  }

  /** Resolves `true` when stored; a store fault resolves `false` (and an `error` event). */
  async set(key: string, value: KeyvValue, ttl?: number): Promise<boolean> {
    const own = this.#key(key)
    const tags = this.#tags?.(own, this.#namespace)
    const lifetime =
      typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0
        ? (`${Math.ceil(ttl)}ms` as const)
        : this.#defaultTtl
    return this.#view.set(own, value, { ttl: lifetime, tags })
  }

  /** `true` when the key was there and is gone now; `false` when absent, or when the delete is queued until the store answers. */
  async delete(key: string): Promise<boolean> {
    return (await this.#view.delete(this.#key(key))).removed > 0
  }

  /** Resolves `true` when at least one key was removed. */
  async deleteMany(keys: string[]): Promise<boolean> {
    return (await Promise.all(keys.map((key) => this.delete(key)))).some(Boolean)
  }

  /** The Keyv namespace in O(1); without one, the cache passed in (see the class notes). */
  async clear(): Promise<void> {
    if (this.#view.namespaceName !== undefined) await this.#view.invalidate()
    else await this.#view.clear()
  }

  /** Stops forwarding the cache's errors. The cache stays open: close it where you made it. */
  async disconnect(): Promise<void> {
    this.#stopForwarding()
  }

  /** Keyv's key without the `<namespace>:` prefix Keyv adds, which the namespace view replaces. */
  #key(key: string): string {
    const namespace = this.#namespace
    return namespace !== undefined && key.startsWith(`${namespace}:`)
      ? key.slice(namespace.length + 1)
      : key
  }

  #stopForwarding(): void {
    if (!this.#forwarding) return
    this.#forwarding = false
    this.cache.off('error', this.#forward)
  }
}

function isCache(value: unknown): value is Cache {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return ['get', 'set', 'delete', 'has', 'namespace', 'invalidate', 'on', 'off'].every(
    (method) => typeof candidate[method] === 'function'
  )
}

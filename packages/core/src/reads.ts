import type { EventEmitter } from 'node:events'
import { CachewireError, DecodeError } from './errors.js'
import { decodeValue } from './serializers.js'
import type { NamespaceKeys } from './namespaces.js'
import type { InvalidationQueue } from './resilience/invalidation-queue.js'
import type { StoreCalls } from './resilience/store-call.js'
import type { StatsCounters } from './stats.js'
import type { CacheEvents, Store } from './types.js'

/** What the reads of a cache and all its namespace views share. */
export interface ReadContext {
  readonly store: Store
  readonly calls: StoreCalls
  readonly values: DecodedValues
  readonly stats: StatsCounters
  readonly events: EventEmitter<CacheEvents>
  /** Purges waiting for the store: what they remove is a miss meanwhile. */
  readonly invalidations: InvalidationQueue
}

/**
 * Decodes stored bytes, memoising byte values by the stored bytes they view: a store that hands
 * back the same bytes each time (memory) gets the same view each time, so callers can memoise
 * work per stored value. JSON values are decoded fresh: callers may mutate them. Weak: evicted
 * entries take their views along.
 */
export class DecodedValues {
  readonly #views = new WeakMap<Uint8Array, unknown>()

  /** Throws `DecodeError` like `decodeValue`. */
  decode(bytes: Uint8Array, key: string): unknown {
    let value = this.#views.get(bytes)
    if (value === undefined) {
      value = decodeValue(bytes, key)
      if (Buffer.isBuffer(value)) this.#views.set(bytes, value)
    }
    return value
  }
}

/**
 * The reads of one cache view: store key, store call, decode, and the hit/miss accounting
 * (stats and events). An undecodable value is a miss, reported, and deleted.
 */
export class CacheReads {
  readonly #context: ReadContext
  readonly #keys: NamespaceKeys

  constructor(context: ReadContext, keys: NamespaceKeys) {
    this.#context = context
    this.#keys = keys
  }

  async get<T>(key: string): Promise<T | undefined> {
    const { store, calls } = this.#context
    const storeKey = await this.#keys.storeKey(key)
    if (storeKey === undefined || this.#context.invalidations.hides(storeKey)) return this.#miss(key)
    const bytes = await calls.call('get', () => store.get(storeKey), undefined)
    if (bytes === undefined) return this.#miss(key)
    let value: unknown
    try {
      value = this.#context.values.decode(bytes, key)
    } catch (error) {
      calls.report(error instanceof CachewireError ? error : new DecodeError(key, error))
      void calls.call('delete', () => store.delete(storeKey), false)
      return this.#miss(key)
    }
    return this.#hit(key, value as T)
  }

  /** See `Cache.readSync`. */
  readSync<T>(key: string): { value: T | undefined } | undefined {
    const store = this.#context.store
    if (store.getSync === undefined || store.syncReads === undefined) return undefined
    const storeKey = this.#keys.storeKeySync(key)
    if (storeKey === undefined || this.#context.invalidations.hides(storeKey)) return undefined
    const bytes = store.getSync(storeKey)
    if (bytes === undefined) {
      if (store.syncReads !== 'complete') return undefined
      this.#miss(key)
      return { value: undefined }
    }
    let value: unknown
    try {
      value = this.#context.values.decode(bytes, key)
    } catch {
      // `get` reports and deletes an undecodable value; let it.
      return undefined
    }
    return { value: this.#hit(key, value as T) }
  }

  /** The value with its remaining TTL (`Infinity` when the store cannot tell), for early refresh. */
  async getWithTtl<T>(key: string): Promise<{ value: T; ttlMs: number } | undefined> {
    const { store, calls } = this.#context
    const { getWithTtl } = store
    if (getWithTtl === undefined) {
      const value = await this.get<T>(key)
      return value === undefined ? undefined : { value, ttlMs: Infinity }
    }
    const storeKey = await this.#keys.storeKey(key)
    if (storeKey === undefined || this.#context.invalidations.hides(storeKey)) return undefined
    const found = await calls.call('get', () => getWithTtl.call(store, storeKey), undefined)
    if (found === undefined) return this.#miss(key)
    try {
      const value = this.#context.values.decode(found.value, key) as T
      return { value: this.#hit(key, value), ttlMs: found.ttlMs }
    } catch (error) {
      calls.report(error instanceof CachewireError ? error : new DecodeError(key, error))
      return this.#miss(key)
    }
  }

  #hit<T>(key: string, value: T): T {
    this.#context.stats.hits++
    this.#context.events.emit('hit', { key })
    return value
  }

  #miss(key: string): undefined {
    this.#context.stats.misses++
    this.#context.events.emit('miss', { key })
    return undefined
  }
}

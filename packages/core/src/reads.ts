import type { EventEmitter } from 'node:events'
import { assertOptions } from './arguments.js'
import { CachewireError, DecodeError, InvalidArgumentError } from './errors.js'
import { decodeValue, freshUntil, structuredSerializer, type Serializer } from './serializers.js'
import type { Clock } from './clock.js'
import type { NamespaceKeys } from './namespaces.js'
import type { PendingWrites } from './patterns/pending-writes.js'
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
  /** Whether `events` has `hit` and `miss` listeners, kept as they come and go. */
  readonly listeners: ReadListeners
  readonly pending: PendingWrites
  readonly clock: Clock
  /** Purges waiting for the store: what they remove is a miss meanwhile. */
  readonly invalidations: InvalidationQueue
}

/** What `CacheReads.readSyncValue` answers when only an asynchronous read can tell. */
export const NOT_SYNC: unique symbol = Symbol('cachewire.not-sync')

/** Per-call read options. */
export interface ReadOptions {
  /** Throw `StoreUnavailableError` when the store cannot answer, instead of answering "absent". @default the cache's `strict` */
  strict?: boolean | undefined
}

/** Whether a read is strict: its own option, else the cache's. */
export function resolveStrict(options: ReadOptions | undefined, fallback: boolean): boolean {
  if (options === undefined) return fallback
  assertOptions(options, ['strict'])
  if (options.strict !== undefined && typeof options.strict !== 'boolean')
    throw new InvalidArgumentError('options.strict', 'true or false', options.strict)
  return options.strict ?? fallback
}

/** An entry with what is known of its lifetime (`Cache.getWithMeta`). */
export interface EntryMeta<T> {
  value: T
  /** Milliseconds the store keeps the entry (for a value written with `grace`, that includes the grace period); `Infinity` when the store cannot tell. */
  ttlMs: number
  /** When the value stops being fresh, in ms since the epoch on the cache's clock. */
  expiresAt: number
  /** Past `expiresAt` and kept only for a `wrap` grace period: `get` does not return it. */
  stale: boolean
}

/** Where bytes from an in-process store carry the byte view decoded from them (`DecodedValues`). */
const DECODED_VIEW: unique symbol = Symbol('cachewire.decoded-view')

/**
 * Decodes stored bytes, memoising byte values by the stored bytes they view: a store that hands
 * back the same bytes each time (memory) gets the same view each time, so callers can memoise
 * work per stored value. Other values are decoded fresh: callers may mutate them. The view rides
 * on the bytes as a non-enumerable property (`DECODED_VIEW`), so an evicted entry takes it along
 * and a read finds it on bytes it has loaded anyway: a weak map by bytes cost a hash lookup a
 * read (~80 instructions, callgrind). Bytes that cannot take a property (made non-extensible)
 * keep theirs in a weak map.
 *
 * Bytes read over the network (Redis) are new on every read, so a memo of them is never used
 * again, and it costs: V8's young-generation collector holds a WeakMap's values strongly, so each
 * such read's value outlived the next minor collection (on a Redis hit, the whole decoded entry).
 * Callers say `remember: false` for them, and such bytes are not searched for a view either: none
 * was ever put on them, and a symbol missing from a fresh Buffer is looked up through Buffer's
 * prototype chain (with the extensibility check, ~600 instructions a Redis hit, callgrind).
 */
export class DecodedValues {
  readonly #views = new WeakMap<Uint8Array, unknown>()
  readonly serializer: Serializer

  constructor(serializer: Serializer = structuredSerializer) {
    this.serializer = serializer
  }

  /** Throws `DecodeError` like `decodeValue`. `remember`: whether these bytes can be handed back again (see above). */
  decode(bytes: Uint8Array, key: string, remember = true): unknown {
    if (!remember) return decodeValue(bytes, key, this.serializer)
    const carried = (bytes as { [DECODED_VIEW]?: Buffer })[DECODED_VIEW]
    if (carried !== undefined) return carried
    if (!Object.isExtensible(bytes)) {
      const held = this.#views.get(bytes)
      if (held !== undefined) return held
    }
    const value = decodeValue(bytes, key, this.serializer)
    if (Buffer.isBuffer(value)) {
      if (Object.isExtensible(bytes)) Object.defineProperty(bytes, DECODED_VIEW, { value })
      else this.#views.set(bytes, value)
    }
    return value
  }
}

/**
 * Whether anyone listens for `hit` and for `miss`, kept as listeners are added and removed
 * (`once` ones included): every read asks, and `listenerCount` looked the name up in the
 * emitter's table, a dictionary once a listener was removed (~185 instructions a read,
 * callgrind: a fifth of a memory read's).
 */
export class ReadListeners {
  hit = false
  miss = false

  constructor(events: EventEmitter<CacheEvents>) {
    const emitter = events as unknown as EventEmitter
    // `newListener` comes before the listener is added, `removeListener` after it is gone.
    emitter.on('newListener', (name: string | symbol) => this.#note(name, true))
    emitter.on('removeListener', (name: string | symbol) =>
      this.#note(name, emitter.listenerCount(name) > 0)
    )
  }

  #note(name: string | symbol, listened: boolean): void {
    if (name === 'hit') this.hit = listened
    else if (name === 'miss') this.miss = listened
  }
}

/**
 * The reads of one cache view: store key, store call, decode, and the hit/miss accounting
 * (stats and events). An undecodable value is a miss, reported, and deleted. `strict` reads throw
 * `StoreUnavailableError` when the store cannot answer, instead of answering "absent".
 */
export class CacheReads {
  readonly #context: ReadContext
  readonly #keys: NamespaceKeys

  constructor(context: ReadContext, keys: NamespaceKeys) {
    this.#context = context
    this.#keys = keys
  }

  /**
   * One async frame for the whole read, the store call's included (callgrind, Koa front door on
   * Redis at 1 KB: a frame for the read and one for the store call, and an await on a root cache's
   * store key, which is a plain string, cost ~2.5 k instructions a hit).
   */
  async get<T>(key: string, strict = false): Promise<T | undefined> {
    const pending = this.#pending(key)
    if (pending !== undefined) return this.#decodeHit<T>(key, pending)
    const { store, calls } = this.#context
    const keyed = this.#keys.storeKey(key, strict)
    const storeKey = typeof keyed === 'string' ? keyed : await keyed
    if (storeKey === undefined || this.#hidden(storeKey)) return this.#miss(key)
    let bytes: Uint8Array | undefined
    try {
      bytes = await calls.trace('get', () => store.get(storeKey))
    } catch (error) {
      bytes = calls.failed('get', error, undefined, strict)
    }
    if (bytes === undefined || this.#expiredGrace(bytes)) return this.#miss(key)
    return this.#decodeHit<T>(key, bytes, storeKey, this.#rereads())
  }

  /** See `Cache.readSync`. */
  readSync<T>(key: string): { value: T | undefined } | undefined {
    const value = this.readSyncValue<T>(key)
    return value === NOT_SYNC ? undefined : { value }
  }

  /** `readSync` without the wrapper object (`await cache.get` runs it on every call): `NOT_SYNC` means "ask `get`". */
  readSyncValue<T>(key: string): T | undefined | typeof NOT_SYNC {
    const pending = this.#pending(key)
    if (pending !== undefined) return this.#decodeHit<T>(key, pending)
    const store = this.#context.store
    if (store.getSync === undefined || store.syncReads === undefined) return NOT_SYNC
    let storeKey: string | undefined
    let bytes: Uint8Array | undefined
    try {
      storeKey = this.#keys.storeKeySync(key)
      if (storeKey === undefined || this.#hidden(storeKey)) return NOT_SYNC
      bytes = store.getSync(storeKey)
    } catch {
      // A synchronous read that throws: the full read reports the fault (error event, strict
      // reads) as for any store call.
      return NOT_SYNC
    }
    if (bytes === undefined || this.#expiredGrace(bytes)) {
      if (store.syncReads !== 'complete') return NOT_SYNC
      return this.#miss(key)
    }
    let value: unknown
    try {
      value = this.#context.values.decode(bytes, key)
    } catch {
      // `get` reports and deletes an undecodable value; let it.
      return NOT_SYNC
    }
    return this.#hit(key, value as T)
  }

  /** See `Cache.retain`: the stored bytes `value` was decoded from, charged by the store. */
  retain(key: string, value: unknown, bytes: number): void {
    const store = this.#context.store
    if (typeof value !== 'object' || value === null) return
    if (store.retain === undefined || store.getSync === undefined) return
    try {
      const storeKey = this.#keys.storeKeySync(key)
      if (storeKey === undefined) return
      const stored = store.getSync(storeKey)
      // Only a byte value is the same object on every read of the same bytes (`DecodedValues`).
      if (stored === undefined || this.#context.values.decode(stored, key) !== value) return
      store.retain(storeKey, stored, bytes)
    } catch {
      // A store that cannot answer synchronously leaves the charge out; reads report faults.
    }
  }

  /** The fresh value with its remaining freshness (`Infinity` when the store cannot tell), for early refresh. */
  async getWithTtl<T>(key: string): Promise<{ value: T; ttlMs: number } | undefined> {
    const entry = await this.getWithMeta<T>(key, false)
    if (entry === undefined || entry.stale) return undefined
    return {
      value: entry.value,
      ttlMs: Number.isFinite(entry.expiresAt)
        ? Math.max(1, entry.expiresAt - this.#context.clock())
        : entry.ttlMs,
    }
  }

  /**
   * The value with its lifetime, stale values (kept for a grace period) included and marked. A
   * fresh value counts as a hit; a stale one or none as a miss.
   */
  async getWithMeta<T>(key: string, strict: boolean): Promise<EntryMeta<T> | undefined> {
    const now = this.#context.clock()
    const pending = this.#pending(key)
    if (pending !== undefined) {
      const value = this.#decodeHit<T>(key, pending)
      return value === undefined
        ? undefined
        : { value, ttlMs: Infinity, expiresAt: Infinity, stale: false }
    }
    const { store, calls } = this.#context
    const storeKey = await this.#keys.storeKey(key, strict)
    if (storeKey === undefined || this.#hidden(storeKey)) return this.#miss(key)
    const read =
      store.getWithTtl === undefined
        ? () =>
            store
              .get(storeKey)
              .then((bytes) =>
                bytes === undefined ? undefined : { value: bytes, ttlMs: Infinity }
              )
        : () => (store.getWithTtl as NonNullable<Store['getWithTtl']>).call(store, storeKey)
    const found = strict
      ? await calls.callStrict('get', read)
      : await calls.call('get', read, undefined)
    if (found === undefined) return this.#miss(key)
    const fresh = freshUntil(found.value)
    const stale = fresh <= now
    let value: T
    try {
      value = this.#context.values.decode(found.value, key, this.#rereads()) as T
    } catch (error) {
      this.#undecodable(key, storeKey, error)
      return this.#miss(key)
    }
    if (stale) this.#miss(key)
    else this.#hit(key, value)
    const expiresAt = Number.isFinite(fresh)
      ? fresh
      : Number.isFinite(found.ttlMs)
        ? now + found.ttlMs
        : Infinity
    return { value, ttlMs: found.ttlMs, expiresAt, stale }
  }

  /** Whether the store holds `key` (a value kept for a grace period counts). */
  async has(key: string, strict: boolean): Promise<boolean> {
    if (this.#pending(key) !== undefined) return true
    const { store, calls } = this.#context
    const storeKey = await this.#keys.storeKey(key, strict)
    if (storeKey === undefined || this.#hidden(storeKey)) return false
    const run = (): Promise<boolean> => store.has(storeKey)
    return strict ? calls.callStrict('has', run) : calls.call('has', run, false)
  }

  /**
   * Milliseconds the store keeps `key`, `undefined` when absent, `Infinity` when the store cannot
   * tell. One PTTL on Redis; the value is not read.
   */
  async ttl(key: string, strict: boolean): Promise<number | undefined> {
    const { store, calls } = this.#context
    if (store.ttl === undefined) return (await this.getWithMeta(key, strict))?.ttlMs
    const storeKey = await this.#keys.storeKey(key, strict)
    if (storeKey === undefined || this.#hidden(storeKey)) return undefined
    const run = (): Promise<number | undefined> =>
      (store.ttl as NonNullable<Store['ttl']>).call(store, storeKey)
    return strict ? calls.callStrict('ttl', run) : calls.call('ttl', run, undefined)
  }

  /** Counts a hit that needed no read of its own (a caller that joined an in-flight load). */
  joined(key: string): void {
    this.#hit(key, undefined)
  }

  /** Written with a grace period that has begun: `get` does not return it. The clock is read only then. */
  #expiredGrace(bytes: Uint8Array): boolean {
    const until = freshUntil(bytes)
    return until !== Infinity && until <= this.#context.clock()
  }

  /** A queued purge removes it: a miss, whatever the store still holds. */
  #hidden(storeKey: string): boolean {
    return this.#context.invalidations.hides(storeKey)
  }

  #pending(key: string): Uint8Array | undefined {
    return this.#context.pending.get(this.#keys.namespace, key)
  }

  /** Whether the store can hand back the same bytes on a later read: one that reads in process. */
  #rereads(): boolean {
    return this.#context.store.syncReads !== undefined
  }

  #decodeHit<T>(key: string, bytes: Uint8Array, storeKey?: string, remember = true): T | undefined {
    let value: unknown
    try {
      value = this.#context.values.decode(bytes, key, remember)
    } catch (error) {
      this.#undecodable(key, storeKey, error)
      return this.#miss(key)
    }
    return this.#hit(key, value as T)
  }

  /** Reported, and deleted from the store so the next reader loads afresh. */
  #undecodable(key: string, storeKey: string | undefined, error: unknown): void {
    const { store, calls } = this.#context
    calls.report(error instanceof CachewireError ? error : new DecodeError(key, error))
    if (storeKey !== undefined) void calls.call('delete', () => store.delete(storeKey), false)
  }

  #hit<T>(key: string, value: T): T {
    const { stats, events, listeners } = this.#context
    stats.hits++
    // No event object is built for nobody: this runs on every hit.
    if (listeners.hit) events.emit('hit', { key })
    return value
  }

  #miss(key: string): undefined {
    const { stats, events, listeners } = this.#context
    stats.misses++
    if (listeners.miss) events.emit('miss', { key })
    return undefined
  }
}

import { LRUCache } from 'lru-cache'
import { InvalidOptionError } from '../errors.js'
import { globToRegExp } from '../glob.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { Clock } from '../clock.js'
import { RESERVED_KEY_PREFIX } from '../namespaces.js'
import { applyWindowHit, type WindowCounts } from '../rate-window.js'
import type {
  BoundedSetResult,
  EntryAge,
  Store,
  StoreSetOptions,
  StoreSize,
  WindowHitOptions,
  WindowState,
} from '../types.js'
import { SLAB_VALUE_MAX_BYTES, Slabs, type Slab, type SlabHolder } from './memory-slabs.js'
import { TagIndex } from './tag-index.js'

export interface MemoryStoreOptions {
  /** Total bytes held (keys, values and tag records, estimated). The least recently used entries go first. @default 67_108_864 (64 MiB) */
  maxBytes?: number
  /** Largest single entry, in bytes (key, value and tags, estimated). A larger value is not stored (and replaces nothing). @default maxBytes / 4 */
  maxEntryBytes?: number
  /** Optional cap on the number of entries, on top of the byte bound. */
  maxEntries?: number
  /** Time source for TTLs. Defaults to `performance.now`; tests may pass a fake clock. */
  clock?: Clock
}

const MEMORY_STORE_OPTIONS = ['maxBytes', 'maxEntryBytes', 'maxEntries', 'clock'] as const
const RENAMED_MEMORY_STORE_OPTIONS = { maxEntrySize: 'maxEntryBytes' } as const

/** What a rate-limit window or a bounded set keeps beside its bytes. */
interface EntryExtra {
  /** Rate-limit counts, for window keys (`hitWindow`); their `value` is empty. */
  readonly window?: WindowCounts
  /** A bounded set (`addToBoundedSet`): member → expiry on the store's TTL clock. `value` lists the members as JSON. */
  readonly members?: ReadonlyMap<string, number>
}

/**
 * One stored value. A class, so every entry has one shape and reads stay monomorphic; few fields
 * and no boxed numbers, since a store holds hundreds of thousands. The expiry is lru-cache's own.
 */
class MemoryEntry implements SlabHolder {
  /** The value as given (a large one), or a view made when a slab value is first read. */
  value: Uint8Array | undefined
  /** The slab holding the value, for a small value copied into one. */
  slab: Slab | undefined = undefined
  offset = 0
  readonly length: number
  readonly tags: readonly string[] | undefined
  /** When it was written: ms since the store was built, on its wall clock (a small integer, kept unboxed). */
  readonly storedAt: number
  readonly extra: EntryExtra | undefined
  /** Bytes a reader keeps for this value (`MemoryStore.retain`), charged with the entry. */
  retained = 0

  constructor(
    value: Uint8Array,
    tags: readonly string[] | undefined,
    storedAt: number,
    extra?: EntryExtra
  ) {
    this.value = value
    this.length = value.byteLength
    this.tags = tags
    this.storedAt = storedAt
    this.extra = extra
  }
}

/**
 * Heap cost of one entry beyond its key and value bytes: lru-cache's map entry and slot arrays,
 * TTL arrays, our entry object, the view into a slab and the key string's header. Measured on
 * Node 20 (heapUsed after 200,000 entries with 15-character keys and 100-byte values in slabs,
 * gc'd): 290 bytes per entry once read, 203 before its first read made the view; the charge is
 * the read entry's, so a store of hot entries keeps to its budget. Revisit when lru-cache or V8
 * changes its layout.
 */
const ENTRY_OVERHEAD_BYTES = 312

/**
 * An in-process store on `lru-cache`, bounded by bytes rather than entry counts, so memory stays
 * flat whatever passes through it. Values up to 4 KiB are copied into shared slabs (a small
 * view each, made on its first read, not one Buffer each); larger ones are kept as given (not
 * copied).
 *
 * @example
 * ```ts
 * import { Cache, MemoryStore } from '@cachewire/core'
 * const cache = new Cache({ store: new MemoryStore({ maxBytes: 64 * 1024 * 1024, maxEntryBytes: 1024 * 1024 }) })
 * ```
 */
export class MemoryStore implements Store {
  readonly name = 'memory'
  readonly syncReads = 'complete'
  readonly #lru: LRUCache<string, MemoryEntry>
  readonly #keysByTag = new TagIndex()
  readonly #slabs: Slabs
  readonly #maxEntryBytes: number
  /** Finds the entry under a key for slab compaction, expired or not, leaving its recency alone. */
  readonly #holderOf = (key: string): MemoryEntry | undefined =>
    this.#lru.peek(key, { allowStale: true })
  #evictions = 0
  #expirations = 0
  readonly #locks = new Map<string, { token: string; until: number }>()
  readonly #now: () => number
  /** Epoch milliseconds for `storedAt` and rate windows: the injected clock, else Date.now. */
  readonly #wall: () => number
  /** `#wall()` when the store was built: entries keep their write time relative to it. */
  readonly #epoch: number

  constructor(options: MemoryStoreOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('', 'an object', options)
    rejectUnknownOptions(options, MEMORY_STORE_OPTIONS, '', RENAMED_MEMORY_STORE_OPTIONS)
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0)
      throw new InvalidOptionError('maxBytes', 'a positive integer', maxBytes)
    const maxEntryBytes = options.maxEntryBytes ?? Math.max(1, Math.floor(maxBytes / 4))
    if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes <= 0 || maxEntryBytes > maxBytes) {
      throw new InvalidOptionError(
        'maxEntryBytes',
        `a positive integer no larger than maxBytes (${maxBytes})`,
        maxEntryBytes
      )
    }
    if (
      options.maxEntries !== undefined &&
      (!Number.isSafeInteger(options.maxEntries) || options.maxEntries <= 0)
    ) {
      throw new InvalidOptionError('maxEntries', 'a positive integer', options.maxEntries)
    }
    if (options.clock !== undefined && typeof options.clock !== 'function')
      throw new InvalidOptionError('clock', 'a function returning milliseconds', options.clock)
    const clock = options.clock
    this.#now = clock ?? (() => performance.now())
    this.#wall = clock ?? Date.now
    this.#maxEntryBytes = maxEntryBytes
    this.#slabs = new Slabs(maxBytes)
    this.#epoch = this.#wall()
    this.#lru = new LRUCache<string, MemoryEntry>({
      maxSize: maxBytes,
      maxEntrySize: maxEntryBytes,
      ...(options.maxEntries === undefined ? {} : { max: options.maxEntries }),
      // An injected clock is read on every check. Otherwise lru-cache caches the time for 1 ms
      // (one timer a millisecond): reading performance.now() on every check instead halved
      // getSync in bench/core-store.mjs (0.90 → 0.51 of lru-cache get). Only under 1 read a
      // millisecond does each read pay the timer, where a read's cost hardly matters.
      ...(clock === undefined ? {} : { perf: { now: clock }, ttlResolution: 0 }),
      // Stale entries are dropped when touched or pushed out by size; no timer per entry.
      ttlAutopurge: false,
      allowStale: false,
      dispose: (entry, key, reason) => {
        // Only room-making removals of live entries are evictions; an expired entry pushed out to
        // make room had expired already. Deletes and overwrites are neither.
        // lru-cache calls this before it forgets the key, so the entry's remaining TTL still reads.
        if (reason === 'expire' || (reason === 'evict' && this.#lru.getRemainingTTL(key) <= 0))
          this.#expirations++
        else if (reason === 'evict') this.#evictions++
        this.#slabs.release(entry)
        this.#unindex(key, entry.tags)
      },
    })
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.getSync(key)
  }

  /** Synchronous read for callers on a hot path; same result as `get`. */
  getSync(key: string): Uint8Array | undefined {
    const entry = this.#lru.get(key)
    if (entry === undefined) return undefined
    return entry.value ?? Slabs.lend(entry)
  }

  /**
   * Charges the entry under `key` for `bytes` a reader keeps while the store holds `value` (an
   * HTTP entry's decoding, about 1.4 KB for a 1 KB JSON response), so `maxBytes` covers them: the
   * entry grows by the difference and older entries make room. Ignored when `key` now holds
   * another value, or when the entry would pass `maxEntryBytes` (a value just read stays).
   */
  retain(key: string, value: Uint8Array, bytes: number): void {
    const entry = this.#lru.peek(key)
    if (entry === undefined || entry.value !== value || !(bytes > entry.retained)) return
    // lru-cache re-sizes an entry only when it is given a new value object: a copy, same bytes.
    const charged = new MemoryEntry(value, entry.tags, entry.storedAt, entry.extra)
    charged.slab = entry.slab
    charged.offset = entry.offset
    charged.retained = Math.ceil(bytes)
    const size = entrySize(key, charged)
    if (size > this.#maxEntryBytes) return
    // No dispose: the slab space and the tag index stay with the key, now under the copy.
    this.#lru.set(key, charged, { size, noUpdateTTL: true, noDisposeOnSet: true })
  }

  async set(key: string, value: Uint8Array, options: StoreSetOptions): Promise<void> {
    const tags = options.tags !== undefined && options.tags.length > 0 ? options.tags : undefined
    const entry = this.#put(key, new MemoryEntry(value, tags, this.#storedNow()), options.ttlMs)
    // Index tags only once the entry is really held: an oversized value is refused.
    if (tags !== undefined && entry !== undefined) {
      for (const tag of tags) this.#keysByTag.add(tag, key)
    }
  }

  async delete(key: string): Promise<boolean> {
    return this.#lru.delete(key)
  }

  async has(key: string): Promise<boolean> {
    return this.#lru.has(key)
  }

  async getWithTtl(key: string): Promise<{ value: Uint8Array; ttlMs: number } | undefined> {
    const entry = this.#lru.get(key)
    const value = entry === undefined ? undefined : (entry.value ?? Slabs.lend(entry))
    if (value === undefined) return undefined
    const remaining = this.#lru.getRemainingTTL(key)
    return {
      value,
      ttlMs: Number.isFinite(remaining)
        ? Math.max(1, Math.floor(remaining))
        : Number.MAX_SAFE_INTEGER,
    }
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    return (await this.invalidateTagsReturningKeys(tags)).length
  }

  async countTagged(tags: readonly string[]): Promise<number> {
    const live = new Set<string>()
    for (const tag of tags)
      for (const key of this.#keysByTag.keysOf(tag)) if (this.#lru.has(key)) live.add(key)
    return live.size
  }

  async invalidateTagsReturningKeys(tags: readonly string[]): Promise<readonly string[]> {
    const removed: string[] = []
    for (const tag of tags)
      for (const key of this.#keysByTag.take(tag)) if (this.#lru.delete(key)) removed.push(key)
    return removed
  }

  async acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const now = this.#now()
    const held = this.#locks.get(key)
    if (held !== undefined && held.until > now) return false
    this.#locks.set(key, { token, until: now + ttlMs })
    // Expired locks of keys never asked for again are swept here, so the map stays small.
    if (this.#locks.size > 1024)
      for (const [name, lock] of this.#locks) if (lock.until <= now) this.#locks.delete(name)
    return true
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    const held = this.#locks.get(key)
    if (held === undefined || held.token !== token) return false
    this.#locks.delete(key)
    return true
  }

  async deletePattern(pattern: string): Promise<number> {
    const matcher = globToRegExp(pattern)
    const matched: string[] = []
    for (const key of this.#lru.keys()) if (matcher.test(key)) matched.push(key)
    let removed = 0
    for (const key of matched) if (this.#lru.delete(key)) removed++
    return removed
  }

  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    const current = this.#lru.get(key)
    const previous = current === undefined ? 0 : parseCounter(Slabs.peek(current))
    if (previous === undefined)
      throw new TypeError(`value at ${JSON.stringify(key)} is not an integer`)
    const next = previous + by
    const remaining = current === undefined ? ttlMs : this.#lru.getRemainingTTL(key)
    const ttl = Number.isFinite(remaining) && remaining > 0 ? Math.ceil(remaining) : ttlMs
    this.#put(
      key,
      new MemoryEntry(Buffer.from(String(next)), undefined, current?.storedAt ?? this.#storedNow()),
      ttl
    )
    return next
  }

  async ttl(key: string): Promise<number | undefined> {
    if (!this.#lru.has(key)) return undefined
    const remaining = this.#lru.getRemainingTTL(key)
    return Number.isFinite(remaining) ? Math.max(1, Math.floor(remaining)) : Infinity
  }

  async setIf(
    key: string,
    value: Uint8Array,
    options: StoreSetOptions,
    condition: 'absent' | 'present'
  ): Promise<boolean> {
    // No await between the check and the write: atomic within this process.
    if (this.#lru.has(key) !== (condition === 'present')) return false
    const before = this.#lru.peek(key)
    await this.set(key, value, options)
    const after = this.#lru.peek(key)
    return after !== undefined && after !== before
  }

  async hitWindow(key: string, options: WindowHitOptions): Promise<WindowState> {
    const held = this.#lru.get(key)
    const { counts, state } = applyWindowHit(held?.extra?.window, this.#wall(), options)
    // Kept two windows: a sliding window still reads the previous one.
    const ttl = options.windowMs * 2
    this.#put(
      key,
      new MemoryEntry(EMPTY, undefined, held?.storedAt ?? this.#storedNow(), { window: counts }),
      ttl
    )
    return state
  }

  async cleanupExpired(): Promise<number> {
    const before = this.#expirations
    this.#lru.purgeStale()
    return this.#expirations - before
  }

  oldestAndNewest(prefix: string): { oldest: EntryAge | undefined; newest: EntryAge | undefined } {
    let oldest: EntryAge | undefined
    let newest: EntryAge | undefined
    const wall = this.#wall()
    // entries() yields live entries only.
    for (const [key, entry] of this.#lru.entries()) {
      if (
        !key.startsWith(prefix) ||
        key.startsWith(RESERVED_KEY_PREFIX) ||
        entry.extra !== undefined
      )
        continue
      const age: EntryAge = {
        key,
        storedAt: this.#epoch + entry.storedAt,
        expiresAt: wall + this.#lru.getRemainingTTL(key),
      }
      if (oldest === undefined || age.storedAt < oldest.storedAt) oldest = age
      if (newest === undefined || age.storedAt >= newest.storedAt) newest = age
    }
    return { oldest, newest }
  }

  /** Synchronous from read to write, so it is atomic within the process. See `Store.addToBoundedSet`. */
  async addToBoundedSet(
    key: string,
    member: string,
    max: number,
    ttlMs: number
  ): Promise<BoundedSetResult> {
    const now = this.#now()
    const current = this.#lru.get(key)
    const held = current?.extra?.members
    if (current !== undefined && held === undefined)
      throw new TypeError(`value at ${JSON.stringify(key)} is not a bounded set`)
    const members = new Map<string, number>()
    for (const [name, until] of held ?? []) if (until > now) members.set(name, until)
    const until = now + ttlMs
    const known = members.get(member)
    let added = false
    if (known !== undefined) {
      if (known < until) members.set(member, until)
    } else if (members.size < max) {
      members.set(member, until)
      added = true
    }
    const longest = Math.max(...members.values())
    const value = Buffer.from(JSON.stringify([...members.keys()]))
    const ttl = Math.max(1, Math.ceil(longest - now))
    this.#put(
      key,
      new MemoryEntry(value, undefined, current?.storedAt ?? this.#storedNow(), { members }),
      ttl
    )
    return { added, member: members.has(member), size: members.size }
  }

  async clear(): Promise<void> {
    this.#lru.clear()
    this.#slabs.clear()
    this.#keysByTag.clear()
    this.#locks.clear()
  }

  /** Live entries only: expired ones are dropped first (O(entries), which is why stats() is not for a hot path). */
  size(): StoreSize {
    this.#lru.purgeStale()
    return {
      entries: this.#lru.size,
      bytes: this.#lru.calculatedSize,
      evictions: this.#evictions,
      expirations: this.#expirations,
    }
  }

  #storedNow(): number {
    return this.#wall() - this.#epoch
  }

  /**
   * Stores `entry` unless it is larger than `maxEntryBytes` (then the key is left empty, as
   * lru-cache does); resolves the entry when held. Small values are copied into a slab, and so is a
   * value that would pin a much larger buffer (a view into a socket read, say).
   */
  #put(key: string, entry: MemoryEntry, ttl: number): MemoryEntry | undefined {
    // A key built by concatenation is a rope of V8 strings, and the store would hold the whole
    // rope for as long as the entry lives. Reading a character makes V8 flatten it into one
    // string, which is what the store then keeps: 18 bytes less per key for `prefix:${id}` keys
    // (more for keys joined from many parts), and a flat key compares faster on every read.
    key.charCodeAt(0)
    const size = entrySize(key, entry)
    if (size > this.#maxEntryBytes) {
      this.#lru.delete(key)
      return undefined
    }
    const value = entry.value
    const length = entry.length
    if (value === undefined) throw new TypeError('a new entry holds its value')
    if (length > 0 && length <= SLAB_VALUE_MAX_BYTES) this.#slabs.place(key, value, entry)
    else if (value.buffer.byteLength > length * 2) entry.value = Buffer.from(value)
    this.#lru.set(key, entry, { ttl, size })
    this.#slabs.compact(this.#holderOf)
    return entry
  }

  #unindex(key: string, tags: readonly string[] | undefined): void {
    if (tags === undefined) return
    for (const tag of tags) this.#keysByTag.remove(tag, key)
  }
}

function entrySize(key: string, entry: MemoryEntry): number {
  let size = ENTRY_OVERHEAD_BYTES + key.length * 2 + entry.length + entry.retained
  // A tag costs a map entry or a set slot per key plus, at worst, the tag string itself.
  if (entry.tags !== undefined) for (const tag of entry.tags) size += 48 + tag.length * 2
  return size
}

const EMPTY = new Uint8Array(0)

const INTEGER = /^-?\d{1,16}$/

function parseCounter(bytes: Uint8Array): number | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
  return INTEGER.test(text) ? Number(text) : undefined
}

import { DecodeError, type Cache } from '@cachewire/core'
import type { Admission } from '../flows/admit.js'
import { KeyHasher, urlTag, variantKey } from '../request/cache-key.js'
import type { RequestContext } from '../request/prepare-request.js'
import { secondaryKey } from '../semantics/vary.js'
import { Reason } from '../semantics/reasons.js'
import type { StoredResponse } from '../types.js'
import {
  decodeValue,
  encodeEntry,
  encodeVaryIndex,
  type DecodedValue,
  type VaryIndex,
} from './entry-codec.js'
import { RecentDecodings } from './recent-decodings.js'

/**
 * What a store write did: `stored`; `failed` (the store did not take it: unreachable, refused, or
 * a partial Vary write); `variant-cap` (the URL has its maximum of variants); `expired` (its
 * lifetime ran out before it could be written: nothing was sent to the store).
 */
export type WriteOutcome = 'stored' | 'failed' | 'variant-cap' | 'expired'

/** The not-stored reason a write outcome other than `stored` counts and shows in Cache-Status. */
export function notStoredReason(outcome: Exclude<WriteOutcome, 'stored'>): Reason {
  if (outcome === 'variant-cap') return Reason.VariantCap
  if (outcome === 'expired') return Reason.NoFreshness
  return Reason.WriteFailed
}

/** Key of the bounded set holding the variants of the URL whose primary key hashes to `primaryHash`. */
function variantSetKey(primaryHash: string): string {
  return `${primaryHash}:variants`
}

/** What a lookup found under a request's primary key. */
export interface Lookup {
  entry: StoredResponse | undefined
  /** Store key of `entry`. */
  entryHash: string | undefined
  /** The URL's Vary index, when its responses vary. */
  index: VaryIndex | undefined
  /** Why a request without a usable entry goes forward (RFC 9211 §2.2). */
  fwd: 'uri-miss' | 'vary-miss'
  /**
   * The engine clock's reading when the store's answer came: the time the engine judges the
   * entry by. Absent on a lookup that read nothing.
   */
  readAt?: number
}

/** Where stored bytes from an in-process store carry their decoding (`EntryStore.#decode`). */
const DECODED: unique symbol = Symbol('cachewire.decoded')

/**
 * Entries in a core `Cache`: the one place HTTP entries are read, written and deleted.
 *
 * Layout: the primary key's hash holds either the entry (no Vary) or a Vary index naming the
 * fields that select a variant; each variant lives under the hash of primary + secondary key
 * (RFC 9111 §4.1). A non-varying URL costs one store read per hit. Every read compares the full
 * key kept inside the value, and every fault is a miss: the store's own errors are already
 * misses in the core `Cache`, a value that does not decode, or whose full key differs, is deleted and reported.
 *
 * @example
 * ```ts
 * const entries = new EntryStore(cache, Date.now, console.error)
 * const found = await entries.lookup(context)
 * ```
 */
export class EntryStore {
  readonly #cache: Cache
  readonly #clock: () => number
  readonly #report: (error: unknown) => void
  readonly #hasher: KeyHasher
  /** A Redis read whose bytes did not change since the last read of its key reuses that decoding. */
  readonly #recent = new RecentDecodings()

  constructor(
    cache: Cache,
    clock: () => number,
    report: (error: unknown) => void,
    hasher: KeyHasher = new KeyHasher()
  ) {
    this.#cache = cache
    this.#clock = clock
    this.#report = report
    this.#hasher = hasher
  }

  /**
   * Finds the stored response selected by this request, if any: at once when the store can answer
   * without I/O (memory, a tiered store's L1 copy), else a promise. Never rejects.
   */
  lookup(context: RequestContext): Lookup | Promise<Lookup> {
    const now = this.#clock()
    const first = this.#read(context.primaryHash, context.primary, now)
    // A store that answered at once answered at `now`: the engine judges the entry by it rather
    // than read the clock again (Date.now() is a runtime call in V8, ~360 instructions a hit in
    // callgrind). After I/O the clock is read again when the answer comes.
    if (first instanceof Promise)
      return first.then((value) => this.#found(context, value, this.#clock()))
    return this.#found(context, first, now)
  }

  /** What a lookup found under the primary key, read at `readAt`: an entry, or a Vary index to follow. */
  #found(
    context: RequestContext,
    first: DecodedValue | undefined,
    readAt: number
  ): Lookup | Promise<Lookup> {
    if (first === undefined)
      return { entry: undefined, entryHash: undefined, index: undefined, fwd: 'uri-miss', readAt }
    if (first.kind === 'entry')
      return {
        entry: first.entry,
        entryHash: context.primaryHash,
        index: undefined,
        fwd: 'uri-miss',
        readAt,
      }
    const index = first.index
    const key = variantKey(context.primary, secondaryKey(index.vary, context.request.headers))
    const hash = this.#hasher.hash(key)
    const variant = (second: DecodedValue | undefined, at: number): Lookup =>
      second?.kind === 'entry'
        ? { entry: second.entry, entryHash: hash, index, fwd: 'vary-miss', readAt: at }
        : { entry: undefined, entryHash: undefined, index, fwd: 'vary-miss', readAt: at }
    const second = this.#read(hash, key, readAt)
    if (second instanceof Promise) return second.then((value) => variant(value, this.#clock()))
    return variant(second, readAt)
  }

  /**
   * Stores an admitted entry, with a store TTL that covers its stale windows (expiresAt), and
   * for a variant also the URL's Vary index. A new variant first takes a place in the URL's
   * bounded set of variants (`Cache.addToBoundedSet`: one atomic script on Redis), so processes
   * storing variants at once never hold more than `maxVariants`; a store that cannot keep a
   * bounded set leaves the cap to the index check made at admission. Resolves what happened:
   * `stored` only when the store took the entry. Never rejects.
   */
  async write(
    context: RequestContext,
    admission: Admission & { stored: true },
    index: VaryIndex | undefined,
    maxVariants: number
  ): Promise<WriteOutcome> {
    const { entry, variantHash } = admission
    const now = this.#clock()
    const ttlMs = Math.ceil(entry.expiresAt - now)
    if (ttlMs <= 0) return 'expired'
    // A computed lifetime is milliseconds by construction. Under a second it says so, or it would
    // be refused as a likely seconds-for-milliseconds slip (the unit rule for lifetimes); from a
    // second up it stays a number, which the store reads without parsing text on every write.
    const ttl = ttlMs >= 1000 ? ttlMs : (`${ttlMs}ms` as const)
    try {
      if (variantHash === undefined) {
        return (await this.#cache.set(context.primaryHash, encodeEntry(entry), {
          ttl,
          tags: entry.tags,
        }))
          ? 'stored'
          : 'failed'
      }
      const slot = await this.#cache.addToBoundedSet(
        variantSetKey(context.primaryHash),
        variantHash,
        { max: maxVariants, ttl }
      )
      if (slot !== undefined && !slot.member) return 'variant-cap'
      if (!(await this.#cache.set(variantHash, encodeEntry(entry), { ttl, tags: entry.tags })))
        return 'failed'
      const same =
        index !== undefined && index.vary.join() === entry.vary.join() ? index : undefined
      const variants =
        same === undefined
          ? [variantHash]
          : same.variants.includes(variantHash)
            ? same.variants
            : [...same.variants, variantHash]
      const expiresAt = Math.max(entry.expiresAt, same?.expiresAt ?? 0)
      // The index carries the URL tag only: a tag purge of variants leaves a harmless index.
      const indexed = await this.#cache.set(
        context.primaryHash,
        encodeVaryIndex({ key: context.primary, vary: entry.vary, variants, expiresAt }),
        {
          ttl: `${Math.ceil(expiresAt - now)}ms`,
          tags: [urlTag(context.authority, context.path, context.query)],
        }
      )
      // Without its index the variant cannot be found: not stored, as far as a client can tell.
      return indexed ? 'stored' : 'failed'
    } catch (error) {
      this.#report(error)
      return 'failed'
    }
  }

  /** Deletes one stored value; never rejects. */
  async delete(hash: string | undefined): Promise<void> {
    if (hash === undefined) return
    try {
      await this.#cache.delete(hash)
    } catch (error) {
      this.#report(error)
    }
  }

  /**
   * One store read: synchronous when the store can tell, else through `get`. A corrupt value is a
   * miss and a delete; a key mismatch (a collision or tampering) a miss and a delete; an expired
   * record a miss.
   */
  #read(
    hash: string,
    fullKey: string,
    now: number
  ): DecodedValue | undefined | Promise<DecodedValue | undefined> {
    let found: { value: unknown } | undefined
    try {
      found = this.#cache.readSync<unknown>(hash)
    } catch (error) {
      this.#report(error)
      return undefined
    }
    if (found === undefined) return this.#get(hash, fullKey, now)
    const checked = this.#check(found.value, hash, fullKey, now)
    // What needs repair (a delete) or a report goes the asynchronous way.
    return checked === REPAIR ? this.#get(hash, fullKey, now) : checked
  }

  async #get(hash: string, fullKey: string, now: number): Promise<DecodedValue | undefined> {
    let value: unknown
    try {
      value = await this.#cache.get<unknown>(hash)
    } catch (error) {
      this.#report(error)
      return undefined
    }
    // Only a store that reads in process hands back the same bytes on a later read: a Redis
    // read's bytes are new, so its decoding is kept by key (`#recent`), not on the bytes (`DECODED`).
    const inProcess = this.#cache.store.syncReads !== undefined
    const checked = this.#check(value, hash, fullKey, now, inProcess)
    if (checked !== REPAIR) return checked
    const decoded =
      value instanceof Uint8Array ? this.#decode(value, hash, fullKey, inProcess) : undefined
    // A different full key under the same hash is a collision or tampering: never serve it, and
    // delete it, so a planted value cannot keep a URL from being cached.
    this.#report(
      decoded === undefined
        ? new DecodeError(hash)
        : new DecodeError(hash, new Error('stored key differs from the requested key'))
    )
    await this.delete(hash)
    return undefined
  }

  /** A stored value as a record of this key, `undefined` (a miss), or REPAIR (undecodable or another key's). */
  #check(
    value: unknown,
    hash: string,
    fullKey: string,
    now: number,
    inProcess = true
  ): DecodedValue | undefined | typeof REPAIR {
    if (value === undefined) return undefined
    const decoded =
      value instanceof Uint8Array ? this.#decode(value, hash, fullKey, inProcess) : undefined
    if (decoded === undefined) return REPAIR
    const record = decoded.kind === 'entry' ? decoded.entry : decoded.index
    if (record.key !== fullKey) return REPAIR
    if (record.expiresAt <= now) return undefined
    return decoded
  }

  /**
   * A memory store's hit gets the same bytes every time (core's `Cache.readSync` hands back one
   * view per stored value, a Buffer of its own making), so they carry their decoding (a
   * non-enumerable property, `DECODED`) and a hit skips decoding. On the bytes rather than in a
   * weak map by bytes: over 10,000 keys each map lookup was a cache miss or two a hit (its table
   * is far larger than a core's cache), where the bytes are loaded anyway. Stored bytes that take
   * no property are core's to handle; a view someone else made non-extensible is decoded afresh.
   * A Redis read brings new bytes and decodes, and its decoding is kept by key (`#recent`): V8's
   * young-generation collector holds a weak map's values strongly, and every Redis hit's decoding
   * outlived the next minor collection for a memo nobody reads.
   */
  #decode(
    value: Uint8Array,
    hash: string,
    fullKey: string,
    inProcess: boolean
  ): DecodedValue | undefined {
    if (!inProcess) return this.#recent.decode(hash, value)
    const held = (value as { [DECODED]?: DecodedValue })[DECODED]
    if (held !== undefined) return held
    const decoded = decodeValue(value, fullKey)
    if (decoded === undefined || !Object.isExtensible(value)) return decoded
    Object.defineProperty(value, DECODED, { value: decoded })
    // The decoding lives as long as the stored value: a memory store counts it in maxBytes.
    // (`storage.cache` is checked by shape: a Cache from an older core has no `retain`.)
    const cache: Partial<Pick<Cache, 'retain'>> = this.#cache
    cache.retain?.(hash, value, retainedBytes(decoded))
    return decoded
  }
}

/**
 * Heap a decoding keeps while it is served from an in-process store: the entry and its arrays,
 * the body's view, the lines prepared for hits, and the text of its key, tags and header lines.
 * Fitted to `bench/heap-per-entry.mjs` on Node 20: a 1 KB JSON response with 4 header lines kept
 * 1,444 bytes once served, and the same with 8 more lines of 53 characters 2,527, with entry
 * format 2 (JSON); format 3 keeps 1,498–1,508 for the first (its strings are decoded one by one,
 * and field names shared), so the entry's figure went up by 60; this gives 1,501. A Vary index
 * (an object, its key and two short lists) is not measured: its figure is an estimate on the same
 * scale, and there is one per varying URL, not per variant.
 */
function retainedBytes(decoded: DecodedValue): number {
  if (decoded.kind === 'vary') {
    const { index } = decoded
    let bytes = VARY_INDEX_BYTES + index.key.length
    for (const text of index.vary) bytes += STRING_BYTES + text.length
    for (const text of index.variants) bytes += STRING_BYTES + text.length
    return bytes
  }
  const { entry } = decoded
  let bytes = ENTRY_BYTES + entry.key.length
  for (const tag of entry.tags) bytes += tag.length
  for (const [name, value] of entry.headers) bytes += LINE_BYTES + name.length + value.length
  return bytes
}

/** See `retainedBytes`. */
const ENTRY_BYTES = 930
const LINE_BYTES = 82
const VARY_INDEX_BYTES = 200
const STRING_BYTES = 24

const REPAIR: unique symbol = Symbol('repair')

/** `f(value)`, after `value` settles when it is a promise: synchronous work stays synchronous. */
export function settle<T, U>(
  value: T | Promise<T>,
  f: (value: T) => U | Promise<U>
): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value)
}

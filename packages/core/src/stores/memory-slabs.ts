/** Bytes of one slab: small values are packed into slabs this size. */
export const SLAB_BYTES = 256 * 1024

/**
 * Largest value copied into a slab. One Buffer per small value costs a malloc'd backing store
 * and its bookkeeping, several times the value itself, and a million of them interleaved with
 * evictions fragment the C heap: RSS went to 5× the store's budget (bench/core-memory.mjs).
 */
export const SLAB_VALUE_MAX_BYTES = 4096

/**
 * A slab whose live bytes fall below this share of what it handed out may be compacted: its live
 * values are copied into the current slab, so a few long-lived values cannot pin many slabs.
 */
const COMPACT_BELOW = 0.25

/**
 * Compaction runs only while the slabs hold more than this share of their live bytes in dead
 * ones (and more than two slabs' worth). When entries are evicted oldest first, the slab left
 * sparse is the oldest, whose values go next anyway: moving them cost a quarter of all writes
 * again and kept a third more slabs than the live bytes need (bench/core-memory.mjs: 77 slabs
 * for 58 slabs of values). Eviction empties that slab soon enough on its own.
 */
const DEAD_SHARE_BEFORE_COMPACTING = 0.25

/**
 * One slab: bytes handed out in order. Its bytes are reused only if no reader was ever given a
 * view into it (`lent`), since a reader may hold a view past the value's eviction: one being
 * written to a slow socket, say.
 */
export class Slab {
  readonly bytes: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES)
  /** Bytes handed out so far. */
  used = 0
  /** Bytes of the values still held by the store. */
  live = 0
  /** Some value here was given to a reader (`Slabs.lend`): the bytes are never written again. */
  lent = false
  /** Keys of the values handed out here, for compaction (some may have moved or gone since). */
  readonly keys: string[] = []
}

/**
 * What a slab value is held by: the store's entry, which compaction points at the value's new
 * place. Its `value` is a view made on the first read (`Slabs.lend`), so an entry never read
 * costs no view object (about 100 bytes of heap, a third of an entry's own cost).
 */
export interface SlabHolder {
  value: Uint8Array | undefined
  slab: Slab | undefined
  /** Where the value starts in `slab`. */
  offset: number
  readonly length: number
}

/**
 * Small values packed into shared slabs, so the store holds one view per value instead of one
 * ArrayBuffer (with its malloc'd backing store) per value. Slabs left mostly empty are compacted.
 *
 * A slab that a reader was given a view into is freed by the garbage collector once neither the
 * store nor any reader references it. One that no reader saw is kept for reuse when it empties:
 * each slab freed by the collector is a 256 KiB malloc'd block, and up to V8's external-memory
 * slack (~64 MiB) of them pile up between collections. glibc serves them from its heap, which
 * does not shrink, so under write-heavy churn (rate windows, revocation lists, entries written
 * and never read) that pile stayed in RSS for good (bench/core-memory.mjs: 267 MiB for a 64 MiB
 * store, 175 MiB with MALLOC_MMAP_THRESHOLD_ set).
 */
export class Slabs {
  #current = new Slab()
  readonly #sparse = new Set<Slab>()
  /** Emptied slabs no reader saw, ready to be written again; at most `#maxSpare`. */
  readonly #spare: Slab[] = []
  readonly #maxSpare: number
  /** Slabs holding values the store keeps (the current one included, spares not). */
  #held = 1
  /** Bytes of the values the store keeps, over all slabs. */
  #live = 0

  /** `maxBytes` bounds the spares: a sixteenth of it, at least one slab. */
  constructor(maxBytes: number) {
    this.#maxSpare = Math.max(1, Math.floor(maxBytes / SLAB_BYTES / 16))
  }

  /** Bytes of the slabs holding kept values, dead space included (spares not). */
  get heldBytes(): number {
    return this.#held * SLAB_BYTES
  }

  /** Bytes of the values kept, over all slabs. */
  get liveBytes(): number {
    return this.#live
  }

  /** A view of the holder's value for a reader, which marks its slab as seen (never rewritten). */
  static lend(holder: SlabHolder): Uint8Array | undefined {
    const slab = holder.slab
    if (slab === undefined) return holder.value
    slab.lent = true
    return (holder.value = slab.bytes.subarray(holder.offset, holder.offset + holder.length))
  }

  /** The holder's value for the store's own use, gone before the next write: its slab stays unseen. */
  static peek(holder: SlabHolder): Uint8Array {
    const slab = holder.slab
    if (holder.value !== undefined || slab === undefined) return holder.value ?? EMPTY
    return slab.bytes.subarray(holder.offset, holder.offset + holder.length)
  }

  /** A copy of `value` in the current slab, charged to `holder` (whose place it sets; its view is made on a read). */
  place(key: string, value: Uint8Array, holder: SlabHolder): void {
    const length = value.byteLength
    let slab = this.#current
    if (slab.used + length > SLAB_BYTES) {
      this.#retire(slab)
      slab = this.#current = this.#spare.pop() ?? new Slab()
      this.#held++
    }
    const start = slab.used
    slab.bytes.set(value, start)
    slab.used = start + length
    slab.live += length
    this.#live += length
    slab.keys.push(key)
    holder.value = undefined
    holder.slab = slab
    holder.offset = start
  }

  /** The holder no longer holds its value (deleted, replaced, evicted or refused). */
  release(holder: SlabHolder): void {
    const slab = holder.slab
    if (slab === undefined) return
    holder.slab = undefined
    slab.live -= holder.length
    this.#live -= holder.length
    if (slab === this.#current) return
    if (slab.live === 0) this.#empty(slab)
    else if (slab.live < slab.used * COMPACT_BELOW) this.#sparse.add(slab)
  }

  /**
   * Moves the live values of one sparse slab into the current one. Run outside the LRU's own calls
   * (its dispose hook marks slabs sparse), with `find` returning the holder now under a key.
   */
  compact(find: (key: string) => SlabHolder | undefined): void {
    if (this.#sparse.size === 0) return
    const dead = this.#held * SLAB_BYTES - this.#live
    if (dead <= 2 * SLAB_BYTES || dead <= this.#live * DEAD_SHARE_BEFORE_COMPACTING) return
    // One slab per call: a large invalidation can leave many slabs sparse at once, and the one
    // write that comes next must not pay for all of them (each later write takes the next).
    const slab = this.#sparse.values().next().value
    if (slab === undefined) return
    this.#sparse.delete(slab)
    for (const key of slab.keys) {
      const holder = find(key)
      if (holder === undefined || holder.slab !== slab) continue
      slab.live -= holder.length
      this.#live -= holder.length
      this.place(key, slab.bytes.subarray(holder.offset, holder.offset + holder.length), holder)
    }
    slab.keys.length = 0
    if (slab.live === 0) this.#empty(slab)
  }

  /** Forgets every slab; views already handed out keep theirs alive until dropped. */
  clear(): void {
    this.#current = new Slab()
    this.#held = 1
    this.#live = 0
    this.#sparse.clear()
    this.#spare.length = 0
  }

  #retire(slab: Slab): void {
    if (slab.live === 0) this.#empty(slab)
    else if (slab.live < slab.used * COMPACT_BELOW) this.#sparse.add(slab)
  }

  /** A slab holding nothing the store keeps: spare if no reader saw it, else left to the collector. */
  #empty(slab: Slab): void {
    this.#sparse.delete(slab)
    this.#held--
    if (slab.lent || this.#spare.length >= this.#maxSpare) return
    slab.used = 0
    slab.keys.length = 0
    this.#spare.push(slab)
  }
}

const EMPTY = new Uint8Array(0)

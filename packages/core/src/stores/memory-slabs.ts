/** Bytes of one slab: small values are packed into slabs this size. */
export const SLAB_BYTES = 256 * 1024

/**
 * Largest value copied into a slab. One Buffer per small value costs a malloc'd backing store
 * and its bookkeeping, several times the value itself, and a million of them interleaved with
 * evictions fragment the C heap: RSS went to 5× the store's budget (bench/core-memory.mjs).
 */
export const SLAB_VALUE_MAX_BYTES = 4096

/**
 * A slab whose live bytes fall below this share of what it handed out is compacted: its live
 * values are copied into the current slab, so a few long-lived values cannot pin many slabs.
 */
const COMPACT_BELOW = 0.25

/** One slab: bytes handed out in order, never reused (a reader may still hold a view). */
export class Slab {
  readonly bytes: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES)
  /** Bytes handed out so far. */
  used = 0
  /** Bytes of the values still held by the store. */
  live = 0
  /** Keys of the values handed out here, for compaction (some may have moved or gone since). */
  readonly keys: string[] = []
}

/** What a slab value is held by: the store's entry, which compaction points at the value's new place. */
export interface SlabHolder {
  value: Uint8Array
  slab: Slab | undefined
}

/**
 * Small values packed into shared slabs, so the store holds one view per value instead of one
 * ArrayBuffer (with its malloc'd backing store) per value. Slab bytes are never reused: a reader
 * may hold a view past the entry's eviction, so a slab is freed by the garbage collector once
 * neither the store nor any reader references it. Slabs left mostly empty are compacted.
 */
export class Slabs {
  #current = new Slab()
  readonly #sparse = new Set<Slab>()

  /** A copy of `value` in the current slab, charged to `holder` (whose `value` and `slab` it sets). */
  place(key: string, value: Uint8Array, holder: SlabHolder): void {
    const length = value.byteLength
    let slab = this.#current
    if (slab.used + length > SLAB_BYTES) {
      this.#retire(slab)
      slab = this.#current = new Slab()
    }
    const start = slab.used
    slab.bytes.set(value, start)
    slab.used = start + length
    slab.live += length
    slab.keys.push(key)
    holder.value = slab.bytes.subarray(start, start + length)
    holder.slab = slab
  }

  /** The holder no longer holds its value (deleted, replaced, evicted or refused). */
  release(holder: SlabHolder): void {
    const slab = holder.slab
    if (slab === undefined) return
    holder.slab = undefined
    slab.live -= holder.value.byteLength
    if (slab !== this.#current && slab.live < slab.used * COMPACT_BELOW) this.#sparse.add(slab)
  }

  /**
   * Moves the live values of one sparse slab into the current one. Run outside the LRU's own calls
   * (its dispose hook marks slabs sparse), with `find` returning the holder now under a key.
   */
  compact(find: (key: string) => SlabHolder | undefined): void {
    // One slab per call: a large invalidation can leave many slabs sparse at once, and the one
    // write that comes next must not pay for all of them (each later write takes the next).
    const slab = this.#sparse.values().next().value
    if (slab === undefined) return
    this.#sparse.delete(slab)
    for (const key of slab.keys) {
      const holder = find(key)
      if (holder === undefined || holder.slab !== slab) continue
      const value = holder.value
      slab.live -= value.byteLength
      this.place(key, value, holder)
    }
    slab.keys.length = 0
  }

  /** Forgets every slab; views already handed out keep theirs alive until dropped. */
  clear(): void {
    this.#current = new Slab()
    this.#sparse.clear()
  }

  #retire(slab: Slab): void {
    if (slab.live < slab.used * COMPACT_BELOW) this.#sparse.add(slab)
  }
}

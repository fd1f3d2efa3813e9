import { LRUCache } from 'lru-cache'
import { decodeValue, type DecodedValue } from './entry-codec.js'

/** Decodings kept, at most. */
const MAX_ROWS = 1024
/** Bytes of stored values kept for comparison, at most (their decodings view the same bytes). */
const MAX_BYTES = 8 * 1024 * 1024
/** A value larger than this is decoded each time and not kept: it would take a large share of the room. */
const MAX_VALUE_BYTES = 256 * 1024

interface Row {
  bytes: Buffer
  decoded: DecodedValue
}

/**
 * The decodings of values read often from a store that reads over the network (Redis), each
 * with a copy of the bytes it came from. Such a read brings new bytes every time; when they are
 * equal to the bytes kept under the same key, the kept decoding is the decoding of these bytes,
 * and the hit skips the decoding, the header checks and, since the entry object is the same,
 * the wire lines prepared from it. Nothing is served without this read: the store still decides
 * what is current, and a changed or deleted value reads differently.
 *
 * Kept only for keys read twice (the first read of a key is remembered by name alone), so a long
 * tail of keys read once does not churn the rows: each row made and dropped is a copy, a decode
 * and an object that outlives its request. A full table drops its least recently read row.
 * Bounded by rows and bytes.
 *
 * @example
 * ```ts
 * const recent = new RecentDecodings()
 * recent.decode(hash, await redisRead(hash)) // decoded; the key is now known
 * recent.decode(hash, await redisRead(hash)) // decoded and kept
 * recent.decode(hash, await redisRead(hash)) // the kept object, if the bytes did not change
 * ```
 */
export class RecentDecodings {
  /**
   * lru-cache, not a Map kept in read order by hand: V8 keeps a Map's deleted slots until it
   * rehashes, and each look at a Map's oldest row walked them (hundreds per row made, once full).
   * Made on the first row, as lru-cache sizes its arrays up front and an engine on a memory store
   * never makes one.
   */
  #rows: LRUCache<string, Row> | undefined
  /** Keys read once since the last reset: the next read of one makes its row. */
  readonly #readOnce = new Set<string>()

  /** Bytes kept for comparison, over all rows. */
  get bytes(): number {
    return this.#rows?.calculatedSize ?? 0
  }

  /** Rows kept. */
  get size(): number {
    return this.#rows?.size ?? 0
  }

  decode(key: string, value: Uint8Array): DecodedValue | undefined {
    // A read makes the row the most recent.
    const row = this.#rows?.get(key)
    if (row !== undefined) {
      if (row.bytes.equals(value)) return row.decoded
      this.#rows?.delete(key)
    } else if (!this.#readOnce.has(key)) {
      // Cleared when full rather than trimmed: a key read twice within the window is what counts.
      if (this.#readOnce.size >= 2 * MAX_ROWS) this.#readOnce.clear()
      this.#readOnce.add(key)
      return decodeValue(value)
    }
    this.#readOnce.delete(key)
    if (value.byteLength > MAX_VALUE_BYTES) return decodeValue(value)
    // A copy: the value is a view into the network read's buffer, which it would keep whole.
    const bytes = Buffer.from(value)
    const decoded = decodeValue(bytes)
    if (decoded === undefined) return undefined
    this.#rows ??= new LRUCache<string, Row>({
      max: MAX_ROWS,
      maxSize: MAX_BYTES,
      sizeCalculation: (kept) => kept.bytes.byteLength,
    })
    this.#rows.set(key, { bytes, decoded })
    return decoded
  }
}

import { decodeValue, type DecodedValue } from './entry-codec.js'

/** Decodings kept, at most. */
const MAX_ROWS = 1024
/** Bytes of stored values kept for comparison, at most (their decodings view the same bytes). */
const MAX_BYTES = 8 * 1024 * 1024
/** A value larger than this is decoded each time and not kept: it would take a large share of the room. */
const MAX_VALUE_BYTES = 256 * 1024
/** Rows passed over (read since their last pass) before the oldest goes anyway. */
const MAX_SECOND_CHANCES = 8

interface Row {
  bytes: Buffer
  decoded: DecodedValue
  /** Read since eviction last passed over it. */
  read: boolean
}

/**
 * The decodings of values read often from a store that reads over the network (Redis), each
 * with a copy of the bytes it came from. Such a read brings new bytes every time; when they are
 * equal to the bytes kept under the same key, the kept decoding is the decoding of these bytes,
 * and the hit skips the JSON parse, the header checks and, since the entry object is the same,
 * the wire lines prepared from it. Nothing is served without this read: the store still decides
 * what is current, and a changed or deleted value reads differently.
 *
 * Kept only for keys read twice (the first read of a key is remembered by name alone), so a long
 * tail of keys read once does not churn the rows: each row made and dropped is a copy, a decode
 * and an object that outlives its request. A full table drops its oldest row not read since the
 * last pass (second chance). Bounded by rows and bytes.
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
  readonly #rows = new Map<string, Row>()
  /** Keys read once since the last reset: the next read of one makes its row. */
  readonly #readOnce = new Set<string>()
  #bytes = 0

  /** Bytes kept for comparison, over all rows. */
  get bytes(): number {
    return this.#bytes
  }

  /** Rows kept. */
  get size(): number {
    return this.#rows.size
  }

  decode(key: string, value: Uint8Array): DecodedValue | undefined {
    const row = this.#rows.get(key)
    if (row !== undefined) {
      if (row.bytes.equals(value)) {
        row.read = true
        return row.decoded
      }
      this.#rows.delete(key)
      this.#bytes -= row.bytes.byteLength
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
    this.#rows.set(key, { bytes, decoded, read: false })
    this.#bytes += bytes.byteLength
    this.#trim()
    return decoded
  }

  #trim(): void {
    let chances = 0
    while (this.#rows.size > MAX_ROWS || this.#bytes > MAX_BYTES) {
      const [key, oldest] = this.#rows.entries().next().value as [string, Row]
      this.#rows.delete(key)
      if (oldest.read && chances < MAX_SECOND_CHANCES) {
        chances++
        oldest.read = false
        this.#rows.set(key, oldest)
      } else {
        this.#bytes -= oldest.bytes.byteLength
      }
    }
  }
}

import type { HeaderPair, HeaderPairs } from '../types.js'
import { headerValue } from './headers.js'
import type { ByteRange } from './range.js'

/** A 206 or 416 built from a stored full response. */
export interface RangeReply {
  status: 206 | 416
  /** Wire headers, lower-case names. The caller adds Age, Date and Cache-Status as for any hit. */
  headers: HeaderPair[]
  body: Buffer
}

/** RFC 2046 §5.1.1 allows more, but this set needs no quoting in the Content-Type parameter. */
const BOUNDARY = /^[0-9A-Za-z_-]{1,70}$/

/** Fields a 206 must not copy from the stored 200: they describe the whole body. */
const WHOLE_BODY_FIELDS: ReadonlySet<string> = new Set(['content-length', 'content-range'])

/**
 * A 206 (Partial Content) for `ranges` of a stored 200 (RFC 9110 §15.3.7, §14.4, §14.6):
 *
 * - one range: the stored header fields (which include Date, Cache-Control, ETag, Expires,
 *   Content-Location and Vary, as §15.3.7 requires when the 200 would have had them), with
 *   `Content-Range: bytes first-last/length` and the part's Content-Length; the body is a view of
 *   the stored bytes, not a copy;
 * - several ranges: `Content-Type: multipart/byteranges; boundary=…` (§14.6) replacing the
 *   stored Content-Type, which moves into each part beside that part's Content-Range.
 *
 * `ranges` come from evaluateRange or rangeRequest (disjoint, within the body). `boundary` must be
 * unpredictable (e.g. 24 hex digits from `crypto.randomBytes(12)`), so a stored body cannot forge
 * a part; a malformed one is a bug in the calling code and throws a TypeError.
 * RFC 9110 §15.3.7 lets a reply to If-Range leave out representation fields the client already
 * has ("SHOULD NOT"); they are kept here, which is never wrong.
 *
 * @example
 * ```ts
 * partialContent([['content-type', 'text/plain']], Buffer.from('hello'), [{ start: 1, end: 3 }], 'b')
 * // { status: 206, headers: [['content-type', 'text/plain'], ['content-range', 'bytes 1-3/5'], ['content-length', '3']], body: 'ell' }
 * ```
 */
export function partialContent(
  headers: HeaderPairs,
  body: Buffer,
  ranges: readonly ByteRange[],
  boundary: string
): RangeReply {
  const length = body.length
  if (ranges.length === 1) {
    const { start, end } = ranges[0] as ByteRange
    const part = body.subarray(start, end + 1)
    const out = headers.filter(([name]) => !WHOLE_BODY_FIELDS.has(name))
    out.push(
      ['content-range', `bytes ${start}-${end}/${length}`],
      ['content-length', String(part.length)]
    )
    return { status: 206, headers: out, body: part }
  }
  if (!BOUNDARY.test(boundary)) {
    throw new TypeError(
      `expected boundary to be 1-70 letters, digits, "_" or "-", got ${JSON.stringify(boundary)}`
    )
  }
  const contentType = headerValue(headers, 'content-type')
  const chunks: Buffer[] = []
  ranges.forEach(({ start, end }, i) => {
    let head = `${i === 0 ? '' : '\r\n'}--${boundary}\r\n`
    if (contentType !== undefined) head += `Content-Type: ${contentType}\r\n`
    head += `Content-Range: bytes ${start}-${end}/${length}\r\n\r\n`
    chunks.push(Buffer.from(head, 'latin1'), body.subarray(start, end + 1))
  })
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'))
  const multipart = Buffer.concat(chunks)
  const out = headers.filter(([name]) => !WHOLE_BODY_FIELDS.has(name) && name !== 'content-type')
  out.push(
    ['content-type', `multipart/byteranges; boundary=${boundary}`],
    ['content-length', String(multipart.length)]
  )
  return { status: 206, headers: out, body: multipart }
}

/**
 * A 416 (Range Not Satisfiable) for a representation of `length` bytes (RFC 9110 §15.5.17: "the
 * sender SHOULD generate a Content-Range header field specifying the current length of the
 * selected representation"), with an empty body. Nothing else of the stored 200 is copied: its
 * Cache-Control and validators describe the 200, not this error.
 *
 * @example
 * ```ts
 * rangeNotSatisfiable(1000) // { status: 416, headers: [['content-range', 'bytes *\/1000'], ['content-length', '0']], body: <empty> }
 * ```
 */
export function rangeNotSatisfiable(length: number): RangeReply {
  return {
    status: 416,
    headers: [
      ['content-range', `bytes */${length}`],
      ['content-length', '0'],
    ],
    body: Buffer.alloc(0),
  }
}

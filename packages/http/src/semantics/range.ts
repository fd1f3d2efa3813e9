import type { HeaderPairs, RequestHeaders } from '../types.js'
import { TOKEN } from './field-list.js'
import { headerValue, requestHeader } from './headers.js'
import { ifRangeMatches } from './if-range.js'

/** An inclusive byte range of the selected representation (RFC 9110 §14.1.2). */
export interface ByteRange {
  start: number
  end: number
}

/** Bounds on what a Range request may ask for (RFC 9110 §14.2, §17.15). */
export interface RangeLimits {
  /** Most range-specs honoured; a request with more is answered in full. @default 64 */
  maxRanges?: number | undefined
  /**
   * Ranges that overlap, touch, or are fewer than this many bytes apart are sent as one part
   * (RFC 9110 §14.2: a server "MAY coalesce any of the ranges that overlap, or that are separated
   * by a gap that is smaller than the overhead of sending multiple parts"). @default 80
   */
  coalesceGap?: number | undefined
}

/** Why a Range request is answered with the whole representation. */
export type FullReason =
  | 'absent'
  | 'method'
  | 'status'
  | 'if-range'
  | 'unit'
  | 'invalid'
  | 'too-many'
  | 'empty'
  | 'encoded-multipart'

/** How to answer a request for a stored response, as far as Range goes. */
export type RangeDecision =
  /** 200 with the whole representation (Range absent or ignored). */
  | { kind: 'full'; reason: FullReason }
  /** 416 with `Content-Range: bytes *\/length` (RFC 9110 §15.5.17). */
  | { kind: 'unsatisfiable' }
  /** 206 with these ranges, disjoint, at least one (RFC 9110 §15.3.7). */
  | { kind: 'partial'; ranges: readonly ByteRange[] }

export const DEFAULT_MAX_RANGES = 64
export const DEFAULT_COALESCE_GAP = 80

/**
 * Evaluates a `Range` field value against a representation of `length` bytes (RFC 9110 §14.1–14.2):
 *
 * - only the `bytes` unit, case-insensitively; another unit is ignored (§14.2: a server "MUST
 *   ignore a Range header field that contains a range unit it does not understand");
 * - `first-last`, `first-` and `-suffix` specs, in a list (empty members skipped, §5.6.1.2);
 * - an invalid ranges-specifier (bad syntax, `last < first`) is ignored, answered in full (§14.2:
 *   a server "MAY ignore or reject" it; we ignore, as most servers do);
 * - more than `maxRanges` specs are ignored too (§14.2, §17.15: a sign of a broken client or an
 *   attack);
 * - unsatisfiable specs (first-pos ≥ length, suffix 0) are dropped; with none left, 416 (§14.1.1);
 * - last-pos past the end and suffixes longer than the representation are clipped (§14.1.2);
 * - overlapping or nearly adjacent ranges are coalesced, then sent in ascending order; otherwise
 *   the parts keep the order they were asked in (§14.6). Coalescing means no byte is sent twice,
 *   so a response is never much larger than the representation;
 * - an empty representation is answered in full: no byte range of it exists.
 *
 * @example
 * ```ts
 * evaluateRange('bytes=0-99', 1000)         // { kind: 'partial', ranges: [{ start: 0, end: 99 }] }
 * evaluateRange('bytes=-100', 1000)         // { kind: 'partial', ranges: [{ start: 900, end: 999 }] }
 * evaluateRange('bytes=5000-', 1000)        // { kind: 'unsatisfiable' }
 * evaluateRange('items=0-1', 1000)          // { kind: 'full', reason: 'unit' }
 * ```
 */
export function evaluateRange(
  value: string | undefined,
  length: number,
  limits: RangeLimits = {}
): RangeDecision {
  if (value === undefined) return { kind: 'full', reason: 'absent' }
  const text = value.trim()
  const eq = text.indexOf('=')
  if (eq === -1) return { kind: 'full', reason: 'invalid' }
  const unit = text.slice(0, eq)
  if (!TOKEN.test(unit)) return { kind: 'full', reason: 'invalid' }
  // §14.1: range units are compared case-insensitively.
  if (unit.toLowerCase() !== 'bytes') return { kind: 'full', reason: 'unit' }
  const maxRanges = limits.maxRanges ?? DEFAULT_MAX_RANGES
  const specs: Array<[first: number | undefined, last: number | undefined]> = []
  for (const member of text.slice(eq + 1).split(',')) {
    const spec = member.replace(/^[ \t]+|[ \t]+$/g, '')
    if (spec === '') continue
    const match = /^(\d*)-(\d*)$/.exec(spec)
    if (match === null) return { kind: 'full', reason: 'invalid' }
    const [, first, last] = match as unknown as [string, string, string]
    if (first === '' && last === '') return { kind: 'full', reason: 'invalid' }
    const firstPos = first === '' ? undefined : Number(first)
    const lastPos = last === '' ? undefined : Number(last)
    // §14.1.1: "An int-range is invalid if the last-pos value is present and less than the first-pos."
    if (firstPos !== undefined && lastPos !== undefined && lastPos < firstPos) {
      return { kind: 'full', reason: 'invalid' }
    }
    specs.push([firstPos, lastPos])
    if (specs.length > maxRanges) return { kind: 'full', reason: 'too-many' }
  }
  if (specs.length === 0) return { kind: 'full', reason: 'invalid' }
  if (length === 0) return { kind: 'full', reason: 'empty' }
  const ranges: ByteRange[] = []
  for (const [first, last] of specs) {
    if (first === undefined) {
      // suffix-range: satisfiable when suffix-length > 0; longer than the representation → all of it.
      const suffix = last as number
      if (suffix > 0) ranges.push({ start: Math.max(0, length - suffix), end: length - 1 })
    } else if (first < length) {
      ranges.push({
        start: first,
        end: last === undefined ? length - 1 : Math.min(last, length - 1),
      })
    }
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' }
  return { kind: 'partial', ranges: coalesce(ranges, limits.coalesceGap ?? DEFAULT_COALESCE_GAP) }
}

/** What rangeRequest needs to know about the request and the stored response. */
export interface RangeRequestInput {
  method: string
  /** The request's headers (`range`, `if-range`), lower-case names. */
  headers: RequestHeaders
  /** The stored response's status, headers and body length. */
  status: number
  responseHeaders: HeaderPairs
  length: number
  /** Only resolves two-digit years of obsolete date formats. */
  now: number
}

/**
 * Decides how a stored response answers a request that may carry `Range` and `If-Range`, in the
 * order RFC 9110 §13.2.2 gives (evaluate the 304 conditions first: this is step 5):
 *
 * - §14.2: GET only ("GET is the only method for which range handling is defined"); a HEAD or
 *   any other method ignores Range;
 * - only a stored 200 is a representation to take ranges of (§14.2: 206 answers what "would
 *   have been" a 200); other statuses are answered whole;
 * - §13.1.5: with If-Range, ranges only when it matches (see ifRangeMatches); else in full;
 * - several ranges of a content-coded representation are answered in full, since a multipart
 *   body under the representation's Content-Encoding would misdescribe itself (§14.2: a server
 *   "MAY ignore the Range header field"); a single range is fine (a range of the coded bytes).
 *
 * @example
 * ```ts
 * rangeRequest({ method: 'GET', headers: { range: 'bytes=0-0' }, status: 200, responseHeaders: [], length: 10, now })
 * // { kind: 'partial', ranges: [{ start: 0, end: 0 }] }
 * ```
 */
export function rangeRequest(input: RangeRequestInput, limits?: RangeLimits): RangeDecision {
  const range = requestHeader(input.headers, 'range')
  if (range === undefined) return { kind: 'full', reason: 'absent' }
  if (input.method !== 'GET') return { kind: 'full', reason: 'method' }
  if (input.status !== 200) return { kind: 'full', reason: 'status' }
  const ifRange = requestHeader(input.headers, 'if-range')
  if (ifRange !== undefined) {
    const validators = {
      etag: headerValue(input.responseHeaders, 'etag'),
      lastModified: headerValue(input.responseHeaders, 'last-modified'),
      date: headerValue(input.responseHeaders, 'date'),
    }
    if (!ifRangeMatches(ifRange, validators, input.now)) return { kind: 'full', reason: 'if-range' }
  }
  const decision = evaluateRange(range, input.length, limits)
  const encoded = headerValue(input.responseHeaders, 'content-encoding') !== undefined
  if (decision.kind === 'partial' && decision.ranges.length > 1 && encoded)
    return { kind: 'full', reason: 'encoded-multipart' }
  return decision
}

/**
 * Merges ranges that overlap or lie within `gap` bytes of each other. If anything merged, the
 * result is in ascending order; if not, the request's order is kept.
 */
function coalesce(ranges: ByteRange[], gap: number): ByteRange[] {
  if (ranges.length < 2) return ranges
  const sorted = [...ranges].sort((a, b) => a.start - b.start)
  const merged: ByteRange[] = [{ ...(sorted[0] as ByteRange) }]
  for (const range of sorted.slice(1)) {
    const last = merged[merged.length - 1] as ByteRange
    if (range.start <= last.end + 1 + gap) last.end = Math.max(last.end, range.end)
    else merged.push({ ...range })
  }
  return merged.length === ranges.length ? ranges : merged
}

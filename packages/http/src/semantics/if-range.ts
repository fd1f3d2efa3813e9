import { parseHttpDate } from './http-date.js'

/** The stored response's validators and Date, as its header values. */
export interface RangeValidators {
  etag?: string | undefined
  lastModified?: string | undefined
  date?: string | undefined
}

/** RFC 9110 §8.8.3 entity-tag, whole value. */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/

/**
 * Whether an `If-Range` condition holds, so the Range is honoured (RFC 9110 §13.1.5):
 *
 * - an entity-tag matches only by strong comparison (§8.8.3.2): neither tag weak, opaque tags
 *   equal. A weak tag in If-Range never matches ("A client MUST NOT generate an If-Range header
 *   field containing an entity tag that is marked as weak");
 * - an HTTP-date matches only when it equals the stored Last-Modified and that Last-Modified is a
 *   strong validator, which for an intermediate cache means (§8.8.2.2) the stored response "includes
 *   a Date value which is at least one second after the Last-Modified value";
 * - anything else (an invalid value, no stored validator) is false: the whole representation is
 *   sent, which is always a correct answer.
 *
 * @example
 * ```ts
 * ifRangeMatches('"v1"', { etag: '"v1"' }, Date.now())   // true
 * ifRangeMatches('W/"v1"', { etag: 'W/"v1"' }, Date.now()) // false
 * ```
 */
export function ifRangeMatches(value: string, validators: RangeValidators, now: number): boolean {
  const text = value.trim()
  if (text.startsWith('"') || text.startsWith('W/')) {
    const requested = ENTITY_TAG.exec(text)
    const stored = validators.etag === undefined ? null : ENTITY_TAG.exec(validators.etag.trim())
    if (requested === null || stored === null) return false
    return requested[1] === undefined && stored[1] === undefined && requested[2] === stored[2]
  }
  const date = parseHttpDate(text, now)
  if (date === undefined || validators.lastModified === undefined || validators.date === undefined)
    return false
  const lastModified = parseHttpDate(validators.lastModified, now)
  const responseDate = parseHttpDate(validators.date, now)
  if (lastModified === undefined || responseDate === undefined) return false
  return date === lastModified && responseDate - lastModified >= 1000
}

import type { RequestHeaders } from '../types.js'
import { requestHeader } from './headers.js'
import { parseHttpDate } from './http-date.js'

/** What a conditional GET/HEAD is evaluated against: the selected response's status and validators. */
export interface Validators {
  status: number
  etag?: string | undefined
  lastModified?: string | undefined
}

/** RFC 9110 §8.8.3 entity-tag: optional weak indicator plus an opaque quoted string. */
const ENTITY_TAG = /(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/g

/**
 * Whether a GET/HEAD with these headers should be answered 304 from the selected response
 * (RFC 9110 §13.2.2 steps 3 and 4, as a cache does it per RFC 9111 §4.3.2):
 * - conditions apply only when the response would be a 2xx other than 206 (§13.2.1);
 * - If-None-Match with `*` matches any current representation, and a list matches by weak
 *   comparison (§13.1.2);
 * - If-Modified-Since only when there is no If-None-Match (§13.1.3): true when the stored
 *   Last-Modified is at or before it. §13.1.3: "A recipient MUST ignore the If-Modified-Since
 *   header field if the received field value is not a valid HTTP-date, [or] the field value has
 *   more than one member", so an ISO date or a list is ignored (a full response);
 *   dates are read as RFC 9111 §4.2 asks of caches (case-insensitively, GMT only).
 *
 * `now` places an obsolete rfc850-date's two-digit year in its century (RFC 9110 §5.6.7).
 * Without it, such a date counts as invalid, and the full response is sent, which is always correct.
 *
 * @example
 * ```ts
 * isNotModified({ 'if-none-match': ' "a", W/"b"' }, { status: 200, etag: '"b"' }) // true
 * ```
 */
export function isNotModified(
  headers: RequestHeaders,
  validators: Validators,
  now?: number
): boolean {
  const { status } = validators
  if (status < 200 || status > 299 || status === 206) return false
  const noneMatch = requestHeader(headers, 'if-none-match')
  if (noneMatch !== undefined) {
    if (noneMatch.trim() === '*') return true
    return validators.etag !== undefined && etagListMatches(noneMatch, validators.etag)
  }
  const modifiedSince = requestHeader(headers, 'if-modified-since')
  if (modifiedSince === undefined || validators.lastModified === undefined) return false
  const since = readDate(modifiedSince, now)
  const lastModified = readDate(validators.lastModified, now)
  if (since === undefined || lastModified === undefined) return false
  return lastModified <= since
}

/** Two references a century apart: a date they read differently has a two-digit year. */
const FIRST_REFERENCE = Date.UTC(2000, 0, 1)
const SECOND_REFERENCE = Date.UTC(2100, 0, 1)

function readDate(value: string, now: number | undefined): number | undefined {
  if (now !== undefined) return parseHttpDate(value, now)
  const first = parseHttpDate(value, FIRST_REFERENCE)
  return first === parseHttpDate(value, SECOND_REFERENCE) ? first : undefined
}

/**
 * Whether an If-None-Match list contains `etag` under weak comparison (RFC 9110 §8.8.3.2): the
 * opaque tags are equal, whether or not either is marked weak.
 *
 * @example
 * ```ts
 * etagListMatches('W/"x", "y"', '"x"') // true
 * ```
 */
export function etagListMatches(list: string, etag: string): boolean {
  const target = opaqueTag(etag)
  if (target === undefined) return false
  for (const match of list.matchAll(ENTITY_TAG)) if (match[2] === target) return true
  return false
}

/** The opaque part of an entity-tag, or undefined when it is not a valid one. */
function opaqueTag(etag: string): string | undefined {
  const match = /^\s*(?:W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*$/.exec(etag)
  return match?.[1]
}

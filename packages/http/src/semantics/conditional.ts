import fresh from 'fresh'
import type { RequestHeaders } from '../types.js'
import { requestHeader } from './headers.js'

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
 * - If-Modified-Since, evaluated by `fresh`, only when there is no If-None-Match (§13.1.3).
 *
 * @example
 * ```ts
 * isNotModified({ 'if-none-match': ' "a", W/"b"' }, { status: 200, etag: '"b"' }) // true
 * ```
 */
export function isNotModified(headers: RequestHeaders, validators: Validators): boolean {
  const { status } = validators
  if (status < 200 || status > 299 || status === 206) return false
  const noneMatch = requestHeader(headers, 'if-none-match')
  if (noneMatch !== undefined) {
    if (noneMatch.trim() === '*') return true
    return validators.etag !== undefined && etagListMatches(noneMatch, validators.etag)
  }
  const modifiedSince = requestHeader(headers, 'if-modified-since')
  if (modifiedSince === undefined || validators.lastModified === undefined) return false
  // Only the date fields go to `fresh`: the request's Cache-Control is the engine's business.
  return fresh({ 'if-modified-since': modifiedSince }, { 'last-modified': validators.lastModified })
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

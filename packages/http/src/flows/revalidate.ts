import { mergeNotModified, notModifiedApplies } from '../entry/merge-not-modified.js'
import { stripValidators, withValidators } from '../request/strip-validators.js'
import type {
  HeaderPair,
  HeaderPairs,
  OriginRequest,
  RequestHeaders,
  StoredResponse,
} from '../types.js'
import { isOriginError } from './stale.js'

/**
 * The request sent to the origin to revalidate a stored response (RFC 9111 §4.3.1): the
 * client's request without its own conditionals and Range, plus the validators the origin gave
 * (never an ETag the cache generated: the origin could not match it). With none it is a plain
 * unconditional GET. `url` is the target the handler sees (without ignored query parameters).
 *
 * @example
 * ```ts
 * revalidationRequest(request, entry) // headers carry If-None-Match: entry.etag
 * ```
 */
export function revalidationRequest(
  request: OriginRequest,
  entry: StoredResponse,
  url = request.url
): OriginRequest {
  const headers: RequestHeaders = hasValidator(entry)
    ? withValidators(request.headers, originValidators(entry))
    : stripValidators(request.headers)
  return { method: 'GET', url, headers, host: request.host, protocol: request.protocol }
}

/**
 * Whether a stored response can be revalidated with a conditional request (RFC 9111 §4.3.1):
 * it has an ETag the origin gave, or a Last-Modified. A generated ETag does not count.
 *
 * @example
 * ```ts
 * hasValidator(entry) // true when the origin sent an ETag or Last-Modified
 * ```
 */
export function hasValidator(entry: StoredResponse): boolean {
  return (entry.etag !== undefined && !entry.etagGenerated) || entry.lastModified !== undefined
}

/**
 * The validators the origin gave: the stored ETag unless the cache generated it, and Last-Modified.
 *
 * @example
 * ```ts
 * originValidators(entry) // { etag: undefined, lastModified: 'Tue, 01 Jan 2030 00:00:00 GMT' }
 * ```
 */
export function originValidators(entry: StoredResponse): {
  etag: string | undefined
  lastModified: string | undefined
} {
  return { etag: entry.etagGenerated ? undefined : entry.etag, lastModified: entry.lastModified }
}

/** What the origin's answer to a revalidation means for the stored response. */
export type RevalidationAnswer =
  /** RFC 9111 §4.3.3/§4.3.4: still valid; `headers` are the stored ones updated from the 304 (§3.2). */
  | { type: 'not-modified'; headers: HeaderPair[] }
  /** A 304 naming another validator: it does not apply to this entry (§4.3.4). */
  | { type: 'mismatch' }
  /** 5xx: stale-if-error may stand in (RFC 5861 §4). */
  | { type: 'error' }
  /** A full response that replaces the entry (§4.3.3). */
  | { type: 'replaced' }

/**
 * Classifies the origin's answer to a revalidation request built by {@link revalidationRequest}.
 * A 304 only counts as "not modified" when we actually sent a validator.
 *
 * @example
 * ```ts
 * classifyRevalidation(entry, 304, [['cache-control', 'max-age=60']]) // { type: 'not-modified', headers: [...] }
 * ```
 */
export function classifyRevalidation(
  entry: StoredResponse,
  status: number,
  pairs: HeaderPairs
): RevalidationAnswer {
  if (status === 304 && hasValidator(entry)) {
    if (!notModifiedApplies(entry, pairs)) return { type: 'mismatch' }
    return { type: 'not-modified', headers: mergeNotModified(entry, pairs) }
  }
  if (isOriginError(status)) return { type: 'error' }
  return { type: 'replaced' }
}

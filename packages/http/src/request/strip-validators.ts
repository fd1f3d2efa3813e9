import type { RequestHeaders } from '../types.js'

/**
 * Request fields removed before the handler runs on a miss. With them the handler (or Express's
 * own `fresh` check) could answer 304 or 206, and that would be stored as the entry; without them
 * the full 200 is stored and the engine answers the conditional itself (RFC 9111 §4.3.2).
 * Changes only if a new conditional or range field is standardised.
 */
export const VALIDATOR_HEADERS: ReadonlySet<string> = new Set([
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
])

/**
 * A copy of the request headers without conditional and Range fields. Returns the same object
 * when there is nothing to remove, so the common case allocates nothing.
 *
 * @example
 * ```ts
 * stripValidators({ accept: '*\/*', 'if-none-match': '"a"' }) // { accept: '*\/*' }
 * ```
 */
export function stripValidators(headers: RequestHeaders): RequestHeaders {
  let found = false
  for (const name of VALIDATOR_HEADERS) if (headers[name] !== undefined) found = true
  if (!found) return headers
  const copy: Record<string, string | string[] | undefined> = {}
  for (const [name, value] of Object.entries(headers)) {
    // `__proto__` as a plain assignment would replace the copy's prototype.
    if (!VALIDATOR_HEADERS.has(name) && value !== undefined && name !== '__proto__')
      copy[name] = value
  }
  return copy
}

/**
 * The stripped headers plus the stored response's validators: the conditional request a cache
 * sends to revalidate a stale entry (RFC 9111 §4.3.1: it "MUST send the relevant entity tags
 * (using If-None-Match)" and "SHOULD send the Last-Modified value (using If-Modified-Since)" when
 * one response is validated and the request is not for a subrange, both of which hold here).
 *
 * @example
 * ```ts
 * withValidators({ accept: '*\/*' }, { etag: '"a"', lastModified: undefined })
 * // { accept: '*\/*', 'if-none-match': '"a"' }
 * ```
 */
export function withValidators(
  headers: RequestHeaders,
  validators: { etag: string | undefined; lastModified: string | undefined }
): RequestHeaders {
  const copy: Record<string, string | string[] | undefined> = { ...stripValidators(headers) }
  if (validators.etag !== undefined) copy['if-none-match'] = validators.etag
  if (validators.lastModified !== undefined) copy['if-modified-since'] = validators.lastModified
  return copy
}

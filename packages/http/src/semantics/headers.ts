import type { HeaderPair, HeaderPairs, RequestHeaders, ResponseHeaders } from '../types.js'

/**
 * RFC 9110 §7.6.1 and RFC 9111 §3.1: fields that describe one connection, not the representation.
 * A cache must not store them. Proxy-Connection is not standard but still seen in the wild.
 * Changes only if a future RFC adds a connection-specific field.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authentication-info',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/**
 * RFC 9110 §15.4.5: the fields a 304 carries. Last-Modified is added only when there is no ETag,
 * and Age and Cache-Status are ours (RFC 9111 §5.1, RFC 9211).
 */
export const NOT_MODIFIED_HEADERS: ReadonlySet<string> = new Set([
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'vary',
])

/**
 * Turns a header record (as `res.getHeaders()` gives it) or a list of pairs into wire-order pairs
 * with lower-case names. Array values become one pair each, in order.
 *
 * @example
 * ```ts
 * toHeaderPairs({ 'Content-Type': 'text/plain', link: ['<a>', '<b>'] })
 * // [['content-type', 'text/plain'], ['link', '<a>'], ['link', '<b>']]
 * ```
 */
export function toHeaderPairs(headers: ResponseHeaders): HeaderPair[] {
  const pairs: HeaderPair[] = []
  if (Array.isArray(headers)) {
    for (const [name, value] of headers as HeaderPairs)
      pairs.push([name.toLowerCase(), String(value)])
    return pairs
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    if (Array.isArray(value)) for (const item of value) pairs.push([lower, String(item)])
    else pairs.push([lower, String(value)])
  }
  return pairs
}

/**
 * All values of one field, joined as one list value (RFC 9110 §5.3), or `undefined` when absent.
 *
 * @example
 * ```ts
 * headerValue([['vary', 'accept'], ['vary', 'accept-language']], 'vary') // 'accept, accept-language'
 * ```
 */
export function headerValue(pairs: HeaderPairs, name: string): string | undefined {
  let found: string | undefined
  for (const [key, value] of pairs) {
    if (key !== name) continue
    found = found === undefined ? value : `${found}, ${value}`
  }
  return found
}

/**
 * A request field as one string: Node gives most fields as strings and a few as arrays.
 *
 * @example
 * ```ts
 * requestHeader({ 'cache-control': ['no-cache', 'max-age=0'] }, 'cache-control') // 'no-cache, max-age=0'
 * ```
 */
export function requestHeader(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name]
  if (value === undefined) return undefined
  return typeof value === 'string' ? value : value.join(', ')
}

/**
 * RFC 9110 §7.6.1 / RFC 9111 §3.1: removes hop-by-hop fields and every field the Connection field
 * names, plus any `extra` names the caller never stores (Set-Cookie, the surrogate-key field…).
 *
 * @example
 * ```ts
 * withoutHopByHop([['connection', 'x-trace'], ['x-trace', '1'], ['etag', '"a"']])
 * // [['etag', '"a"']]
 * ```
 */
export function withoutHopByHop(pairs: HeaderPairs, extra?: ReadonlySet<string>): HeaderPair[] {
  const listed = connectionTokens(pairs)
  return pairs.filter(
    ([name]) => !HOP_BY_HOP_HEADERS.has(name) && !listed.has(name) && !(extra?.has(name) ?? false)
  )
}

/**
 * RFC 9110 §15.4.5: the fields of a stored 200 that a 304 for it carries. Last-Modified only when
 * the response has no ETag, because then it is the validator the client will use next time.
 *
 * @example
 * ```ts
 * notModifiedHeaders([['content-type', 'text/html'], ['etag', '"a"'], ['last-modified', 'x']])
 * // [['etag', '"a"']]
 * ```
 */
export function notModifiedHeaders(pairs: HeaderPairs): HeaderPair[] {
  const hasEtag = pairs.some(([name]) => name === 'etag')
  return pairs.filter(
    ([name]) => NOT_MODIFIED_HEADERS.has(name) || (!hasEtag && name === 'last-modified')
  )
}

/** Lower-case names listed in every Connection field (RFC 9110 §7.6.1 connection options). */
function connectionTokens(pairs: HeaderPairs): Set<string> {
  const tokens = new Set<string>()
  for (const [name, value] of pairs) {
    if (name !== 'connection') continue
    for (const token of value.split(',')) {
      const trimmed = token.trim().toLowerCase()
      if (trimmed !== '') tokens.add(trimmed)
    }
  }
  return tokens
}

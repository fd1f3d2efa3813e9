/**
 * RFC 9211 §2.2 `fwd` values: why the request went forward to the origin.
 * `method` is used for unsafe methods; `partial` is not produced (no range support).
 */
export const Forward = {
  Bypass: 'bypass',
  Method: 'method',
  UriMiss: 'uri-miss',
  VaryMiss: 'vary-miss',
  Miss: 'miss',
  Request: 'request',
  Stale: 'stale',
} as const
export type Forward = (typeof Forward)[keyof typeof Forward]

/** One cache's member of the Cache-Status list (RFC 9211 §2). */
export interface CacheStatusParams {
  /** §2.1: answered from the cache without going forward. */
  hit?: boolean
  /** §2.2: why the request went forward. */
  fwd?: Forward
  /** §2.3: the status the origin answered the forwarded request with. */
  fwdStatus?: number
  /** §2.5: whether the forwarded response was stored. */
  stored?: boolean
  /** §2.6: whether the request was collapsed into another one's forward. */
  collapsed?: boolean
  /** §2.4: remaining freshness in seconds; negative when stale. */
  ttl?: number
  /** §2.8: implementation-specific detail, a token; only emitted in debug mode. */
  detail?: string
}

/** RFC 8941 §3.3.4 sf-token. */
const SF_TOKEN = /^[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]*$/

/**
 * Whether `name` can be used as the cache's identifier in Cache-Status (an sf-token, RFC 9211 §2).
 *
 * @example
 * ```ts
 * isCacheStatusName('cachewire') // true
 * isCacheStatusName('my cache')  // false
 * ```
 */
export function isCacheStatusName(name: string): boolean {
  return SF_TOKEN.test(name)
}

/**
 * Formats this cache's Cache-Status member (RFC 9211 §2), parameters in the RFC's order.
 * It never carries the cache key: a key can hold request text an attacker chose.
 *
 * @example
 * ```ts
 * formatCacheStatus('cachewire', { fwd: 'uri-miss', fwdStatus: 200, stored: true, ttl: 60 })
 * // 'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60'
 * ```
 */
export function formatCacheStatus(name: string, params: CacheStatusParams): string {
  let value = name
  if (params.hit === true) value += '; hit'
  if (params.fwd !== undefined) value += `; fwd=${params.fwd}`
  if (params.fwdStatus !== undefined) value += `; fwd-status=${params.fwdStatus}`
  if (params.stored === true) value += '; stored'
  if (params.collapsed === true) value += '; collapsed'
  if (params.ttl !== undefined) value += `; ttl=${Math.trunc(params.ttl)}`
  if (params.detail !== undefined && SF_TOKEN.test(params.detail))
    value += `; detail=${params.detail}`
  return value
}

/**
 * Appends our member after the members caches nearer the origin added (RFC 9211 §2: the list is in
 * the order the caches handled the response).
 *
 * @example
 * ```ts
 * appendCacheStatus('OriginCache; hit', 'cachewire; hit') // 'OriginCache; hit, cachewire; hit'
 * ```
 */
export function appendCacheStatus(upstream: string | undefined, member: string): string {
  return upstream === undefined || upstream === '' ? member : `${upstream}, ${member}`
}

/**
 * Remaining freshness in whole seconds for the `ttl` parameter (negative when stale). Floors,
 * so a response is never reported fresher than it is.
 *
 * @example
 * ```ts
 * remainingTtl(61_500, 1_000) // 60
 * ```
 */
export function remainingTtl(staleAt: number, now: number): number {
  return Math.floor((staleAt - now) / 1000)
}

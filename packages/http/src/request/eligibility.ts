import { parseCacheControl, type CacheControlDirectives } from '../semantics/cache-control.js'
import { Reason } from '../semantics/reasons.js'
import type { RequestHeaders } from '../types.js'
import { hasRequestBody } from './unkeyed-headers.js'

/** RFC 9110 §9.2.1: safe methods. Any other method, known or not, invalidates (RFC 9111 §4.4). */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

export interface EligibilityPolicy {
  /** Methods answered from the cache (GET and/or HEAD). */
  methods: ReadonlySet<string>
  /** Whether requests with a Cookie may use the cache. */
  allowCookies: boolean
}

/**
 * The directives of a request without Cache-Control, most requests: one frozen object for all of
 * them rather than a parse's empty object, map and result per request (about 400 bytes).
 */
const NO_DIRECTIVES: CacheControlDirectives = Object.freeze(
  Object.create(null) as CacheControlDirectives
)

/** A request that may use the cache, with what the later steps need to know about it. */
export interface Eligible {
  eligible: true
  /** The request's Cache-Control directives (RFC 9111 §5.2.1); frozen and shared when it sent none. */
  directives: CacheControlDirectives
  /** Whether it carries Authorization (RFC 9111 §3.5: only explicitly shareable entries answer it). */
  authorization: boolean
  /** RFC 9111 §5.2.1.5: it may be answered from the cache, but its response is not stored. */
  noStore: boolean
}

/** A request that goes around the cache. */
export interface Ineligible {
  eligible: false
  reason: Reason
  /** An unsafe method: a successful response invalidates the URL (RFC 9111 §4.4). */
  invalidates: boolean
}

/**
 * May this request use the cache? Decided from method and headers only, before any key work:
 * - only the configured safe methods (GET, HEAD) are answered from the cache; unsafe ones
 *   bypass and invalidate on success (RFC 9111 §4.4);
 * - a GET or HEAD with a body bypasses: the body is not keyed, and a handler reading it could
 *   poison the entry ("fat GET");
 * - a Cookie bypasses unless the route opts in (its response could be personalised);
 * - If-Match / If-Unmodified-Since are preconditions for the origin to evaluate (RFC 9110 §13.2.1);
 * - Authorization and request no-store are allowed through with flags, since they only
 *   restrict which entries answer and whether the response is stored.
 * Range needs no rule here: the engine answers from the full entry (RFC 9110 §14.2 lets a
 * server ignore Range) and strips it before the handler runs on a miss.
 *
 * @example
 * ```ts
 * checkEligibility('GET', { cookie: 'sid=1' }, { methods: new Set(['GET', 'HEAD']), allowCookies: false })
 * // { eligible: false, reason: 'cookie', invalidates: false }
 * ```
 */
export function checkEligibility(
  method: string,
  headers: RequestHeaders,
  policy: EligibilityPolicy
): Eligible | Ineligible {
  if (!policy.methods.has(method)) {
    return { eligible: false, reason: Reason.Method, invalidates: !SAFE_METHODS.has(method) }
  }
  if (hasRequestBody(headers))
    return { eligible: false, reason: Reason.RequestBody, invalidates: false }
  if (headers.cookie !== undefined && !policy.allowCookies) {
    return { eligible: false, reason: Reason.Cookie, invalidates: false }
  }
  if (headers['if-match'] !== undefined || headers['if-unmodified-since'] !== undefined) {
    return { eligible: false, reason: Reason.Precondition, invalidates: false }
  }
  const cacheControl = headers['cache-control']
  let directives = cacheControl === undefined ? NO_DIRECTIVES : parseCacheControl(cacheControl)
  // RFC 7234 §5.4 (kept by HTTP/1.0-era clients; RFC 9111 §5.4 deprecates Pragma): without
  // Cache-Control, `Pragma: no-cache` asks what `Cache-Control: no-cache` asks.
  if (
    cacheControl === undefined &&
    headers.pragma !== undefined &&
    /(?:^|,)\s*no-cache\s*(?:,|$)/i.test(String(headers.pragma))
  ) {
    directives = { ...directives, 'no-cache': true }
  }
  return {
    eligible: true,
    directives,
    authorization: headers.authorization !== undefined,
    noStore: directives['no-store'] === true,
  }
}

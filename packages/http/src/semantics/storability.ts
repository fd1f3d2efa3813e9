import type { HeaderPairs } from '../types.js'
import type { CacheControlDirectives } from './cache-control.js'
import { Reason } from './reasons.js'
import { NEVER_STORED_STATUSES, UNDERSTOOD_STATUSES } from './status-codes.js'

export {
  DEFAULT_CACHEABLE_STATUSES,
  NEVER_STORED_STATUSES,
  UNDERSTOOD_STATUSES,
} from './status-codes.js'

export interface StorabilityInput {
  /** Request method; only GET responses are stored. */
  method: string
  status: number
  /** Response headers, lower-case names. */
  headers: HeaderPairs
  /** Effective response directives (the targeted field's when it applies). */
  directives: CacheControlDirectives
  /** Whether the request carried Authorization. */
  authorization: boolean
  /**
   * Whether the route opted in to sharing responses to requests with Authorization. Without it
   * they are never stored, whatever the response says; with it, RFC 9111 §3.5 decides (public,
   * s-maxage or must-revalidate).
   */
  shareAuthenticated: boolean
  /** Whether the request carried a Cookie the route did not opt in to. */
  cookie: boolean
  /** Whether the request said no-store. */
  requestNoStore: boolean
  /** Whether the whole body arrived. */
  complete: boolean
  /** Body size in bytes; undefined while only the header section is known. */
  bodyBytes: number | undefined
  /**
   * Statuses stored when the response carries no explicit freshness (the lifetime comes from the
   * app's `ttl`, a heuristic, or it is kept for a validator alone). With explicit freshness, any
   * status in UNDERSTOOD_STATUSES may be stored too (RFC 9111 §3).
   */
  statuses: ReadonlySet<number>
  /**
   * Whether the response has explicit freshness or is marked public (RFC 9111 §3). Omitted: read
   * from `directives` and an Expires line in `headers`. A caller that follows a targeted field
   * (RFC 9213 §2.2: Expires is then ignored) passes its own answer.
   */
  explicitFreshness?: boolean | undefined
  maxEntrySize: number
  /** Whether the response could ever be reused: some freshness, a validator or a stale window. */
  reusable: boolean
}

/**
 * Whether a shared cache may store this response (RFC 9111 §3, §3.5). Returns `true`, or the
 * reason it may not, as a word also used in Cache-Status `detail`.
 *
 * @example
 * ```ts
 * canStore({ ...input, headers: [['set-cookie', 'sid=1']] }) // 'set-cookie'
 * ```
 */
export function canStore(input: StorabilityInput): true | Reason {
  const { directives } = input
  // RFC 9111 §3: the method must be understood and cacheable; HEAD responses carry no body to reuse.
  if (input.method !== 'GET') return input.method === 'HEAD' ? Reason.Head : Reason.Method
  // RFC 9111 §5.2.1.5: no-store in the request forbids storing the response too.
  if (input.requestNoStore) return Reason.RequestNoStore
  if (!storableStatus(input)) return Reason.Status
  const understood = UNDERSTOOD_STATUSES.has(input.status)
  if (directives['must-understand'] === true) {
    // RFC 9111 §3: with must-understand, only "a cache that understands the response status code"
    // may store it; §5.2.2.3: such a cache "SHOULD ignore the no-store directive".
    if (!understood) return directives['no-store'] === true ? Reason.NoStore : Reason.Status
  } else if (directives['no-store'] === true) {
    return Reason.NoStore
  }
  // RFC 9111 §5.2.2.7: a shared cache must not store private responses (qualified or not).
  if (directives.private === true) return Reason.Private
  let contentLength: string | undefined
  for (const [name, value] of input.headers) {
    // RFC 9111 §7.3 / DESIGN rule 2: a cookie set for one user must never reach another.
    if (name === 'set-cookie') return Reason.SetCookie
    // RFC 9111 §4.1: Vary: * never matches, so storing it is pointless.
    if (name === 'vary' && value.split(',').some((token) => token.trim() === '*'))
      return Reason.VaryStar
    if (name === 'content-length') contentLength = value
  }
  // RFC 9111 §3.5: responses to authenticated requests only when the origin explicitly allows it;
  // and, an app cache never doing it silently (DESIGN rule 2), only on a route that opted in.
  if (input.authorization && !(input.shareAuthenticated && allowsAuthenticated(directives)))
    return Reason.Authorization
  if (input.cookie) return Reason.Cookie
  // RFC 9111 §3.3: an incomplete response is not stored as if it were complete.
  if (!input.complete) return Reason.Incomplete
  const declared = contentLength === undefined ? undefined : Number(contentLength.trim())
  if (declared !== undefined && Number.isSafeInteger(declared)) {
    if (declared > input.maxEntrySize) return Reason.TooLarge
    if (input.bodyBytes !== undefined && declared !== input.bodyBytes) return Reason.Incomplete
  }
  if (input.bodyBytes !== undefined && input.bodyBytes > input.maxEntrySize) return Reason.TooLarge
  if (!input.reusable) return Reason.NoFreshness
  return true
}

/**
 * Whether a response has explicit freshness or is marked public, the cases in which RFC 9111 §3
 * lets a cache store any status it understands (not only the heuristically cacheable ones):
 * `max-age`, `s-maxage`, an Expires field (even an invalid one, which means already expired,
 * §5.3), or `public`.
 *
 * @example
 * ```ts
 * hasExplicitFreshness({ 'max-age': 60 }, [])               // true
 * hasExplicitFreshness({}, [['expires', '0']])              // true
 * hasExplicitFreshness({ 'must-revalidate': true }, [])     // false
 * ```
 */
export function hasExplicitFreshness(
  directives: CacheControlDirectives,
  headers: HeaderPairs
): boolean {
  if (
    directives['max-age'] !== undefined ||
    directives['s-maxage'] !== undefined ||
    directives.public === true
  ) {
    return true
  }
  return headers.some(([name]) => name === 'expires')
}

/**
 * RFC 9111 §3: 206 and 304 never; a status in the `statuses` list always (it is the app's list
 * for lifetimes that do not come from the response); any other status only when the cache
 * understands it and the response has explicit freshness or `public`.
 */
function storableStatus(input: StorabilityInput): boolean {
  const { status } = input
  if (NEVER_STORED_STATUSES.has(status)) return false
  if (input.statuses.has(status)) return true
  if (!UNDERSTOOD_STATUSES.has(status)) return false
  return input.explicitFreshness ?? hasExplicitFreshness(input.directives, input.headers)
}

/**
 * RFC 9111 §3.5: public, s-maxage or must-revalidate let a shared cache store (and reuse) a
 * response to a request that carried Authorization.
 *
 * @example
 * ```ts
 * allowsAuthenticated({ 's-maxage': 60 }) // true
 * ```
 */
export function allowsAuthenticated(directives: CacheControlDirectives): boolean {
  return (
    directives.public === true ||
    directives['s-maxage'] !== undefined ||
    directives['must-revalidate'] === true
  )
}

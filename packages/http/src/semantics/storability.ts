import type { HeaderPairs } from '../types.js'
import type { CacheControlDirectives } from './cache-control.js'
import { Reason } from './reasons.js'

/** RFC 9111 §3: we do not implement ranges, and a 304 is not a stored representation. Never changes. */
export const NEVER_STORED_STATUSES: ReadonlySet<number> = new Set([206, 304])

/**
 * RFC 9110 §15.1: statuses cacheable by default ("heuristically cacheable"), the default allow-list.
 * 206 is listed by the RFC but never stored (see NEVER_STORED_STATUSES). Changes only with the RFC.
 */
export const DEFAULT_CACHEABLE_STATUSES: readonly number[] = [
  200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501,
]

/** Statuses whose caching rules we implement, for must-understand (RFC 9111 §5.2.2.3). */
const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([
  200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501,
])

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
  /** Whether the request carried a Cookie the route did not opt in to. */
  cookie: boolean
  /** Whether the request said no-store. */
  requestNoStore: boolean
  /** Whether the whole body arrived. */
  complete: boolean
  /** Body size in bytes; undefined while only the header section is known. */
  bodyBytes: number | undefined
  statuses: ReadonlySet<number>
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
  if (NEVER_STORED_STATUSES.has(input.status) || !input.statuses.has(input.status)) return Reason.Status
  // RFC 9111 §5.2.2.3: must-understand lets a cache that implements the status ignore no-store.
  const understood = directives['must-understand'] === true && UNDERSTOOD_STATUSES.has(input.status)
  if (directives['no-store'] === true && !understood) return Reason.NoStore
  // RFC 9111 §5.2.2.7: a shared cache must not store private responses (qualified or not).
  if (directives.private === true) return Reason.Private
  let contentLength: string | undefined
  for (const [name, value] of input.headers) {
    // RFC 9111 §7.3 / DESIGN rule 2: a cookie set for one user must never reach another.
    if (name === 'set-cookie') return Reason.SetCookie
    // RFC 9111 §4.1: Vary: * never matches, so storing it is pointless.
    if (name === 'vary' && value.split(',').some((token) => token.trim() === '*')) return Reason.VaryStar
    if (name === 'content-length') contentLength = value
  }
  // RFC 9111 §3.5: responses to authenticated requests only when the origin explicitly allows it.
  if (input.authorization && !allowsAuthenticated(directives)) return Reason.Authorization
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

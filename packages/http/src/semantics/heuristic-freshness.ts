import type { CacheControlDirectives } from './cache-control.js'
import { parseHttpDate } from './http-date.js'
import {
  HEURISTICALLY_CACHEABLE_STATUSES,
  NEVER_STORED_STATUSES,
  UNDERSTOOD_STATUSES,
} from './status-codes.js'

/** How a heuristic lifetime is made from Last-Modified (RFC 9111 §4.2.2). */
export interface HeuristicPolicy {
  /** Share of the time since Last-Modified the response stays fresh, in (0, 1]. */
  fraction: number
  /** Longest heuristic lifetime, in ms. */
  maxMs: number
}

/**
 * RFC 9111 §4.2.2: "A typical setting of this fraction might be 10%"; capped at one day. These
 * are Apache httpd's defaults too (CacheLastModifiedFactor 0.1, CacheMaxExpire 86400 s).
 */
export const DEFAULT_HEURISTIC_POLICY: HeuristicPolicy = Object.freeze({
  fraction: 0.1,
  maxMs: 86_400_000,
})

export interface HeuristicInput {
  status: number
  /** Effective response directives (the targeted field's when one applies). */
  directives: CacheControlDirectives
  /** The Expires field value, all lines joined; `undefined` when absent (or ignored, RFC 9213 §2.2). */
  expires: string | undefined
  date: string | undefined
  lastModified: string | undefined
  /** When the response was received (ms), used when Date is absent or invalid. */
  responseTime: number
  policy: HeuristicPolicy
  /** Statuses that may get a heuristic lifetime without `public`. @default RFC 9110 §15.1's list */
  statuses?: ReadonlySet<number> | undefined
}

/**
 * A heuristic freshness lifetime in ms (RFC 9111 §4.2.2), or `undefined` when none may be given:
 * `policy.fraction` of the time between Last-Modified and Date (the response time without a valid
 * Date), at most `policy.maxMs`. A Last-Modified later than Date gives 0.
 *
 * No heuristic when:
 * - the response has explicit freshness — "A cache MUST NOT use heuristics to determine freshness
 *   when an explicit expiration time is present": max-age, s-maxage, or any Expires (an invalid
 *   one means already expired, RFC 9111 §5.3);
 * - the status is never stored (206, 304), or is not heuristically cacheable and the response is
 *   not marked `public` (with a status the cache understands) —
 *   "heuristics can only be used on responses without explicit freshness whose status codes are
 *   defined as 'heuristically cacheable' … and on responses … marked as explicitly cacheable
 *   (e.g., with a public response directive)";
 * - `no-cache` asks for revalidation on every use (§5.2.2.4), or `must-understand` names a
 *   status this cache does not understand (§5.2.2.3: then it is not stored at all);
 * - Last-Modified is absent or not a valid HTTP-date.
 *
 * @example
 * ```ts
 * heuristicLifetime({
 *   status: 200, directives: {}, expires: undefined,
 *   date: 'Thu, 11 Jan 2024 00:00:00 GMT', lastModified: 'Mon, 01 Jan 2024 00:00:00 GMT',
 *   responseTime: Date.now(), policy: DEFAULT_HEURISTIC_POLICY,
 * }) // 86_400_000: a tenth of 10 days
 * ```
 */
export function heuristicLifetime(input: HeuristicInput): number | undefined {
  const { directives } = input
  if (
    directives['max-age'] !== undefined ||
    directives['s-maxage'] !== undefined ||
    input.expires !== undefined
  ) {
    return undefined
  }
  if (directives['no-cache'] === true) return undefined
  if (directives['must-understand'] === true && !UNDERSTOOD_STATUSES.has(input.status))
    return undefined
  const { status } = input
  if (NEVER_STORED_STATUSES.has(status)) return undefined
  const statuses = input.statuses ?? HEURISTICALLY_CACHEABLE_STATUSES
  const marked = directives.public === true && UNDERSTOOD_STATUSES.has(status)
  if (!statuses.has(status) && !marked) return undefined
  if (input.lastModified === undefined) return undefined
  const lastModified = parseHttpDate(input.lastModified, input.responseTime)
  if (lastModified === undefined) return undefined
  const date = input.date === undefined ? undefined : parseHttpDate(input.date, input.responseTime)
  const interval = (date ?? input.responseTime) - lastModified
  if (interval <= 0) return 0
  return Math.min(Math.floor(interval * input.policy.fraction), input.policy.maxMs)
}

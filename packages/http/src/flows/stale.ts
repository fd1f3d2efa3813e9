import type { CacheControlDirectives } from '../semantics/cache-control.js'
import { requestUsability } from '../semantics/freshness.js'
import type { StoredResponse } from '../types.js'

/** What to do with a stored response that matched the request. */
export type StoredDecision =
  /** Serve it: fresh, or stale within the client's max-stale. */
  | { action: 'serve' }
  /** RFC 5861 §3: serve it now and refresh it in the background. */
  | { action: 'serve-stale-and-refresh' }
  /** Go to the origin (conditionally when it has a validator); `fwd` says why, for Cache-Status. */
  | { action: 'revalidate'; fwd: 'stale' | 'request' }

/**
 * Decides how a stored response may answer a request (RFC 9111 §4.2, §4.3, §5.2.1; RFC 5861):
 * fresh (or acceptably stale per max-stale) is served; a request forcing the origin
 * (no-cache, max-age, min-fresh) revalidates; a stale entry inside its stale-while-revalidate
 * window is served while refreshed, when a background refresh is possible; otherwise revalidate.
 *
 * @example
 * ```ts
 * decideStored(entry, {}, now, { respectRequest: true, canRefresh: true }) // { action: 'serve' }
 * ```
 */
export function decideStored(
  entry: StoredResponse,
  request: CacheControlDirectives,
  now: number,
  policy: { respectRequest: boolean; canRefresh: boolean }
): StoredDecision {
  const usability = requestUsability(entry, request, now, policy.respectRequest)
  if (usability === 'usable') return { action: 'serve' }
  if (usability === 'request') return { action: 'revalidate', fwd: 'request' }
  if (policy.canRefresh && withinStaleWhileRevalidate(entry, now))
    return { action: 'serve-stale-and-refresh' }
  return { action: 'revalidate', fwd: 'stale' }
}

/**
 * RFC 5861 §3: inside the stale-while-revalidate window.
 *
 * @example
 * ```ts
 * withinStaleWhileRevalidate(entry, Date.now())
 * ```
 */
export function withinStaleWhileRevalidate(entry: StoredResponse, now: number): boolean {
  return now >= entry.staleAt && now < entry.staleWhileRevalidateUntil
}

/**
 * RFC 5861 §4: inside the stale-if-error window. Only when a window was granted at all: without
 * one, a failed revalidation is the client's answer, even for a still-fresh entry (a client
 * that sent no-cache asked not to be served from the cache without validation).
 *
 * @example
 * ```ts
 * withinStaleIfError(entry, Date.now())
 * ```
 */
export function withinStaleIfError(entry: StoredResponse, now: number): boolean {
  return entry.staleIfErrorUntil > entry.staleAt && now < entry.staleIfErrorUntil
}

/**
 * RFC 5861 §4: the errors stale-if-error covers are 500, 502, 503 and 504; we take any 5xx,
 * since a handler answering 5xx is failing whatever the number.
 *
 * @example
 * ```ts
 * isOriginError(503) // true
 * ```
 */
export function isOriginError(status: number): boolean {
  return status >= 500 && status <= 599
}

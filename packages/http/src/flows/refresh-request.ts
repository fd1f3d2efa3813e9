import type { RequestContext } from '../request/prepare-request.js'
import type { RequestHeaders, StoredResponse } from '../types.js'

/**
 * Request fields that carry one client's identity. Grows if another such field becomes common;
 * removing one would let a background refresh store a user's response for everyone.
 */
export const CREDENTIAL_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
])

/**
 * The request a background refresh (RFC 5861 §3) runs with: the stale hit's request without the
 * credentials the entry's key does not hold. The refresh stores its answer for everyone the entry
 * serves, so it must not carry the identity of the client that happened to trigger it (issue 14):
 * Authorization, Proxy-Authorization and Cookie are dropped unless the key holds them — a
 * `scope: 'private'` entry (keyed by that very user), a field the entry Varies on, or a keyed
 * header. The result says `authorization: false` when Authorization went, so the answer is judged
 * as the anonymous response it is.
 *
 * @example
 * ```ts
 * const own = refreshContext(context, entry, ['x-tenant'])
 * own.request.headers.cookie // undefined for a shared entry
 * ```
 */
export function refreshContext(
  context: RequestContext,
  entry: StoredResponse,
  keyedHeaders: readonly string[]
): RequestContext {
  if (context.scope === 'private') return context
  const headers = context.request.headers
  const dropped = CREDENTIAL_HEADERS.filter(
    (name) =>
      headers[name] !== undefined && !entry.vary.includes(name) && !keyedHeaders.includes(name)
  )
  if (dropped.length === 0) return context
  const kept: Record<string, string | string[] | undefined> = {}
  for (const [name, value] of Object.entries(headers)) {
    // `__proto__` as a plain assignment would replace the copy's prototype.
    if (!dropped.includes(name) && value !== undefined && name !== '__proto__') kept[name] = value
  }
  const request = { ...context.request, headers: kept as RequestHeaders }
  return {
    ...context,
    request,
    authorization: context.authorization && !dropped.includes('authorization'),
  }
}

import type { HeaderPair, HeaderPairs, RequestHeaders } from '../types.js'

/** The line the armor adds. */
export const PRIVATE_LINE: HeaderPair = Object.freeze(['cache-control', 'private']) as HeaderPair

/** What decides whether a response goes out marked `Cache-Control: private`. */
export interface ArmorInput {
  /** `safety.privateIfCredentialed` of the route, else the app. */
  enabled: boolean
  /** The client's request headers. */
  headers: RequestHeaders
  scope: 'shared' | 'private'
  /** Whether the engine stores the response (for everyone under `shared`, for this user under `private`). */
  stored: boolean
  /** The response head as the handler left it. */
  pairs: HeaderPairs
}

/**
 * Deception armor (web cache deception, Gil 2017): whether a response must go out with
 * `Cache-Control: private`, so that a CDN or proxy in front cannot keep what this cache would not
 * share. Only when the handler set no Cache-Control itself (its own word always wins), and:
 * - the request carried Cookie or Authorization (its response may be personal) and the engine
 *   does not store it for everyone — a response it does share (`allowCookies`) goes out as its
 *   hits will, unmarked, since the app declared it the same for everyone;
 * - or the entry is per-user (`scope: 'private'`): stored or not, it belongs to one user, and the
 *   stored entry says `private` too, so every hit does.
 *
 * @example
 * ```ts
 * marksPrivate({ enabled: true, headers: { cookie: 'sid=1' }, scope: 'shared', stored: false, pairs: [] }) // true
 * ```
 */
export function marksPrivate(input: ArmorInput): boolean {
  if (!input.enabled || input.pairs.some(([name]) => name === 'cache-control')) return false
  if (input.scope === 'private') return true
  const credentialed =
    input.headers.cookie !== undefined || input.headers.authorization !== undefined
  return credentialed && !input.stored
}

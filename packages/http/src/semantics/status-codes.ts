/**
 * RFC 9111 §3: we do not store partial content (§3.3–3.4: ranges are answered from a stored full
 * 200), and a 304 is not a representation. Never changes.
 */
export const NEVER_STORED_STATUSES: ReadonlySet<number> = new Set([206, 304])

/**
 * RFC 9110 §15.1: statuses cacheable by default ("heuristically cacheable"), the default allow-list
 * for lifetimes that do not come from the response (the app's `ttl`, a heuristic, a validator alone).
 * 206 is listed by the RFC but never stored (see NEVER_STORED_STATUSES). Changes only with the RFC.
 */
export const DEFAULT_CACHEABLE_STATUSES: readonly number[] = [
  200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501,
]

/**
 * The final statuses this cache understands (RFC 9111 §3: a response is stored only if "the
 * response status code is final … and … understood by the cache"; RFC 9110 §15: "a recipient MUST
 * NOT cache a response with an unrecognized status code"). With explicit freshness or `public`,
 * any of these may be stored; the same set decides `must-understand` (RFC 9111 §5.2.2.3).
 *
 * Left out on purpose, though RFC 9110 defines them:
 * - 206 and 304: see NEVER_STORED_STATUSES.
 * - 305, 306: deprecated or unused (RFC 9110 §15.4.6, §15.4.7).
 * - 402: reserved for future use (§15.5.3).
 * - 407, 408, 421, 426, 505: about the hop or connection (proxy credentials, an idle connection,
 *   a misdirected connection, Upgrade — a hop-by-hop field we strip — and the HTTP version), not
 *   about the resource.
 * - 411, 412, 413, 415, 416, 417: answers to request content, preconditions, Range or Expect,
 *   which the key does not hold, so a stored one would answer requests it does not fit.
 * - 428, 429, 431, 511: RFC 6585 says caches SHOULD NOT (428) or MUST NOT (429, 431, 511) store them.
 * Added: 451 (RFC 7725). Grows only when a status is defined whose caching rules we implement.
 */
export const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 307, 308, 400, 401, 403, 404, 405, 406, 409,
  410, 414, 422, 451, 500, 501, 502, 503, 504,
])

/**
 * RFC 9110 §15.1 heuristically cacheable statuses this cache stores (the RFC's list without 206):
 * only these, or responses marked `public`, may get a heuristic lifetime (RFC 9111 §4.2.2).
 */
export const HEURISTICALLY_CACHEABLE_STATUSES: ReadonlySet<number> = new Set(
  DEFAULT_CACHEABLE_STATUSES.filter((status) => !NEVER_STORED_STATUSES.has(status))
)

/**
 * Status rules adapters need and must not each decide for themselves (DESIGN: no caching rule in
 * an adapter).
 */

/**
 * Whether `cacheControl()` middleware sets its fields on a response with this status: 2xx, 3xx
 * (304 included: it must repeat Cache-Control, RFC 9110 §15.4.5), 404 and 410. Never on an error:
 * a CDN must not keep an error for an hour.
 *
 * @example
 * ```ts
 * cacheControlApplies(404) // true
 * cacheControlApplies(503) // false
 * ```
 */
export function cacheControlApplies(status: number): boolean {
  return (status >= 200 && status < 400) || status === 404 || status === 410
}

/**
 * The status a framework sends for an error thrown by a handler, the way Koa's `ctx.onerror` picks
 * it: the error's own 4xx/5xx `status` (or `statusCode`), 404 for ENOENT, else 500.
 *
 * @example
 * ```ts
 * errorStatus(Object.assign(new Error('gone'), { status: 410 })) // 410
 * errorStatus(new Error('boom')) // 500
 * ```
 */
export function errorStatus(error: unknown): number {
  if (typeof error !== 'object' || error === null) return 500
  const e = error as { status?: unknown; statusCode?: unknown; code?: unknown }
  if (e.code === 'ENOENT') return 404
  const status = e.status ?? e.statusCode
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599
    ? status
    : 500
}

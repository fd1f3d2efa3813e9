import type { Next } from 'koa'
import { formatCacheControlField as format, InvalidOptionError, type CacheControlOptions } from '@cachewire/http'
import type { CacheContext } from './options.js'

/** Options of {@link cacheControl}: Cache-Control directives (seconds, as on the wire) and the CDN fields. */
export interface CacheControlMiddlewareOptions extends CacheControlOptions {
  /** `Surrogate-Control` for CDNs that read it (Fastly, Akamai): directives or a ready value. @default none */
  surrogateControl?: CacheControlOptions | string | undefined
  /** `CDN-Cache-Control` (RFC 9213), read by CDNs instead of Cache-Control. @default none */
  cdnCacheControl?: CacheControlOptions | string | undefined
  /** Replace fields the handler set itself. @default false: a handler's own Cache-Control wins */
  override?: boolean | undefined
}

/**
 * Sets Cache-Control (and optionally Surrogate-Control / CDN-Cache-Control) on GET and HEAD
 * responses, for browsers and CDNs, once the middleware after it has answered, and only on
 * success, redirect, 404 and 410 responses: a CDN must not keep an error for an hour.
 *
 * Independent of the server-side cache: placed before `cacheMiddleware`, the fields are added
 * to every response, hits included, and the server-side cache never sees them (it follows its
 * own `ttl`); placed after it, the cache reads them like any handler's Cache-Control.
 *
 * @example
 * ```ts
 * import { cacheControl, cacheMiddleware } from '@cachewire/koa'
 *
 * app.use(cacheControl({ public: true, maxAge: 60, cdnCacheControl: { maxAge: 600 } }))
 * app.use(cacheMiddleware({ ttl: '10m' }))
 * ```
 */
export function cacheControl(options: CacheControlMiddlewareOptions): (ctx: CacheContext, next: Next) => Promise<void> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  const { surrogateControl, cdnCacheControl, override, ...directives } = options
  const fields: Array<[string, string]> = []
  const own = format(directives, '')
  if (own !== '') fields.push(['cache-control', own])
  if (surrogateControl !== undefined) fields.push(['surrogate-control', format(surrogateControl, 'surrogateControl.')])
  if (cdnCacheControl !== undefined) fields.push(['cdn-cache-control', format(cdnCacheControl, 'cdnCacheControl.')])
  if (override !== undefined && typeof override !== 'boolean') throw new InvalidOptionError('override', 'a boolean', override)
  if (fields.length === 0) throw new InvalidOptionError('', 'at least one directive', options)
  const replace = override === true

  return async function cacheControl(ctx: CacheContext, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      await next()
      return
    }
    await next()
    if (ctx.respond === false || ctx.headerSent || !appliesTo(ctx.status)) return
    for (const [name, value] of fields) if (replace || !ctx.res.hasHeader(name)) ctx.res.setHeader(name, value)
  }
}

/** 2xx, 3xx (304 included: it must repeat Cache-Control, RFC 9110 §15.4.5), 404 and 410. */
function appliesTo(status: number): boolean {
  return (status >= 200 && status < 400) || status === 404 || status === 410
}

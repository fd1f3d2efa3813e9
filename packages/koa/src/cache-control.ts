import type { Next } from 'koa'
import {
  applyCacheControlFields,
  resolveCacheControlFields,
  type CacheControlMiddlewareOptions,
} from '@cachewire/http/kit'
import type { CacheContext } from './types.js'

/**
 * Sets Cache-Control (and optionally Surrogate-Control / CDN-Cache-Control) on GET and HEAD
 * responses, for browsers and CDNs, once the middleware after it has answered, and only on
 * success, redirect, 404 and 410 responses: a CDN must not keep an error for an hour. Durations
 * follow the unit rule (`maxAge: '1m'`; `maxAge: 60` is refused as likely seconds).
 *
 * Independent of the server-side cache: placed before the cache middleware, the fields are added
 * to every response, hits included, and the server-side cache never sees them (it follows its
 * own `ttl`); placed after it, the cache reads them like any handler's Cache-Control.
 *
 * @example
 * ```ts
 * import { cacheControl, cacheMiddleware } from '@cachewire/koa'
 *
 * app.use(cacheControl({ public: true, maxAge: '1m', cdnCacheControl: { maxAge: '10m' } }))
 * app.use(cacheMiddleware({ ttl: '10m' }))
 * ```
 */
export function cacheControl(
  options: CacheControlMiddlewareOptions
): (ctx: CacheContext, next: Next) => Promise<void> {
  const resolved = resolveCacheControlFields(options)
  return async function cacheControl(ctx: CacheContext, next: Next): Promise<void> {
    await next()
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.respond === false || ctx.headerSent)
      return
    applyCacheControlFields(ctx.res, ctx.status, resolved)
  }
}

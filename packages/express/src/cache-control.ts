import type { ServerResponse } from 'node:http'
import type { NextFunction, Request, Response } from 'express'
import {
  cacheControlAtHead,
  resolveCacheControlFields,
  type CacheControlMiddlewareOptions,
} from '@cachewire/http/kit'
import type { Middleware } from './types.js'

/**
 * Sets Cache-Control (and optionally Surrogate-Control / CDN-Cache-Control) on GET and HEAD
 * responses, for browsers and CDNs. The fields go on when the head is written, and only on
 * success, redirect, 404 and 410 responses: a CDN must not keep an error for an hour. Durations
 * follow the unit rule (`maxAge: '1m'`; `maxAge: 60` is refused as likely seconds).
 *
 * Independent of the server-side cache: placed before the cache middleware, the fields are added
 * to every response, hits included, and the server-side cache never sees them (it follows its
 * own `ttl`); placed after it, the cache reads them like any handler's Cache-Control.
 *
 * @example
 * ```ts
 * import { cacheControl, cacheMiddleware } from '@cachewire/express'
 *
 * app.use(cacheControl({ public: true, maxAge: '1m', cdnCacheControl: { maxAge: '10m' } }))
 * app.use(cacheMiddleware({ ttl: '10m' }))
 * ```
 */
export function cacheControl(options: CacheControlMiddlewareOptions): Middleware {
  const resolved = resolveCacheControlFields(options)
  return function cacheControl(req: Request<unknown>, res: Response, next: NextFunction): void {
    if (req.method === 'GET' || req.method === 'HEAD')
      cacheControlAtHead(res as ServerResponse, resolved)
    next()
  }
}

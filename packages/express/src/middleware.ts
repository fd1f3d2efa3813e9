import type { NextFunction, Request, Response } from 'express'
import { InvalidOptionError } from '@cachewire/http'
import { withHelpers, type CacheHandler } from './cache-handler.js'
import { ExpressCache } from './express-cache.js'
import { compilePathRules, type CacheMiddlewareOptions } from './options.js'

/**
 * Caches responses for a whole app, a Router or a mounted sub-app (keys use the full URL).
 * Hits are written straight to the socket without running later middleware; misses run the
 * handler live and store what it answered when RFC 9111 allows a shared cache to. Options are
 * validated here, once: a bad one throws an `InvalidOptionError` naming it.
 *
 * Middleware before it runs on every request, hits included; middleware after it runs only on
 * misses, and what it does to the response (compression, say) is what gets stored.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { cacheMiddleware } from '@cachewire/express'
 *
 * const app = express()
 * app.use(cacheMiddleware({ ttl: '1m', exclude: ['/admin'] }))
 * app.get('/products', (req, res) => res.json([{ id: 1 }]))
 * app.listen(3000)
 * ```
 */
export function cacheMiddleware(options: CacheMiddlewareOptions = {}): CacheHandler {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  const selects = compilePathRules(options.include, options.exclude)
  const express = new ExpressCache(options)
  const needsRequest = typeof options.key === 'function' || [options.include, options.exclude].flat().some((rule) => typeof rule === 'function')
  // Path and RegExp rules read only the URL, so the front door can apply them to a raw request.
  const front = { needsRequest, selects: selects === undefined ? undefined : (url: string) => selects({ originalUrl: url } as Request) }
  return withHelpers(function cachewire(req: Request, res: Response, next: NextFunction): void {
    if (selects !== undefined && !selects(req)) {
      next()
      return
    }
    express.serve(req, res, next)
  }, express, front)
}

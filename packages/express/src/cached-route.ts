import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { InvalidArgumentError, InvalidOptionError } from '@cachewire/http'
import { withHelpers, type CacheHandler } from './cache-handler.js'
import { ExpressCache } from './express-cache.js'
import type { CachedRouteOptions } from './options.js'

/**
 * Caches one route. Used as route middleware, or wrapped around the handler. `tags` and `key`
 * get the Express request, with `req.params` (and `req.user`, or whatever earlier middleware
 * attached). Pass `cache` to share storage (and so tag invalidation) with other routes.
 *
 * Wrapping the handler also lets a handler's error during a revalidation be answered from a
 * stale entry within `staleIfError`; as route middleware the error reaches the app's error
 * handler first, and its 5xx answer is what the engine sees.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { cachedRoute } from '@cachewire/express'
 *
 * const app = express()
 * const users = cachedRoute({ ttl: '5m', tags: (req) => ['user:' + req.params.id] })
 * app.get('/users/:id', users, (req, res) => res.json({ id: req.params.id }))
 * app.post('/users/:id', users, async (req, res) => {
 *   await req.cache?.invalidateTags(['user:' + req.params.id])
 *   res.sendStatus(204)
 * })
 * app.get('/feed', cachedRoute({ ttl: '30s', staleWhileRevalidate: '5m' }, (req, res) => res.json([])))
 * ```
 */
export function cachedRoute(options: CachedRouteOptions = {}, handler?: RequestHandler): CacheHandler {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  if (handler !== undefined && typeof handler !== 'function') throw new InvalidArgumentError('handler', 'a function', handler)
  const express = new ExpressCache(options, handler)
  return withHelpers(function cachedRoute(req: Request, res: Response, next: NextFunction): void {
    express.serve(req, res, next)
  }, express)
}

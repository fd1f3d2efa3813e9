import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { InvalidArgumentError, InvalidOptionError, resolveRoutePolicy } from '@cachewire/http'
import { appCache, engineRoute } from '@cachewire/http/kit'
import { outermost } from './binding.js'
import { responseCache, type CacheMiddleware, type ResponseCache } from './response-cache.js'
import type { CacheMiddlewareOptions, CachedRouteOptions, Middleware } from './types.js'

/**
 * The thin form of `responseCache(options).middleware({ include, exclude })`: app-wide caching in
 * one line. The middleware carries the cache's helpers (`engine`, `cache`, `invalidateTags`,
 * `purgeUrl`, `whenIdle`, `close`).
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
export function cacheMiddleware(options: CacheMiddlewareOptions = {}): CacheMiddleware {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  const { include, exclude, ...rest } = options
  return responseCache(rest).middleware({ include, exclude })
}

/**
 * The thin form of `cache.route(policy, handler?)`: a route policy on the app's cache, the
 * `responseCache` its middleware, routes or front door registered on the app, or, if it has none,
 * one default `responseCache()` made for the app by the first `cachedRoute` that meets it. The
 * policy is validated here; storage and app-wide options are refused (they go to `responseCache()`).
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { cachedRoute } from '@cachewire/express'
 *
 * const app = express()
 * app.get('/users/:id', cachedRoute({ ttl: '5m', tags: (req) => ['user:' + req.params.id] }), (req, res) => {
 *   res.json({ id: req.params.id })
 * })
 * app.get('/feed', cachedRoute({ ttl: '30s', stale: { whileRevalidate: '5m' } }, (req, res) => res.json([])))
 * ```
 */
export function cachedRoute(policy: CachedRouteOptions = {}, handler?: RequestHandler): Middleware {
  if (handler !== undefined && typeof handler !== 'function')
    throw new InvalidArgumentError('handler', 'a function', handler)
  resolveRoutePolicy(engineRoute<Request>(policy), 'responseCache()')
  const routes = new WeakMap<ResponseCache, Middleware>()
  return function cachedRoute(req: Request, res: Response, next: NextFunction): void {
    const cache = appCache<ResponseCache>(outermost(req.app), undefined, () =>
      responseCache()
    ) as ResponseCache
    let route = routes.get(cache)
    if (route === undefined) {
      route = cache.route(policy, handler)
      routes.set(cache, route)
    }
    route(req, res, next)
  } as Middleware
}

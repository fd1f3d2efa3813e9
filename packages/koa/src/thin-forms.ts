import type { Middleware as KoaMiddleware, Next } from 'koa'
import { InvalidArgumentError, InvalidOptionError, resolveRoutePolicy } from '@cachewire/http'
import { appCache, engineRoute } from '@cachewire/http/kit'
import { responseCache, type CacheMiddleware, type ResponseCache } from './response-cache.js'
import type {
  CacheContext,
  CacheMiddlewareOptions,
  CachedRouteOptions,
  Middleware,
} from './types.js'

/**
 * The thin form of `responseCache(options).middleware({ include, exclude })`: app-wide caching in
 * one line. The middleware carries the cache's helpers (`engine`, `cache`, `invalidateTags`,
 * `purgeUrl`, `whenIdle`, `close`).
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import { cacheMiddleware } from '@cachewire/koa'
 *
 * const app = new Koa()
 * app.use(cacheMiddleware({ ttl: '1m', exclude: ['/admin'] }))
 * app.use((ctx) => {
 *   ctx.body = [{ id: 1 }]
 * })
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
 * import Koa from 'koa'
 * import Router from '@koa/router'
 * import { cachedRoute } from '@cachewire/koa'
 *
 * const app = new Koa()
 * const router = new Router()
 * router.get('/users/:id', cachedRoute({ ttl: '5m', tags: (ctx) => ['user:' + ctx.params.id] }), (ctx) => {
 *   ctx.body = { id: ctx.params.id }
 * })
 * app.use(router.routes())
 * ```
 */
export function cachedRoute(policy: CachedRouteOptions = {}, handler?: KoaMiddleware): Middleware {
  if (handler !== undefined && typeof handler !== 'function')
    throw new InvalidArgumentError('handler', 'a function', handler)
  resolveRoutePolicy(engineRoute<CacheContext>(policy), 'responseCache()')
  const routes = new WeakMap<ResponseCache, Middleware>()
  return async function cachedRoute(ctx: CacheContext, next: Next): Promise<void> {
    const cache = appCache<ResponseCache>(ctx.app, undefined, () =>
      responseCache()
    ) as ResponseCache
    let route = routes.get(cache)
    if (route === undefined) {
      route = cache.route(policy, handler)
      routes.set(cache, route)
    }
    await route(ctx, next)
  }
}

import type { Middleware, Next } from 'koa'
import { InvalidArgumentError, InvalidOptionError } from '@cachewire/http'
import { withHelpers, type CacheHandler } from './cache-handler.js'
import { KoaCache } from './koa-cache.js'
import type { CacheContext, CachedRouteOptions } from './options.js'

/**
 * Caches one route. Used as route middleware (with @koa/router), or wrapped around the handler.
 * `tags` and `key` get the Koa context, with `ctx.params` (and `ctx.state.user`, or whatever
 * earlier middleware attached). Pass `cache` to share storage (and so tag invalidation) with
 * other routes. Either way, an error the handler throws during a revalidation can be answered
 * from a stale entry within `staleIfError`.
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import Router from '@koa/router'
 * import { cachedRoute } from '@cachewire/koa'
 *
 * const app = new Koa()
 * const router = new Router()
 * const users = cachedRoute({ ttl: '5m', tags: (ctx) => ['user:' + ctx.params.id] })
 * router.get('/users/:id', users, (ctx) => {
 *   ctx.body = { id: ctx.params.id }
 * })
 * router.post('/users/:id', users, async (ctx) => {
 *   await ctx.cache?.invalidateTags(['user:' + ctx.params.id])
 *   ctx.status = 204
 * })
 * router.get('/feed', cachedRoute({ ttl: '30s', staleWhileRevalidate: '5m' }, (ctx) => {
 *   ctx.body = []
 * }))
 * app.use(router.routes())
 * ```
 */
export function cachedRoute(options: CachedRouteOptions = {}, handler?: Middleware): CacheHandler {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  if (handler !== undefined && typeof handler !== 'function') throw new InvalidArgumentError('handler', 'a function', handler)
  const koa = new KoaCache(options, handler)
  return withHelpers(async function cachedRoute(ctx: CacheContext, next: Next): Promise<void> {
    await koa.serve(ctx, next)
  }, koa)
}

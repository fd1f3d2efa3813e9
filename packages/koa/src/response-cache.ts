import type { RequestListener } from 'node:http'
import type { Middleware as KoaMiddleware, Next } from 'koa'
import { createHttpCache, InvalidArgumentError } from '@cachewire/http'
import {
  appCache,
  cacheHelpers,
  compilePathRules,
  engineOptions,
  routePolicy,
  ServeLoop,
  withHelpers,
  type ResponseCacheHelpers,
} from '@cachewire/http/kit'
import { koaBinding } from './binding.js'
import { frontDoor, type KoaListener } from './front-door.js'
import { purgeRouter, type PurgeRouterOptions } from './purge-router.js'
import { liveness, readiness } from './health.js'
import type { HealthCheckOptions } from '@cachewire/http/operations'
import type {
  CacheContext,
  Downstream,
  Middleware,
  PathRules,
  ResponseCacheOptions,
  RouteOptions,
} from './types.js'

/** A cache middleware that also carries its cache's helpers, for use outside a request. */
export interface CacheMiddleware extends Middleware, ResponseCacheHelpers {}

/** One engine for a Koa app: middleware, per-route policies, a front door and a purge router over it. */
export interface ResponseCache extends ResponseCacheHelpers {
  /** App-wide caching: hits answered without running later middleware; misses stored as RFC 9111 allows. */
  middleware(rules?: PathRules): CacheMiddleware
  /**
   * A route's policy on this cache: route middleware (`router.get(path, cache.route(policy), handler)`),
   * or wrapped around the handler (`cache.route(policy, handler)`).
   */
  route(policy?: RouteOptions, handler?: KoaMiddleware): Middleware
  /** A `node:http` listener answering fresh hits (and 304s) before Koa runs; the rest goes to the app. */
  frontDoor(app: KoaListener, rules?: PathRules): RequestListener
  /** The purge API and inspector, under `prefix`. */
  purgeRouter(options: Omit<PurgeRouterOptions, 'engine'>): KoaMiddleware
  /** A liveness probe handler: 200 while the process answers; never asks the store. */
  liveness(): KoaMiddleware
  /** A readiness probe handler: this cache's health as JSON; 200 while degraded unless `failWhenDegraded`. */
  readiness(options?: HealthCheckOptions): KoaMiddleware
}

/**
 * One engine per app: the cache, and every way into it. Options are validated here, once; a bad
 * one throws an `InvalidOptionError` naming it. The first of its middleware, routes or front door
 * to meet an app registers it there, for `cachedRoute`.
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import Router from '@koa/router'
 * import { responseCache } from '@cachewire/koa'
 *
 * const app = new Koa()
 * const router = new Router()
 * const cache = responseCache({ ttl: '1m' })
 * app.use(cache.middleware({ exclude: ['/admin'] }))
 * router.get('/users/:id', cache.route({ ttl: '5m', tags: (ctx) => ['user:' + ctx.params.id] }), (ctx) => {
 *   ctx.body = { id: ctx.params.id }
 * })
 * app.use(router.routes())
 * app.listen(3000)
 * ```
 */
export function responseCache(options: ResponseCacheOptions = {}): ResponseCache {
  const engine = createHttpCache(engineOptions<CacheContext>(options))
  const loop = new ServeLoop<CacheContext, Downstream>(engine, koaBinding())
  const self: ResponseCache = {
    ...cacheHelpers(loop as ServeLoop<never, never>),
    middleware(rules) {
      const selects = compilePathRules<CacheContext>(rules)
      const middleware = withHelpers<Middleware>(function cachewire(
        ctx: CacheContext,
        next: Next
      ): Promise<void> {
        appCache(ctx.app, self)
        if (selects !== undefined && !selects.selects(ctx.originalUrl, ctx)) return next()
        const first = (ctx.app as { middleware?: unknown[] }).middleware?.[0] === middleware
        // A hit is written synchronously: the shared settled promise spares Koa's stack the
        // microtask an async function's resumption costs per hit. A throw rejects, as it would there.
        try {
          return loop.serve(ctx, { next, handler: undefined, first }) ?? DONE
        } catch (error) {
          return Promise.reject(error)
        }
      }, self)
      return middleware
    },
    route(policy = {}, handler) {
      if (handler !== undefined && typeof handler !== 'function')
        throw new InvalidArgumentError('handler', 'a function', handler)
      const route = routePolicy<CacheContext>(engine, policy, 'responseCache()')
      return function cachedRoute(ctx: CacheContext, next: Next): Promise<void> {
        appCache(ctx.app, self)
        try {
          return loop.serve(ctx, { next, handler }, route) ?? DONE
        } catch (error) {
          return Promise.reject(error)
        }
      }
    },
    frontDoor(app, rules) {
      if (typeof app === 'object' && app !== null) appCache(app, self)
      return frontDoor(engine, app, rules)
    },
    purgeRouter: (routerOptions) => purgeRouter({ ...routerOptions, engine }),
    liveness: () => liveness(),
    readiness: (healthOptions) => readiness(engine, healthOptions),
  }
  return self
}

/** What a middleware answers for a request served synchronously (a hit). */
const DONE: Promise<void> = Promise.resolve()

import type { RequestListener } from 'node:http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { createHttpCache, InvalidArgumentError, type RoutePolicy } from '@cachewire/http'
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
import { expressBinding, outermost } from './binding.js'
import { shareHiddenClasses, shareHiddenClassesAtEntry } from './hidden-classes.js'
import { frontDoor, type ExpressListener } from './front-door.js'
import { purgeRouter, type PurgeRouterOptions } from './purge-router.js'
import { liveness, readiness } from './health.js'
import type { HealthCheckOptions } from '@cachewire/http/operations'
import type {
  Downstream,
  Middleware,
  PathRules,
  ResponseCacheOptions,
  RouteOptions,
} from './types.js'

/** A cache middleware that also carries its cache's helpers, for use outside a request. */
export interface CacheMiddleware extends Middleware, ResponseCacheHelpers {}

/** One engine for an Express app: middleware, per-route policies, a front door and a purge router over it. */
export interface ResponseCache extends ResponseCacheHelpers {
  /**
   * App-wide caching (or on a Router, or a mounted sub-app: keys use the full URL). Hits are
   * written without running later middleware; misses run it and store what RFC 9111 allows.
   */
  middleware(rules?: PathRules): CacheMiddleware
  /**
   * A route's policy on this cache: route middleware (`app.get(path, cache.route(policy), handler)`),
   * or wrapped around the handler (`cache.route(policy, handler)`), which also lets a handler's
   * error in a revalidation be answered from a stale entry within `stale.ifError`.
   */
  route(policy?: RouteOptions, handler?: RequestHandler): Middleware
  /** A `node:http` listener answering fresh hits (and 304s) before Express runs; the rest goes to `app`. */
  frontDoor(app: ExpressListener, rules?: PathRules): RequestListener
  /** The purge API and inspector, to mount under a path of your choosing. */
  purgeRouter(options: Omit<PurgeRouterOptions, 'engine'>): RequestHandler
  /** A liveness probe handler: 200 while the process answers; never asks the store. */
  liveness(): RequestHandler
  /** A readiness probe handler: this cache's health as JSON; 200 while degraded unless `failWhenDegraded`. */
  readiness(options?: HealthCheckOptions): RequestHandler
}

/**
 * One engine per app: the cache, and every way into it. Options are validated here, once; a bad
 * one throws an `InvalidOptionError` naming it. The first of its middleware, routes or front door
 * to meet an app registers it there, for `cachedRoute`.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { responseCache } from '@cachewire/express'
 *
 * const app = express()
 * const cache = responseCache({ ttl: '1m' })
 * app.use(cache.middleware({ exclude: ['/admin'] }))
 * app.get('/users/:id', cache.route({ ttl: '5m', tags: (req) => ['user:' + req.params.id] }), (req, res) => {
 *   res.json({ id: req.params.id })
 * })
 * app.listen(3000)
 * ```
 */
export function responseCache(options: ResponseCacheOptions = {}): ResponseCache {
  const engine = createHttpCache(engineOptions<Request>(options))
  const loop = new ServeLoop<Request, Downstream>(engine, expressBinding(engine))
  const self: ResponseCache = {
    ...cacheHelpers(loop as ServeLoop<never, never>),
    middleware(rules) {
      const selects = compilePathRules<Request>(rules)
      return withHelpers(
        function cachewire(req: Request, res: Response, next: NextFunction): void {
          // On Express 5 the app's router does it as the request comes in, once it has met the cache.
          if (!shareHiddenClassesAtEntry(req.app)) shareHiddenClasses(req, res)
          appCache(outermost(req.app), self)
          if (selects !== undefined && !selects.selects(req.originalUrl, req)) return next()
          serve(loop, req, { next, handler: undefined })
        } as Middleware,
        self
      )
    },
    route(policy = {}, handler) {
      if (handler !== undefined && typeof handler !== 'function')
        throw new InvalidArgumentError('handler', 'a function', handler)
      const route = routePolicy<Request>(engine, policy, 'responseCache()')
      return function cachedRoute(req: Request, res: Response, next: NextFunction): void {
        // On Express 5 the app's router does it as the request comes in, once it has met the cache.
        if (!shareHiddenClassesAtEntry(req.app)) shareHiddenClasses(req, res)
        appCache(outermost(req.app), self)
        serve(loop, req, { next, handler }, route)
      } as Middleware
    },
    frontDoor(app, rules) {
      if (typeof app === 'function') appCache(app, self)
      return frontDoor(engine, app, rules)
    },
    purgeRouter: (routerOptions) => purgeRouter({ ...routerOptions, engine }),
    liveness: () => liveness(),
    readiness: (healthOptions) => readiness(engine, healthOptions),
  }
  return self
}

/** The serve loop never rejects for a cache reason; anything else reaches Express's error handling. */
function serve(
  loop: ServeLoop<Request, Downstream>,
  req: Request,
  downstream: Downstream,
  route?: RoutePolicy
): void {
  let served: void | Promise<void>
  try {
    served = loop.serve(req, downstream, route)
  } catch (error) {
    downstream.next(error)
    return
  }
  // A memory hit was written in this tick, with no promise at all.
  if (served instanceof Promise) {
    served.catch((error: unknown) => {
      if (!(req.res?.headersSent ?? true)) downstream.next(error)
    })
  }
}

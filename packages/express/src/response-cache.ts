import type { RequestListener } from 'node:http'
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express'
import { createHttpCache, InvalidArgumentError, type Cache, type HttpCache, type RoutePolicy } from '@cachewire/http'
import { compilePathRules, engineOptions, routePolicy, ServeLoop } from '@cachewire/http/kit'
import { expressBinding, outermost } from './binding.js'
import { frontDoor, type ExpressListener } from './front-door.js'
import { purgeRouter, type PurgeRouterOptions } from './purge-router.js'
import type { Downstream, Middleware, PathRules, ResponseCacheOptions, RouteOptions } from './types.js'

/** Where an app keeps its ResponseCache (shared by every copy of the package: ESM, CJS). */
export const RESPONSE_CACHE: unique symbol = Symbol.for('cachewire.response-cache')

/** A cache middleware that also carries its cache's helpers, for use outside a request. */
export interface CacheMiddleware extends Middleware, CacheHelpers {}

/** What every form of the cache offers outside a request. */
export interface CacheHelpers {
  /** The HTTP engine: `engine.observer.stats()`, and what `createPrometheusMetrics` takes. */
  readonly engine: HttpCache
  /** The core cache the responses live in (also usable for application data). */
  readonly cache: Cache
  /** Removes every stored response filed under any of the tags; resolves how many were removed. */
  invalidateTags(tags: readonly string[]): Promise<number>
  /** Removes every stored response for a URL: an absolute URL, or a path with its host. */
  purgeUrl(url: string, host?: string): Promise<number>
  /** Resolves when background work (cache writes, refreshes) has settled: for tests and shutdown. */
  whenIdle(): Promise<void>
  /** Waits for background work, then stops the engine (and closes a store it made). */
  close(): Promise<void>
}

/** One engine for an Express app: middleware, per-route policies, a front door and a purge router over it. */
export interface ResponseCache extends CacheHelpers {
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
}

/**
 * One engine per app: the cache, and every way into it. Options are validated here, once; a bad
 * one throws an `InvalidOptionError` naming it.
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
    engine,
    cache: engine.cache,
    invalidateTags: (tags) => engine.invalidateTags(tags),
    purgeUrl: (url, host) => engine.purgeUrl(url, host),
    whenIdle: () => loop.whenIdle(),
    close: () => loop.close(),
    middleware(rules) {
      const selects = compilePathRules<Request>(rules)
      return withHelpers(function cachewire(req: Request, _res: Response, next: NextFunction): void {
        register(req.app, self)
        if (selects !== undefined && !selects.selects(req.originalUrl, req)) return next()
        serve(loop, req, { next, handler: undefined })
      }, self)
    },
    route(policy = {}, handler) {
      if (handler !== undefined && typeof handler !== 'function') throw new InvalidArgumentError('handler', 'a function', handler)
      const route = routePolicy<Request>(engine, policy, 'responseCache()')
      return function cachedRoute(req: Request, _res: Response, next: NextFunction): void {
        register(req.app, self)
        serve(loop, req, { next, handler }, route)
      } as Middleware
    },
    frontDoor(app, rules) {
      register(app, self)
      return frontDoor(engine, app, rules)
    },
    purgeRouter: (routerOptions) => purgeRouter({ ...routerOptions, engine }),
  }
  return self
}

/** Records `cache` as its app's ResponseCache, unless the app has one (the first to meet it wins). */
export function register(app: Application | ExpressListener, cache: ResponseCache): void {
  const root = outermost(app as Application) as unknown as Record<symbol, unknown>
  if (root[RESPONSE_CACHE] === undefined) root[RESPONSE_CACHE] = cache
}

/** The ResponseCache registered on the request's app, if any. */
export function registered(req: Request): ResponseCache | undefined {
  return (outermost(req.app) as unknown as Record<symbol, ResponseCache | undefined>)[RESPONSE_CACHE]
}

/** Gives a named middleware function its cache's helpers. */
export function withHelpers(middleware: (req: Request, res: Response, next: NextFunction) => void, cache: CacheHelpers): CacheMiddleware {
  return Object.assign(middleware, {
    engine: cache.engine,
    cache: cache.cache,
    invalidateTags: cache.invalidateTags,
    purgeUrl: cache.purgeUrl,
    whenIdle: cache.whenIdle,
    close: cache.close,
  }) as unknown as CacheMiddleware
}

/** The serve loop never rejects for a cache reason; anything else reaches Express's error handling. */
function serve(loop: ServeLoop<Request, Downstream>, req: Request, downstream: Downstream, route?: RoutePolicy): void {
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

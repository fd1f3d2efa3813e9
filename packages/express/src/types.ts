import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { HttpCacheOptions, RouteOptions as EngineRouteOptions } from '@cachewire/http'
import type { PathRule as KitPathRule, PathRules as KitPathRules } from '@cachewire/http/kit'

/**
 * Options of {@link responseCache}: the engine's (see `@cachewire/http`), grouped, with `tags`,
 * `keys.key` and `safety.privateKey` taking the Express request, so they can read `req.user` or
 * anything else a middleware attached.
 *
 * @example
 * ```ts
 * const options: ResponseCacheOptions = { ttl: '1m', keys: { key: (req) => req.get('x-tenant') } }
 * ```
 */
export type ResponseCacheOptions = HttpCacheOptions<Request>

/**
 * A per-route policy (see `@cachewire/http` `RouteOptions`): `ttl`, `tags`, `stale`, `keys`,
 * `safety`, `cdn`, with functions of the Express request (and its `req.params`). Storage and other
 * app-wide options are refused here: they go to `responseCache()`.
 */
export type RouteOptions = EngineRouteOptions<Request>

/** Which requests a middleware (or a front door) caches: a path prefix, a RegExp over the path, or a predicate of `req`. */
export type PathRule = KitPathRule<Request>
/** `{ include, exclude }` path rules. */
export type PathRules = KitPathRules<Request>

/** Options of the thin form {@link cacheMiddleware}: `responseCache` options plus path rules. */
export interface CacheMiddlewareOptions extends ResponseCacheOptions, PathRules {}

/** Options of the thin form {@link cachedRoute}: a route policy on the app's cache. */
export type CachedRouteOptions = RouteOptions

/**
 * An Express middleware. Generic in the route parameters, so that in
 * `app.get('/users/:id', middleware, handler)` the handler's `req.params.id` keeps its type.
 */
export interface Middleware {
  <P>(req: Request<P>, res: Response, next: NextFunction): void
}

/** What runs after the cache: `next`, or a handler it wraps (`route(policy, handler)`). */
export interface Downstream {
  next: NextFunction
  handler: RequestHandler | undefined
}

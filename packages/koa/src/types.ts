import type { Middleware as KoaMiddleware, Next, ParameterizedContext } from 'koa'
import type { HttpCacheOptions, RouteOptions as EngineRouteOptions } from '@cachewire/http'
import type { PathRule as KitPathRule, PathRules as KitPathRules } from '@cachewire/http/kit'

/** The Koa context `key`, `tags`, `privateKey` and path predicates receive (`ctx.params` is set by @koa/router). */
export type CacheContext = ParameterizedContext

/**
 * Options of {@link responseCache}: the engine's (see `@cachewire/http`), grouped, with `tags`,
 * `keys.key` and `safety.privateKey` taking the Koa context, so they can read `ctx.state.user` or
 * anything else a middleware attached.
 *
 * @example
 * ```ts
 * const options: ResponseCacheOptions = { ttl: '1m', keys: { key: (ctx) => ctx.get('x-tenant') } }
 * ```
 */
export type ResponseCacheOptions = HttpCacheOptions<CacheContext>

/**
 * A per-route policy (see `@cachewire/http` `RouteOptions`): `ttl`, `tags`, `stale`, `keys`,
 * `safety`, `cdn`, with functions of the Koa context (and its `ctx.params`). Storage and other
 * app-wide options are refused here: they go to `responseCache()`.
 */
export type RouteOptions = EngineRouteOptions<CacheContext>

/** Which requests a middleware (or a front door) caches: a path prefix, a RegExp over the path, or a predicate of `ctx`. */
export type PathRule = KitPathRule<CacheContext>
/** `{ include, exclude }` path rules. */
export type PathRules = KitPathRules<CacheContext>

/** Options of the thin form {@link cacheMiddleware}: `responseCache` options plus path rules. */
export interface CacheMiddlewareOptions extends ResponseCacheOptions, PathRules {}

/** Options of the thin form {@link cachedRoute}: a route policy on the app's cache. */
export type CachedRouteOptions = RouteOptions

/** A Koa middleware of the cache. */
export type Middleware = (ctx: CacheContext, next: Next) => Promise<void>

/** What runs after the cache: `next`, or a handler it wraps (`route(policy, handler)`). */
export interface Downstream {
  next: Next
  handler: KoaMiddleware | undefined
  /**
   * The cache's middleware is the app's first: no middleware before it has code to run after
   * `await next()`, so a reply may go straight to the socket instead of through Koa's `respond`.
   */
  first?: boolean
}

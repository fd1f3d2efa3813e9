import type { FastifyReply, FastifyRequest } from 'fastify'
import type { HttpCacheOptions, RouteOptions as EngineRouteOptions } from '@cachewire/http'
import type { PathRule as KitPathRule, PathRules as KitPathRules } from '@cachewire/http/kit'

/**
 * Options of {@link responseCache}: the engine's (see `@cachewire/http`), grouped, with `tags`,
 * `keys.key` and `safety.privateKey` taking the Fastify request, so they can read
 * `request.user` or anything else a hook attached.
 *
 * @example
 * ```ts
 * const options: ResponseCacheOptions = { ttl: '1m', keys: { key: (request) => request.headers['x-tenant'] as string } }
 * ```
 */
export type ResponseCacheOptions = HttpCacheOptions<FastifyRequest>

/**
 * A per-route policy (see `@cachewire/http` `RouteOptions`): `ttl`, `tags`, `stale`, `keys`,
 * `safety`, `cdn`, with functions of the Fastify request (and its `request.params`). Given as
 * the route's `config: { cache: policy }`, or to `cache.route(policy)`. Storage and other
 * app-wide options are refused here: they go to `responseCache()`.
 */
export type RouteOptions = CacheRoutePolicy

/**
 * The same as {@link RouteOptions}, under a name Fastify's types do not have: the route config's
 * `cache` (in `declare module 'fastify'`, a bare `RouteOptions` would be Fastify's own).
 */
export type CacheRoutePolicy = EngineRouteOptions<FastifyRequest>

/** Which requests the plugin (or a front door) caches: a path prefix, a RegExp over the path, or a predicate of the request. */
export type PathRule = KitPathRule<FastifyRequest>
/** `{ include, exclude }` path rules: the options of `cache.plugin`. */
export type PathRules = KitPathRules<FastifyRequest>

/** Options of the thin form {@link cachePlugin}: `responseCache` options plus path rules. */
export interface CachePluginOptions extends ResponseCacheOptions, PathRules {}

/** The callback of a callback-style Fastify hook. */
export type HookDone = (error?: Error) => void

/**
 * A callback-style Fastify hook: what `cache.route()`, `cacheControl()` and `conditional()`
 * return, for a route's `onRequest` (or `preHandler`), or `app.addHook('onRequest', …)`.
 */
export type CacheHook = (request: FastifyRequest, reply: FastifyReply, done: HookDone) => void

/** One request as the serve loop sees it: Fastify's request and reply, and where the hook is. */
export interface Exchange {
  readonly request: FastifyRequest
  readonly reply: FastifyReply
  /** True once the hook let Fastify go on (its `done` is called at most once). */
  proceeded: boolean
  /**
   * The headers set before the cache (Fastify keeps them on the reply until it writes the head),
   * taken before a buffered run, so the reply written after it starts from them and not from
   * what the handler set.
   */
  headers: Record<string, unknown> | undefined
}

import type { RequestListener } from 'node:http'
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyRequest,
  FastifyServerFactory,
} from 'fastify'
import fp from 'fastify-plugin'
import { createHttpCache, InvalidOptionError, type RoutePolicy } from '@cachewire/http'
import type { HealthCheckOptions } from '@cachewire/http/operations'
import {
  cacheHelpers,
  compilePathRules,
  engineOptions,
  RESPONSE_CACHE,
  routePolicy,
  ServeLoop,
  type ResponseCacheHelpers,
} from '@cachewire/http/kit'
import { fastifyBinding } from './binding.js'
import { frontDoor, serverFactory } from './front-door.js'
import { liveness, readiness, type ProbeHandler } from './health.js'
import { purgeRouter, type PurgeRouterOptions } from './purge-router.js'
import { cachePolicyOf, RoutePolicies } from './route-policies.js'
import type {
  CacheHook,
  Exchange,
  HookDone,
  PathRules,
  ResponseCacheOptions,
  RouteOptions,
} from './types.js'

/** One engine for a Fastify app: a plugin, per-route policies, a front door and a purge router over it. */
export interface ResponseCache extends ResponseCacheHelpers {
  /**
   * The plugin: `await app.register(cache.plugin, { include?, exclude? })`. App-wide caching as an
   * `onRequest` hook in the context it is registered in (the app, or an encapsulated plugin to
   * cache only its routes). Hits are written before later hooks, body parsing and the handler
   * run; misses run them and store what RFC 9111 allows. A route's `config: { cache: policy }`
   * is its policy on this cache; `config: { cache: false }` leaves it alone.
   */
  readonly plugin: FastifyPluginCallback<PathRules>
  /**
   * A route's policy on this cache as a hook: `{ onRequest: cache.route(policy) }`, or
   * `preHandler` so it runs after an authentication hook its key reads. Works with or without the
   * plugin registered.
   */
  route(policy?: RouteOptions): CacheHook
  /**
   * A `node:http` listener answering fresh hits (and 304s) before Fastify runs; the rest goes to
   * `app.routing` (once the app is ready): `http.createServer(cache.frontDoor(app)).listen(3000)`.
   */
  frontDoor(app: FastifyInstance, rules?: PathRules): RequestListener
  /**
   * The front door as Fastify's `serverFactory`, so `app.listen()` and `app.close()` manage its
   * server: `Fastify({ serverFactory: cache.serverFactory() })`.
   */
  serverFactory(rules?: PathRules): FastifyServerFactory
  /** The purge API and inspector: `app.register(cache.purgeRouter({ token }), { prefix: '/_cache' })`. */
  purgeRouter(options: Omit<PurgeRouterOptions, 'engine'>): FastifyPluginCallback
  /** A liveness probe handler: 200 while the process answers; never asks the store. */
  liveness(): ProbeHandler
  /** A readiness probe handler: this cache's health as JSON; 200 while degraded unless `failWhenDegraded`. */
  readiness(options?: HealthCheckOptions): ProbeHandler
}

/** The versions of Fastify the plugin declares (checked by Fastify when it is registered). */
export const FASTIFY_VERSIONS = '4.x || 5.x'

/**
 * One engine per app: the cache, and every way into it. Options are validated here, once; a bad
 * one throws an `InvalidOptionError` naming it.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { responseCache } from '@cachewire/fastify'
 *
 * const app = Fastify()
 * const cache = responseCache({ ttl: '1m' })
 * await app.register(cache.plugin, { exclude: ['/admin'] })
 * app.get('/users/:id', { config: { cache: { ttl: '5m', tags: (request) => ['user:' + (request.params as { id: string }).id] } } }, async (request) => {
 *   return { id: (request.params as { id: string }).id }
 * })
 * await app.listen({ port: 3000 })
 * ```
 */
export function responseCache(options: ResponseCacheOptions = {}): ResponseCache {
  const engine = createHttpCache(engineOptions<FastifyRequest>(options))
  const loop = new ServeLoop<Exchange, HookDone>(engine, fastifyBinding(engine))
  const policies = new RoutePolicies(engine)

  const plugin: FastifyPluginCallback<PathRules> = (fastify, rules, done) => {
    let selects: ReturnType<typeof compilePathRules<FastifyRequest>>
    try {
      selects = compilePathRules<FastifyRequest>(rules)
    } catch (error) {
      return done(error as Error)
    }
    const holder = fastify as unknown as Record<symbol, unknown>
    const held = holder[RESPONSE_CACHE]
    // Registered again in this context or one it inherits from: its hook already covers these routes.
    if (held === self) return done()
    if (held !== undefined) {
      return done(
        new InvalidOptionError(
          'plugin',
          'registered once per app (one responseCache per Fastify app and its plugins)',
          'a second responseCache'
        )
      )
    }
    holder[RESPONSE_CACHE] = self
    if (!fastify.hasRequestDecorator('cache')) fastify.decorateRequest('cache', null)
    if (!fastify.hasDecorator('responseCache')) fastify.decorate('responseCache', self)
    fastify.addHook('onRoute', (route) => policies.declare(route))
    fastify.addHook('onRequest', function cachewire(request, reply, next) {
      const policy = cachePolicyOf(request.routeOptions.config)
      if (policy === false) return next()
      if (selects !== undefined && !selects.selects(request.originalUrl, request)) return next()
      let route: RoutePolicy | undefined
      try {
        route = policy === undefined ? undefined : policies.resolve(policy)
      } catch (error) {
        return next(error as Error)
      }
      serve(loop, { request, reply, proceeded: false, headers: undefined }, next, route)
    })
    fastify.addHook('onClose', (_instance, closed) => {
      self.close().then(() => closed(), closed)
    })
    done()
  }

  const self: ResponseCache = {
    ...cacheHelpers(loop as ServeLoop<never, never>),
    plugin: fp(plugin, { fastify: FASTIFY_VERSIONS, name: '@cachewire/fastify' }),
    route(policy = {}) {
      const route = routePolicy<FastifyRequest>(engine, policy, 'responseCache()')
      return function cachedRoute(request, reply, next) {
        serve(loop, { request, reply, proceeded: false, headers: undefined }, next, route)
      }
    },
    frontDoor: (app, rules) => frontDoor(engine, app, rules),
    serverFactory: (rules) => serverFactory(engine, rules),
    liveness: () => liveness(),
    readiness: (healthOptions) => readiness(engine, healthOptions),
    purgeRouter: (routerOptions) => purgeRouter({ ...routerOptions, engine }),
  }
  return self
}

/** The serve loop never rejects for a cache reason; anything else reaches Fastify's error handling. */
function serve(
  loop: ServeLoop<Exchange, HookDone>,
  exchange: Exchange,
  done: HookDone,
  route: RoutePolicy | undefined
): void {
  let served: void | Promise<void>
  try {
    served = loop.serve(exchange, done, route)
  } catch (error) {
    fail(exchange, error, done)
    return
  }
  // A memory hit was written in this tick, with no promise at all.
  if (served instanceof Promise) served.catch((error: unknown) => fail(exchange, error, done))
}

function fail(exchange: Exchange, error: unknown, done: HookDone): void {
  if (exchange.proceeded || exchange.reply.sent) return
  exchange.proceeded = true
  done(error instanceof Error ? error : new Error(String(error)))
}

import { InvalidOptionError } from '@cachewire/core'
import type { HttpCache } from '../engine/http-cache.js'
import { resolveRoutePolicy } from '../options/resolve-route.js'
import type { HttpCacheOptions, RouteOptions } from '../options/types.js'
import type { HttpRequest, RoutePolicy } from '../types.js'

/**
 * An adapter's options, whose `key`, `tags` and `privateKey` take the framework's request, as
 * engine options: each function is called with `request.native` (set by the adapter's
 * `toRequest`). Anything that is not a function passes through for the engine to validate.
 *
 * @example
 * ```ts
 * const engine = createHttpCache(engineOptions<Request>({ ttl: '1m', keys: { key: (req) => req.get('x-tenant') } }))
 * ```
 */
export function engineOptions<N>(options: HttpCacheOptions<N>): HttpCacheOptions {
  if (typeof options !== 'object' || options === null) return options as HttpCacheOptions
  return withNativeFunctions(options) as HttpCacheOptions
}

/**
 * A route policy of an adapter (functions of the framework's request) as the engine's.
 *
 * @example
 * ```ts
 * const route = resolveRoutePolicy(engineRoute<Context>({ tags: (ctx) => ['user:' + ctx.params.id] }), 'responseCache()')
 * ```
 */
export function engineRoute<N>(options: RouteOptions<N>): RouteOptions {
  if (typeof options !== 'object' || options === null) return options as RouteOptions
  return withNativeFunctions(options) as RouteOptions
}

function withNativeFunctions(options: object): object {
  const out: Record<string, unknown> = { ...options }
  out['tags'] = bind(out['tags'])
  for (const [group, name] of [
    ['keys', 'key'],
    ['safety', 'privateKey'],
  ] as const) {
    const value = out[group]
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && name in value) {
      out[group] = { ...value, [name]: bind((value as Record<string, unknown>)[name]) }
    }
  }
  if (out['tags'] === undefined && !('tags' in options)) delete out['tags']
  return out
}

function bind(value: unknown): unknown {
  if (typeof value !== 'function') return value
  const fn = value as (native: unknown) => unknown
  return (request: HttpRequest) => fn(nativeOf(request))
}

function nativeOf(request: HttpRequest): unknown {
  if (request.native === undefined)
    throw new TypeError(
      'cachewire: a key, tags or privateKey function was called without the framework request'
    )
  return request.native
}

/**
 * A route policy of an adapter, resolved for `engine` once, when the route is built: functions of
 * the framework's request bound, app-only options refused naming `where`, and a private scope
 * refused without a `privateKey` here or on the app.
 *
 * @example
 * ```ts
 * const route = routePolicy(engine, { ttl: '5m', tags: (req) => ['user:' + req.params.id] }, 'responseCache()')
 * ```
 */
export function routePolicy<N>(
  engine: HttpCache,
  options: RouteOptions<N>,
  where: string
): RoutePolicy {
  const route = resolveRoutePolicy(engineRoute(options), where)
  if (
    route.scope === 'private' &&
    route.privateKey === undefined &&
    engine.options.privateKey === undefined
  ) {
    throw new InvalidOptionError(
      'safety.privateKey',
      "a function when safety.scope is 'private' (on the route or the app)",
      undefined
    )
  }
  return route
}

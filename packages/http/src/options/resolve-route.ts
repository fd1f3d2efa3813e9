import { parseDuration } from '@cachewire/core'
import { resolveCdnOptions } from '../cdn/cdn-headers.js'
import {
  ROUTE_POLICY,
  type KeyFunction,
  type PrivateKeyFunction,
  type RoutePolicy,
} from '../types.js'
import { appOnly, KNOWN } from './known-options.js'
import type { RouteOptions } from './types.js'
import {
  cardinalityLimit,
  group,
  headerList,
  optionalBool,
  optionalFunction,
  routeName,
  scopeOption,
  tagsOption,
  window,
} from './validators.js'

/**
 * Validates a per-route policy once, when the route is built; pass the result on every request
 * as `HttpRequest.route` (an adapter's `route()` does). Options that are the app's (storage,
 * freshness, coalesce, observability, clock, etag, `keys.hosts`…) are refused with a message
 * saying where they go; `where` names the app's entry point in that message. Passing an
 * already resolved policy returns it unchanged.
 *
 * @example
 * ```ts
 * import { resolveRoutePolicy } from '@cachewire/http'
 * const route = resolveRoutePolicy({ ttl: '5m', stale: { ifError: '1h' }, tags: ['products'] })
 * const outcome = await engine.respond({ ...request, route }, runHandler)
 * ```
 */
export function resolveRoutePolicy(
  options: RouteOptions | RoutePolicy = {},
  where = 'createHttpCache()'
): RoutePolicy {
  if (typeof options === 'object' && options !== null && ROUTE_POLICY in options) return options
  const moved = appOnly(where)
  const o = group(options as RouteOptions, '', KNOWN.routeTop, moved.top)
  const stale = group(o.stale, 'stale', KNOWN.stale)
  const keys = group(o.keys, 'keys', KNOWN.routeKeys, moved.keys)
  const safety = group(o.safety, 'safety', KNOWN.routeSafety)
  const optionalWindow = (value: unknown, name: string): number | undefined =>
    value === undefined ? undefined : window(value, name, 0)
  let cdn: RoutePolicy['cdn']
  if (o.cdn === false) cdn = false
  else if (o.cdn !== undefined) {
    group(o.cdn, 'cdn', KNOWN.routeCdn, moved.cdn)
    cdn = resolveCdnOptions(o.cdn, 'cdn', KNOWN.routeCdn)
  }
  const scope = scopeOption(safety.scope, 'safety.scope')
  const privateKey = optionalFunction<PrivateKeyFunction>(safety.privateKey, 'safety.privateKey')
  const ignored = headerList(keys.ignoredHeaders, 'keys.ignoredHeaders')
  return Object.freeze({
    [ROUTE_POLICY]: true as const,
    name: routeName(o.name, 'name'),
    ttlMs: o.ttl === undefined ? undefined : parseDuration(o.ttl, 'ttl'),
    tags: tagsOption(o.tags, 'tags'),
    staleWhileRevalidateMs: optionalWindow(stale.whileRevalidate, 'stale.whileRevalidate'),
    staleIfErrorMs: optionalWindow(stale.ifError, 'stale.ifError'),
    key: optionalFunction<KeyFunction>(keys.key, 'keys.key'),
    keyedHeaders: headerList(keys.keyedHeaders, 'keys.keyedHeaders'),
    ignoredHeaders: ignored === undefined ? undefined : new Set(ignored),
    allowCookies: optionalBool(safety.allowCookies, 'safety.allowCookies'),
    shareAuthenticated: optionalBool(safety.shareAuthenticated, 'safety.shareAuthenticated'),
    privateIfCredentialed: optionalBool(
      safety.privateIfCredentialed,
      'safety.privateIfCredentialed'
    ),
    scope,
    privateKey,
    maxKeysPerWindow: cardinalityLimit(safety.maxKeysPerWindow, 'safety.maxKeysPerWindow'),
    cdn,
  })
}

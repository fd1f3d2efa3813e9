import { isDeepStrictEqual } from 'node:util'
import type { FastifyRequest, HTTPMethods } from 'fastify'

/**
 * Makes Fastify's view of the target agree with `request.raw.url` once the kit has removed the
 * query parameters the key ignores from it (so the handler cannot reflect them into a shared
 * entry). The hook runs after routing, and the path is unchanged, so the route stays right:
 * - `request.url` reads `raw.url`, and follows;
 * - `request.originalUrl` is memoised on its first read (the cache read it to key the request):
 *   an own property on the request now holds the rewritten value, and `raw.originalUrl` (where
 *   Fastify's own `rewriteUrl` option keeps the client's target) is rewritten too;
 * - `request.query` was parsed by Fastify's router when it routed the request: the same router
 *   parses it again, through the public `findRoute` (its `searchParams`), so the app's
 *   `querystringParser` (`routerOptions.querystringParser` on Fastify 5) and Fastify 4's `;`
 *   delimiter apply as they did. The built-in `host` and `version` constraints are derived the
 *   way Fastify's routing derives them.
 *
 * Returns `false`, having changed nothing, when Fastify's view cannot be made to follow (the kit
 * then puts the URL back and the request goes around the cache, reason `ignored-param`):
 * - a 404 (the not-found router is not public) or a route under a custom constraint strategy,
 *   which `findRoute` cannot find;
 * - a route with a querystring schema whose query already differs from what the router parsed:
 *   the cache runs after Fastify validated and coerced it (a route's `cache.route()` hook in
 *   `preHandler`), and the validation cannot be run again here. In `onRequest`, Fastify
 *   validates the new query itself, later.
 *
 * A later pass on the same request (the plugin, then a route's own policy) finds it done.
 *
 * @example
 * ```ts
 * // in the binding, after the kit rewrote request.raw.url
 * rewriteFastifyUrl(request, (url) => engine.withoutIgnoredParams(url))
 * ```
 */
export function rewriteFastifyUrl(
  request: FastifyRequest,
  rewrite: (url: string) => string
): boolean {
  const raw = request.raw as FastifyRequest['raw'] & { originalUrl?: unknown }
  const original = request.originalUrl
  const rewritten = rewrite(original)
  if (rewritten === original) return true
  const query = routerQuery(request, raw.url ?? '/')
  if (query === undefined) return false
  // Before the kit rewrote it, `raw.url` was the target the cache keyed, unless Fastify's
  // `rewriteUrl` option changed it (then `raw.originalUrl` is set and the routed URL is gone).
  if (
    hasQuerySchema(request) &&
    (typeof raw.originalUrl === 'string' ||
      !isDeepStrictEqual(request.query, routerQuery(request, original)))
  )
    return false
  if (typeof raw.originalUrl === 'string') raw.originalUrl = rewrite(raw.originalUrl)
  Object.defineProperty(request, 'originalUrl', {
    value: rewritten,
    writable: true,
    configurable: true,
    enumerable: false,
  })
  request.query = query
  return true
}

/** The query Fastify's router parses from `url` for this request's method and constraints; undefined when it finds no route. */
function routerQuery(request: FastifyRequest, url: string): unknown {
  if (request.is404) return undefined
  const constraints: Record<string, string> = {}
  const host = request.raw.headers.host ?? request.raw.headers[':authority']
  if (typeof host === 'string') constraints['host'] = host
  // Set when the app uses the version constraint: the request's Accept-Version.
  const version: unknown = request.routeOptions.version
  if (typeof version === 'string') constraints['version'] = version
  const found = request.server.findRoute({
    method: (request.raw.method ?? 'GET') as HTTPMethods,
    url,
    constraints,
  }) as { searchParams: unknown } | null
  return found === null ? undefined : found.searchParams
}

function hasQuerySchema(request: FastifyRequest): boolean {
  const schema = request.routeOptions.schema as
    { querystring?: unknown; query?: unknown } | undefined
  return schema?.querystring !== undefined || schema?.query !== undefined
}

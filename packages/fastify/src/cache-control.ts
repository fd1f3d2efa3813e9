import {
  cacheControlAtHead,
  resolveCacheControlFields,
  type CacheControlMiddlewareOptions,
} from '@cachewire/http/kit'
import type { CacheHook } from './types.js'

/**
 * Sets Cache-Control (and optionally Surrogate-Control / CDN-Cache-Control) on GET and HEAD
 * responses, for browsers and CDNs, as a hook: app-wide (`app.addHook('onRequest', …)`) or on a
 * route (`{ onRequest: cacheControl(…) }`). The fields go on when the head is written, and only
 * on success, redirect, 404 and 410 responses: a CDN must not keep an error for an hour. A
 * handler's own Cache-Control wins unless `override`. Durations follow the unit rule
 * (`maxAge: '1m'`; `maxAge: 60` is refused as likely seconds).
 *
 * Independent of the server-side cache, and ordered like any Fastify hook: added before the cache
 * plugin, the fields go on every response, hits included, and the server-side cache never sees
 * them (it follows its own `ttl`); added after it (or on a route), the cache reads them like any
 * handler's Cache-Control.
 *
 * @example
 * ```ts
 * import { cacheControl, responseCache } from '@cachewire/fastify'
 *
 * app.addHook('onRequest', cacheControl({ public: true, maxAge: '1m', cdnCacheControl: { maxAge: '10m' } }))
 * await app.register(responseCache({ ttl: '10m' }).plugin)
 * ```
 */
export function cacheControl(options: CacheControlMiddlewareOptions): CacheHook {
  const resolved = resolveCacheControlFields(options)
  return function cacheControl(request, reply, done) {
    const method = request.raw.method
    if (method === 'GET' || method === 'HEAD') cacheControlAtHead(reply.raw, resolved)
    done()
  }
}

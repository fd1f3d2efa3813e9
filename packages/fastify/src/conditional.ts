import {
  conditionalResponse,
  resolveConditionalOptions,
  type ConditionalOptions,
} from '@cachewire/http/kit'
import type { CacheHook } from './types.js'

/**
 * ETags and 304s for GET and HEAD, with or without the server-side cache, as a hook (app-wide
 * with `app.addHook('onRequest', conditional())`, or a route's `onRequest`): the response body is
 * held until it ends (up to `maxBodyBytes`), an ETag is added when it has none (strong by
 * default, over the exact bytes sent), and a matching If-None-Match or If-Modified-Since on a 2xx
 * answer is turned into a 304 with the RFC 9110 §15.4.5 fields: the http package's rules, the
 * same the cache uses for its hits.
 *
 * It sees the bytes Fastify writes, after every onSend hook (compression included). Added before
 * the cache plugin, the cache stores the handler's full response (with the ETag made here) and
 * hits get their 304s from it too. Hooks and handlers behind it do not see If-None-Match /
 * If-Modified-Since. HEAD responses carry no body to hash: their ETag can only come from the
 * handler (or the cache).
 *
 * @example
 * ```ts
 * import { conditional } from '@cachewire/fastify'
 *
 * app.addHook('onRequest', conditional())
 * app.get('/report', async () => 'a,b\n1,2\n') // ETag + 304s
 * ```
 */
export function conditional(options: ConditionalOptions = {}): CacheHook {
  const resolved = resolveConditionalOptions(options)
  return function conditional(request, reply, done) {
    const method = request.raw.method
    if (method !== 'GET' && method !== 'HEAD') return done()
    // A handler (or @fastify/etag) would answer these itself: it runs unconditionally and the
    // decision is made here, on the final response.
    const clientHeaders = request.raw.headers
    if (
      clientHeaders['if-none-match'] !== undefined ||
      clientHeaders['if-modified-since'] !== undefined
    ) {
      const { 'if-none-match': _inm, 'if-modified-since': _ims, ...rest } = clientHeaders
      request.raw.headers = rest
    }
    conditionalResponse(reply.raw, clientHeaders, method, resolved)
    done()
  }
}

import type { Next } from 'koa'
import { InvalidOptionError } from '@cachewire/http'
import { withHelpers, type CacheHandler } from './cache-handler.js'
import { KoaCache } from './koa-cache.js'
import { compilePathRules, type CacheContext, type CacheMiddlewareOptions } from './options.js'

/**
 * Caches responses for a whole app (or a koa-mount'ed sub-app: keys use the full URL). Hits are
 * answered without running later middleware; misses run them and store what they left on
 * `ctx` when RFC 9111 allows a shared cache to. Options are validated here, once: a bad one
 * throws an `InvalidOptionError` naming it.
 *
 * Middleware before it runs on every request, hits included; middleware after it runs only on
 * misses, and what it does to the response (compression, say) is what gets stored.
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import { cacheMiddleware } from '@cachewire/koa'
 *
 * const app = new Koa()
 * app.use(cacheMiddleware({ ttl: '1m', exclude: ['/admin'] }))
 * app.use((ctx) => {
 *   ctx.body = [{ id: 1 }]
 * })
 * app.listen(3000)
 * ```
 */
export function cacheMiddleware(options: CacheMiddlewareOptions = {}): CacheHandler {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  const selects = compilePathRules(options.include, options.exclude)
  const koa = new KoaCache(options)
  const needsRequest = typeof options.key === 'function' || [options.include, options.exclude].flat().some((rule) => typeof rule === 'function')
  // Path and RegExp rules read only the URL, so the front door can apply them to a raw request.
  const front = { needsRequest, selects: selects === undefined ? undefined : (url: string) => selects({ originalUrl: url } as CacheContext) }
  return withHelpers(async function cachewire(ctx: CacheContext, next: Next): Promise<void> {
    if (selects !== undefined && !selects(ctx)) {
      await next()
      return
    }
    await koa.serve(ctx, next)
  }, koa, front)
}

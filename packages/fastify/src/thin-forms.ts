import type { FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'
import { InvalidOptionError } from '@cachewire/http'
import { FASTIFY_VERSIONS, responseCache } from './response-cache.js'
import type { CachePluginOptions } from './types.js'

/**
 * The thin form of `responseCache(options).plugin`: app-wide caching in one registration, with
 * the options Fastify passes to a plugin. The cache is decorated on the instance as
 * `app.responseCache` (`invalidateTags`, `purgeUrl`, `whenIdle`, `close`, `engine`, `cache`), and
 * routes give their policy as `config: { cache: policy }`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { cachePlugin } from '@cachewire/fastify'
 *
 * const app = Fastify()
 * await app.register(cachePlugin, { ttl: '1m', exclude: ['/admin'] })
 * app.get('/products', async () => [{ id: 1 }])
 * await app.listen({ port: 3000 })
 * ```
 */
export const cachePlugin: FastifyPluginCallback<CachePluginOptions> = fp(
  function cachePlugin(fastify, options, done) {
    if (typeof options !== 'object' || options === null)
      return done(new InvalidOptionError('', 'an object', options))
    const { include, exclude, ...rest } = options
    let cache: ReturnType<typeof responseCache>
    try {
      cache = responseCache(rest)
    } catch (error) {
      return done(error as Error)
    }
    cache.plugin(fastify, { include, exclude }, done)
  } as FastifyPluginCallback<CachePluginOptions>,
  { fastify: FASTIFY_VERSIONS, name: '@cachewire/fastify' }
)

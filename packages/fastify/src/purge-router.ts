import type { FastifyPluginCallback } from 'fastify'
import { InvalidOptionError } from '@cachewire/http'
import { createPurgeApi, type PurgeApiOptions } from '@cachewire/http/operations'

/** Options of {@link purgeRouter}: those of the purge API (`@cachewire/http/operations`). */
export type PurgeRouterOptions = PurgeApiOptions

/**
 * A purge API and inspector as an encapsulated Fastify plugin, to register under a prefix of your
 * choosing (nothing is exposed unless you register it). Every route but the inspector page
 * requires `Authorization: Bearer <token>`. `POST /purge/url` `{ url, host? }`, `POST
 * /purge/tags` `{ tags }`, `POST /purge/namespace` `{ namespace }` (add `?dryRun=1` to count
 * without removing), `GET /stats`, `GET /inspector`. Its routes are never cached
 * (`config: { cache: false }`); JSON bodies are read by Fastify's own parser.
 *
 * @example
 * ```ts
 * import { responseCache } from '@cachewire/fastify'
 *
 * const cache = responseCache({ ttl: '1m' })
 * await app.register(cache.plugin)
 * await app.register(cache.purgeRouter({ token: process.env.CACHE_PURGE_TOKEN! }), { prefix: '/_cache' })
 * ```
 */
export function purgeRouter(options: PurgeRouterOptions): FastifyPluginCallback {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  const api = createPurgeApi(options)
  return function cachewirePurgeRouter(fastify, _options, done) {
    fastify.route({
      method: ['GET', 'POST'],
      url: '/*',
      config: { cache: false },
      handler: async (request, reply) => {
        const url = new URL(request.url, 'http://x')
        const answer = await api.handle({
          method: request.raw.method ?? 'GET',
          path: `/${(request.params as { '*'?: string })['*'] ?? ''}`,
          query: url.searchParams,
          authorization: request.headers.authorization,
          ip: request.ip,
          body: request.body,
        })
        return reply.code(answer.status).headers(answer.headers).send(answer.body)
      },
    })
    done()
  }
}

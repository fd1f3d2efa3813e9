import type { CacheHelpers } from '@cachewire/http/kit'
import type { ResponseCache } from './response-cache.js'
import type { CacheRoutePolicy } from './types.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Set by the cache plugin and route hooks for the handlers behind them: `invalidateTags`,
     * `purgeUrl`, `cache`. `null` on a request the cache does not serve.
     */
    cache?: CacheHelpers | null | undefined
  }
  interface FastifyContextConfig {
    /** The route's cache policy on the app's `responseCache` plugin, or `false` to leave the route alone. */
    cache?: CacheRoutePolicy | false | undefined
  }
  interface FastifyInstance {
    /** The app's cache, decorated by its plugin: `invalidateTags`, `purgeUrl`, `whenIdle`, `engine`… */
    responseCache: ResponseCache
  }
}

export type { CacheHelpers }

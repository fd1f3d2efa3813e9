import type { CacheHelpers } from '@cachewire/http'

// The helpers themselves live in @cachewire/http, shared with the other adapter.
export { RequestCache, type CacheHelpers } from '@cachewire/http'

declare module 'koa' {
  interface DefaultContext {
    /** Set by `cacheMiddleware` and `cachedRoute` for the middleware and handlers behind them (also on `ctx.state.cache`). */
    cache?: CacheHelpers | undefined
  }
}

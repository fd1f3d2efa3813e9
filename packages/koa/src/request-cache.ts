import type { CacheHelpers } from '@cachewire/http/kit'

declare module 'koa' {
  interface DefaultContext {
    /** Set by the cache middleware and routes for the middleware and handlers behind them (also on `ctx.state.cache`). */
    cache?: CacheHelpers | undefined
  }
}

export type { CacheHelpers }

import type { CacheHelpers } from '@cachewire/http'

// The helpers themselves live in @cachewire/http, shared with the other adapter.
export { RequestCache, type CacheHelpers } from '@cachewire/http'

declare global {
  // Express's own augmentation point for `req` (used by @types/express for both majors).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `cacheMiddleware` and `cachedRoute` for the handlers behind them. */
      cache?: CacheHelpers | undefined
    }
  }
}

import type { CacheHelpers } from '@cachewire/http/kit'

declare global {
  // Express's own augmentation point for `req` (used by @types/express for both majors).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the cache middleware and routes for the handlers behind them: `invalidateTags`, `purgeUrl`, `cache`. */
      cache?: CacheHelpers | undefined
    }
  }
}

export type { CacheHelpers }

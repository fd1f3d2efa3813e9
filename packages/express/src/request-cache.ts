import type { Cache, HttpCache } from '@cachewire/http'

/**
 * Invalidation helpers a cache middleware puts on `req.cache` for the handlers behind it.
 *
 * @example
 * ```ts
 * app.post('/users/:id', async (req, res) => {
 *   await saveUser(req.params.id, req.body)
 *   await req.cache?.invalidateTags(['user:' + req.params.id])
 *   res.sendStatus(204)
 * })
 * ```
 */
export interface CacheHelpers {
  /** The core cache the responses live in (get/set/delete/stats for application data too). */
  readonly cache: Cache
  /** Removes every stored response filed under any of the tags; resolves how many were removed. */
  invalidateTags(tags: readonly string[]): Promise<number>
  /**
   * Removes every stored response for a URL: all variants, schemes and key-function parts.
   * A path (`'/users/7?full=1'`) is taken on the current request's host; an absolute URL names its own.
   */
  purgeUrl(url: string): Promise<number>
}

/** `req.cache`: the helpers bound to one request's host. */
export class RequestCache implements CacheHelpers {
  readonly #engine: HttpCache
  readonly #host: string

  constructor(engine: HttpCache, host: string) {
    this.#engine = engine
    this.#host = host
  }

  get cache(): Cache {
    return this.#engine.cache
  }

  invalidateTags(tags: readonly string[]): Promise<number> {
    return this.#engine.invalidateTags(tags)
  }

  purgeUrl(url: string): Promise<number> {
    return this.#engine.purgeUrl(url, this.#host)
  }
}

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

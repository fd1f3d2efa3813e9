import type { Cache, InvalidationResult } from '@cachewire/core'
import type { HttpCache } from '../engine/http-cache.js'

/**
 * Invalidation helpers an adapter puts on the request (`req.cache` in Express, `ctx.cache` and
 * `ctx.state.cache` in Koa) for the handlers behind its middleware and routes.
 *
 * @example
 * ```ts
 * await req.cache?.invalidateTags(['user:' + req.params.id])
 * ```
 */
export interface CacheHelpers {
  /** The core cache the responses live in (get/set/delete/stats for application data too). */
  readonly cache: Cache
  /** Removes every stored response filed under any of the tags; resolves what happened (`status`: applied, queued or failed; `removed`). */
  invalidateTags(tags: readonly string[]): Promise<InvalidationResult>
  /**
   * Removes every stored response for a URL: all variants, schemes and key-function parts.
   * A path (`'/users/7?full=1'`) is taken on the current request's host; an absolute URL names its own.
   */
  purgeUrl(url: string): Promise<InvalidationResult>
}

/**
 * The helpers bound to one request's host. The host may be given as a function, read on the
 * first `purgeUrl`: every miss gets helpers and few handlers purge, while reading the host
 * through a framework (Koa's `ctx.host` splits the header) costs as much on every request.
 *
 * @example
 * ```ts
 * req.cache = new RequestCache(engine, 'shop.example.com')
 * ctx.cache = new RequestCache(engine, () => ctx.host)
 * ```
 */
export class RequestCache implements CacheHelpers {
  readonly #engine: HttpCache
  #host: string | (() => string)

  constructor(engine: HttpCache, host: string | (() => string)) {
    this.#engine = engine
    this.#host = host
  }

  get cache(): Cache {
    return this.#engine.cache
  }

  invalidateTags(tags: readonly string[]): Promise<InvalidationResult> {
    return this.#engine.invalidateTags(tags)
  }

  purgeUrl(url: string): Promise<InvalidationResult> {
    if (typeof this.#host === 'function') this.#host = this.#host()
    return this.#engine.purgeUrl(url, this.#host)
  }
}

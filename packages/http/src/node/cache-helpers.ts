import type { Cache } from '@cachewire/core'
import type { HttpCache } from '../engine.js'

/**
 * Invalidation helpers an adapter puts on the request (`req.cache` in Express, `ctx.cache` in
 * Koa) for the handlers behind its middleware.
 *
 * @example
 * ```ts
 * await req.cache?.invalidateTags(['user:' + req.params.id])
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

/**
 * The helpers bound to one request's host.
 *
 * @example
 * ```ts
 * req.cache = new RequestCache(engine, 'shop.example.com')
 * ```
 */
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

/** What an adapter's middleware carries besides being a middleware, for use outside a request. */
export interface MiddlewareHelpers {
  /** The HTTP engine: `engine.observer.stats()`, and what `createPrometheusMetrics` and `purgeRouter` take. */
  readonly engine: HttpCache
  /** The core cache the responses live in. */
  readonly cache: Cache
  /** Removes every stored response filed under any of the tags; resolves how many were removed. */
  invalidateTags(tags: readonly string[]): Promise<number>
  /**
   * Removes every stored response for a URL (all variants and schemes): an absolute URL, or a
   * path with its host (`purgeUrl('/users/7', 'api.example.com')`).
   */
  purgeUrl(url: string, host?: string): Promise<number>
  /** Resolves when background work (cache writes, refreshes) has settled: for tests and shutdown. */
  whenIdle(): Promise<void>
}

/**
 * The helpers of an adapter's middleware, over its engine; `whenIdle` also waits for the
 * adapter's own pending work.
 *
 * @example
 * ```ts
 * Object.assign(middleware, middlewareHelpers(engine, () => adapter.whenIdle()))
 * ```
 */
export function middlewareHelpers(engine: HttpCache, whenIdle: () => Promise<void>): MiddlewareHelpers {
  return {
    engine,
    cache: engine.cache,
    invalidateTags: (tags) => engine.invalidateTags(tags),
    purgeUrl: (url, host) => engine.purgeUrl(url, host),
    whenIdle,
  }
}

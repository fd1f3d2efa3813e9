import type { Cache, InvalidationResult } from '@cachewire/core'
import type { HttpCache } from '../engine/http-cache.js'
import type { ServeLoop } from './serve-loop.js'

/** Where an app keeps its ResponseCache: one per app, shared by every copy of an adapter (ESM, CJS). */
export const RESPONSE_CACHE: unique symbol = Symbol.for('cachewire.response-cache')

/** What every form of an adapter's cache offers outside a request. */
export interface ResponseCacheHelpers {
  /** The HTTP engine: `engine.observer.stats()`, and what `createPrometheusMetrics` takes. */
  readonly engine: HttpCache
  /** The core cache the responses live in (also usable for application data). */
  readonly cache: Cache
  /** Removes every stored response filed under any of the tags; resolves what happened (`status`: applied, queued or failed; `removed`). */
  invalidateTags(tags: readonly string[]): Promise<InvalidationResult>
  /** Removes every stored response for a URL: an absolute URL, or a path with its host. */
  purgeUrl(url: string, host?: string): Promise<InvalidationResult>
  /** Resolves when background work (cache writes, refreshes) has settled: for tests and shutdown. */
  whenIdle(): Promise<void>
  /** Waits for background work, then stops the engine (and closes a store it made). */
  close(): Promise<void>
}

/**
 * The helpers of a serve loop's engine.
 *
 * @example
 * ```ts
 * const self = { ...cacheHelpers(loop), middleware() { … } }
 * ```
 */
export function cacheHelpers(loop: ServeLoop<never, never>): ResponseCacheHelpers {
  const engine = loop.engine
  return {
    engine,
    cache: engine.cache,
    invalidateTags: (tags) => engine.invalidateTags(tags),
    purgeUrl: (url, host) => engine.purgeUrl(url, host),
    whenIdle: () => loop.whenIdle(),
    close: () => loop.close(),
  }
}

/**
 * A named middleware function with its cache's helpers on it (the thin form's middleware).
 *
 * @example
 * ```ts
 * return withHelpers(function cachewire(req, res, next) { … }, self)
 * ```
 */
export function withHelpers<F extends object>(
  middleware: F,
  helpers: ResponseCacheHelpers
): F & ResponseCacheHelpers {
  const { engine, cache, invalidateTags, purgeUrl, whenIdle, close } = helpers
  return Object.assign(middleware, { engine, cache, invalidateTags, purgeUrl, whenIdle, close })
}

/**
 * The ResponseCache registered on an app, registering `offered` when there is none (the first to
 * meet an app wins); with no `offered`, makes one with `create` when there is none.
 *
 * @example
 * ```ts
 * const cache = appCache(ctx.app, undefined, () => responseCache())
 * ```
 */
export function appCache<C>(app: object, offered: C | undefined, create?: () => C): C | undefined {
  const holder = app as Record<symbol, unknown>
  const existing = holder[RESPONSE_CACHE] as C | undefined
  if (existing !== undefined) return existing
  const made = offered ?? create?.()
  if (made !== undefined) holder[RESPONSE_CACHE] = made
  return made
}

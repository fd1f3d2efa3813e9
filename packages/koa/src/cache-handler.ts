import type { Middleware } from 'koa'
import type { Cache, HttpCache } from '@cachewire/http'
import type { KoaCache } from './koa-cache.js'
import type { CacheContext } from './options.js'

/** What `cacheFront` needs from a middleware: its engine and whether its rules need the Koa context. */
export interface FrontDoorInfo {
  engine: HttpCache
  /** Include/exclude over the URL, when the rules are paths and RegExps only. */
  selects: ((url: string) => boolean) | undefined
  /** A key function or a function rule: only the middleware can serve such requests. */
  needsRequest: boolean
}

export const kFrontDoor: unique symbol = Symbol('cachewire.koa.front-door')

/** A cache middleware, plus the invalidation helpers of its cache for use outside a request. */
export interface CacheHandler extends Middleware {
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
  /** @internal read by `cacheFront` */
  readonly [kFrontDoor]: FrontDoorInfo
}

/** Gives a named middleware function its helpers. */
export function withHelpers(
  middleware: (ctx: CacheContext, next: () => Promise<unknown>) => Promise<void>,
  koa: KoaCache,
  front?: Omit<FrontDoorInfo, 'engine'>
): CacheHandler {
  const engine = koa.engine
  return Object.assign(middleware, {
    [kFrontDoor]: { engine, selects: front?.selects, needsRequest: front?.needsRequest ?? true },
    engine,
    cache: engine.cache,
    invalidateTags: (tags: readonly string[]) => engine.invalidateTags(tags),
    purgeUrl: (url: string, host?: string) => engine.purgeUrl(url, host),
    whenIdle: () => koa.whenIdle(),
  }) as CacheHandler
}

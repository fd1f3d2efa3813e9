import type { Middleware } from 'koa'
import { middlewareHelpers, type HttpCache, type MiddlewareHelpers } from '@cachewire/http'
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
export interface CacheHandler extends Middleware, MiddlewareHelpers {
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
    ...middlewareHelpers(engine, () => koa.whenIdle()),
  }) as CacheHandler
}

import type { NextFunction, Request, Response } from 'express'
import { middlewareHelpers, type HttpCache, type MiddlewareHelpers } from '@cachewire/http'
import type { ExpressCache } from './express-cache.js'

/**
 * An Express middleware. Generic in the route parameters, so that in
 * `app.get('/users/:id', middleware, handler)` the handler's `req.params.id` keeps its type.
 */
export interface Middleware {
  <P>(req: Request<P>, res: Response, next: NextFunction): void
}

/** What `cacheFront` needs from a middleware: its engine and whether its rules need the Express request. */
export interface FrontDoorInfo {
  engine: HttpCache
  /** Include/exclude over the URL, when the rules are paths and RegExps only. */
  selects: ((url: string) => boolean) | undefined
  /** A key function or a function rule: only the middleware can serve such requests. */
  needsRequest: boolean
}

export const kFrontDoor: unique symbol = Symbol('cachewire.express.front-door')

/** A cache middleware, plus the invalidation helpers of its cache for use outside a request. */
export interface CacheHandler extends Middleware, MiddlewareHelpers {
  /** @internal read by `cacheFront` */
  readonly [kFrontDoor]: FrontDoorInfo
}

/** Gives a named middleware function its helpers. */
export function withHelpers(
  middleware: (req: Request, res: Response, next: NextFunction) => void,
  express: ExpressCache,
  front?: Omit<FrontDoorInfo, 'engine'>
): CacheHandler {
  const engine = express.engine
  return Object.assign(middleware, {
    [kFrontDoor]: { engine, selects: front?.selects, needsRequest: front?.needsRequest ?? true },
    ...middlewareHelpers(engine, () => express.whenIdle()),
  }) as unknown as CacheHandler
}

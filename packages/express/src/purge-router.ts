import type { NextFunction, Request, Response } from 'express'
import { createPurgeApi, InvalidOptionError, readJsonBody, type HttpCache, type PurgeApiOptions } from '@cachewire/http'

/** Options of {@link purgeRouter}: those of the shared purge API, with the engine taken from a middleware if given. */
export interface PurgeRouterOptions extends Omit<PurgeApiOptions, 'engine'> {
  /** The engine to purge. Give this or `middleware`. */
  engine?: HttpCache | undefined
  /** A `cacheMiddleware()` / `cachedRoute()` whose engine to purge. */
  middleware?: { readonly engine: HttpCache } | undefined
}

/** Largest JSON body read from a purge request. */
const MAX_BODY_BYTES = 64 * 1024

/**
 * A purge API and inspector to mount under a path of your choosing (nothing is exposed unless you
 * mount it). Every route but the inspector page requires `Authorization: Bearer <token>`.
 * `POST /purge/url` `{ url, host? }`, `POST /purge/tags` `{ tags }`, `POST /purge/namespace`
 * `{ namespace }` (add `?dryRun=1` to count without removing), `GET /stats`, `GET /inspector`.
 *
 * @example
 * ```ts
 * import { cacheMiddleware, purgeRouter } from '@cachewire/express'
 *
 * const cache = cacheMiddleware({ ttl: '1m' })
 * app.use('/_cache', purgeRouter({ middleware: cache, token: process.env.CACHE_PURGE_TOKEN! }))
 * app.use(cache)
 * ```
 */
export function purgeRouter(options: PurgeRouterOptions): (req: Request, res: Response, next: NextFunction) => void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  const { middleware, engine, ...rest } = options
  const api = createPurgeApi({ ...rest, engine: (engine ?? middleware?.engine) as HttpCache })
  return function cachewirePurge(req: Request, res: Response, next: NextFunction): void {
    const url = new URL(req.url, 'http://x')
    readBody(req)
      .then((body) =>
        api.handle({
          method: req.method,
          path: url.pathname,
          query: url.searchParams,
          authorization: req.headers.authorization,
          ip: req.ip ?? req.socket.remoteAddress,
          body,
        })
      )
      .then((answer) => {
        res.status(answer.status).set(answer.headers).send(answer.body)
      })
      .catch(next)
  }
}

async function readBody(req: Request): Promise<unknown> {
  // A body parser mounted before us has already read it.
  if (req.body !== undefined) return req.body
  if (req.method !== 'POST' || !/json/i.test(req.headers['content-type'] ?? '')) return undefined
  return readJsonBody(req as AsyncIterable<Buffer>, MAX_BODY_BYTES)
}

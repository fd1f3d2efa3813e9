import type { NextFunction, Request, Response } from 'express'
import { InvalidOptionError } from '@cachewire/http'
import { createPurgeApi, readJsonBody, type PurgeApiOptions } from '@cachewire/http/operations'

/** Options of {@link purgeRouter}: those of the purge API (`@cachewire/http/operations`). */
export type PurgeRouterOptions = PurgeApiOptions

/** Largest JSON body read from a purge request. */
const MAX_BODY_BYTES = 64 * 1024

/**
 * A purge API and inspector to mount under a path of your choosing (nothing is exposed unless you
 * mount it). Every route but the inspector page requires `Authorization: Bearer <token>`.
 * `POST /purge/url` `{ url, host? }`, `POST /purge/tags` `{ tags }`, `POST /purge/namespace`
 * `{ namespace }` (add `?dryRun=1` to count without removing), `GET /stats`, `GET /health`, `GET /inspector`.
 *
 * @example
 * ```ts
 * import { responseCache } from '@cachewire/express'
 *
 * const cache = responseCache({ ttl: '1m' })
 * app.use('/_cache', cache.purgeRouter({ token: process.env.CACHE_PURGE_TOKEN! }))
 * app.use(cache.middleware())
 * ```
 */
export function purgeRouter(
  options: PurgeRouterOptions
): (req: Request, res: Response, next: NextFunction) => void {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  const api = createPurgeApi(options)
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

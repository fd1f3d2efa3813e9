import type { Context, Middleware, Next } from 'koa'
import { InvalidOptionError } from '@cachewire/http'
import { createPurgeApi, readJsonBody, type PurgeApiOptions } from '@cachewire/http/operations'

/** Options of {@link purgeRouter}: those of the purge API (`@cachewire/http/operations`), and where it lives. */
export interface PurgeRouterOptions extends PurgeApiOptions {
  /** Where the routes live (Koa has no mounting). @default '/_cache' */
  prefix?: string | undefined
}

/** Largest JSON body read from a purge request. */
const MAX_BODY_BYTES = 64 * 1024

/**
 * A purge API and inspector under `prefix` (nothing is exposed unless you add it). Every route
 * but the inspector page requires `Authorization: Bearer <token>`. `POST /purge/url`
 * `{ url, host? }`, `POST /purge/tags` `{ tags }`, `POST /purge/namespace` `{ namespace }` (add
 * `?dryRun=1` to count without removing), `GET /stats`, `GET /health`, `GET /inspector`.
 *
 * @example
 * ```ts
 * import { responseCache } from '@cachewire/koa'
 *
 * const cache = responseCache({ ttl: '1m' })
 * app.use(cache.purgeRouter({ token: process.env.CACHE_PURGE_TOKEN!, prefix: '/_cache' }))
 * app.use(cache.middleware())
 * ```
 */
export function purgeRouter(options: PurgeRouterOptions): Middleware {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  const { prefix = '/_cache', ...rest } = options
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || prefix.endsWith('/')) {
    throw new InvalidOptionError(
      'prefix',
      "a path starting with '/' and not ending with one",
      prefix
    )
  }
  const api = createPurgeApi(rest)
  return async function cachewirePurge(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== prefix && !ctx.path.startsWith(prefix + '/')) return next()
    const answer = await api.handle({
      method: ctx.method,
      path: ctx.path.slice(prefix.length) || '/',
      query: new URLSearchParams(ctx.querystring),
      authorization: ctx.get('authorization') || undefined,
      ip: ctx.ip,
      body: await readBody(ctx),
    })
    ctx.status = answer.status
    ctx.set(answer.headers)
    ctx.body = answer.body
  }
}

async function readBody(ctx: Context): Promise<unknown> {
  // A body parser mounted before us has already read it.
  const parsed = (ctx.request as { body?: unknown }).body
  if (parsed !== undefined) return parsed
  if (ctx.method !== 'POST' || !ctx.is('json')) return undefined
  return readJsonBody(ctx.req as AsyncIterable<Buffer>, MAX_BODY_BYTES)
}

import type { Next } from 'koa'
import { isNotModified } from '@cachewire/http'
import {
  etagFor,
  resolveConditionalOptions,
  toNotModified,
  type ConditionalOptions,
} from '@cachewire/http/kit'
import { holdBody, settleBody } from './capture.js'
import type { CacheContext } from './types.js'

/**
 * ETags and 304s for GET and HEAD, with or without the server-side cache: once the middleware
 * after it has answered, the body (a stream is read up to `maxBodyBytes`) gets an ETag when it has
 * none (strong by default, over the exact bytes Koa will send), and a matching If-None-Match or
 * If-Modified-Since on a 2xx answer is turned into a 304 with the RFC 9110 §15.4.5 fields. The
 * rules are the http package's (`isNotModified`), the same the cache uses for its hits.
 *
 * Put it where the bytes it should hash are: before `koa-compress` (outside it) it sees the
 * compressed bytes, after it the identity ones. Before `cacheMiddleware`, the ETag it makes for
 * a miss is the one the cache stores (both hash the same bytes the same way), and hits keep
 * theirs. A HEAD response gets the ETag its GET would have, from the body the handler set.
 * Middleware behind it does not see If-None-Match / If-Modified-Since (so `ctx.fresh` is false).
 *
 * @example
 * ```ts
 * import { conditional } from '@cachewire/koa'
 *
 * app.use(conditional())
 * app.use((ctx) => {
 *   ctx.body = 'a,b\n1,2\n' // ETag + 304s
 * })
 * ```
 */
export function conditional(
  options: ConditionalOptions = {}
): (ctx: CacheContext, next: Next) => Promise<void> {
  const { etag: mode, maxBodyBytes } = resolveConditionalOptions(options)

  return async function conditional(ctx: CacheContext, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      await next()
      return
    }
    // A handler (or koa-conditional-get behind us) would answer these itself, with its own ETag:
    // it runs unconditionally and the decision is made here, on the final response.
    const clientHeaders = ctx.req.headers
    if (
      clientHeaders['if-none-match'] !== undefined ||
      clientHeaders['if-modified-since'] !== undefined
    ) {
      const { 'if-none-match': _inm, 'if-modified-since': _ims, ...rest } = clientHeaders
      ctx.req.headers = rest
    }
    try {
      await next()
    } finally {
      ctx.req.headers = clientHeaders
    }
    if (ctx.respond === false || ctx.headerSent) return
    const status = ctx.status
    if (
      mode !== false &&
      status >= 200 &&
      status <= 299 &&
      status !== 204 &&
      status !== 206 &&
      !ctx.res.hasHeader('etag')
    ) {
      const body = settleBody(ctx)
      const bytes = body.bytes ?? (await holdBody(ctx, body.stream, maxBodyBytes))
      const etag = bytes === undefined ? undefined : etagFor(status, undefined, bytes, mode)
      if (etag !== undefined) ctx.set('ETag', etag)
    }
    const validators = {
      status,
      etag: header(ctx, 'etag'),
      lastModified: header(ctx, 'last-modified'),
    }
    if (!isNotModified(clientHeaders, validators, Date.now())) return
    toNotModified(ctx.res)
    // Koa drops the body of a 304 (and destroys a stream body).
    ctx.status = 304
  }
}

function header(ctx: CacheContext, name: string): string | undefined {
  const value = ctx.res.getHeader(name)
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

import type { Next } from 'koa'
import { generateEtag, InvalidOptionError, isNotModified, notModifiedHeaders } from '@cachewire/http'
import { holdBody, settleBody, snapshotHeaders } from './capture.js'
import type { CacheContext } from './options.js'

/** Options of {@link conditional}. */
export interface ConditionalOptions {
  /** ETag made for 2xx bodies that have none. @default 'strong' */
  etag?: 'strong' | 'weak' | false | undefined
  /**
   * Largest body held to compute an ETag, in bytes. A larger stream body streams through as it
   * comes, answered 304 only on validators the handler set itself. @default 1_048_576
   */
  maxBodySize?: number | undefined
}

/**
 * ETags and 304s for GET and HEAD, with or without the server-side cache: once the middleware
 * after it has answered, the body (a stream is read up to `maxBodySize`) gets an ETag when it has
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
export function conditional(options: ConditionalOptions = {}): (ctx: CacheContext, next: Next) => Promise<void> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  const mode = options.etag ?? 'strong'
  if (mode !== 'strong' && mode !== 'weak' && mode !== false) throw new InvalidOptionError('etag', '"strong", "weak" or false', mode)
  const maxBodySize = options.maxBodySize ?? 1_048_576
  if (!Number.isSafeInteger(maxBodySize) || maxBodySize < 0) {
    throw new InvalidOptionError('maxBodySize', 'a non-negative integer', options.maxBodySize)
  }

  return async function conditional(ctx: CacheContext, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      await next()
      return
    }
    // A handler (or koa-conditional-get behind us) would answer these itself, with its own ETag:
    // it runs unconditionally and the decision is made here, on the final response.
    const clientHeaders = ctx.req.headers
    if (clientHeaders['if-none-match'] !== undefined || clientHeaders['if-modified-since'] !== undefined) {
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
    if (mode !== false && status >= 200 && status <= 299 && status !== 204 && status !== 206 && !ctx.res.hasHeader('etag')) {
      const body = settleBody(ctx)
      const bytes = body.bytes ?? (await holdBody(ctx, body.stream, maxBodySize))
      if (bytes !== undefined) ctx.set('ETag', generateEtag(bytes, mode))
    }
    const validators = { status, etag: header(ctx, 'etag'), lastModified: header(ctx, 'last-modified') }
    if (!isNotModified(clientHeaders, validators)) return
    const keep = new Set(notModifiedHeaders(snapshotHeaders(ctx.res)).map(([name]) => name))
    for (const name of ctx.res.getHeaderNames()) if (!keep.has(name)) ctx.res.removeHeader(name)
    // Koa drops the body of a 304 (and destroys a stream body).
    ctx.status = 304
  }
}

function header(ctx: CacheContext, name: string): string | undefined {
  const value = ctx.res.getHeader(name)
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

import type { ServerResponse } from 'node:http'
import type { NextFunction, Request, Response } from 'express'
import { formatCacheControlField as format, InvalidOptionError, type CacheControlOptions } from '@cachewire/http'
import type { Middleware } from './cache-handler.js'
import { foldWriteHeadArguments } from './capture.js'

/** Options of {@link cacheControl}: Cache-Control directives (seconds, as on the wire) and the CDN fields. */
export interface CacheControlMiddlewareOptions extends CacheControlOptions {
  /** `Surrogate-Control` for CDNs that read it (Fastly, Akamai): directives or a ready value. @default none */
  surrogateControl?: CacheControlOptions | string | undefined
  /** `CDN-Cache-Control` (RFC 9213), read by CDNs instead of Cache-Control. @default none */
  cdnCacheControl?: CacheControlOptions | string | undefined
  /** Replace fields the handler set itself. @default false: a handler's own Cache-Control wins */
  override?: boolean | undefined
}

/**
 * Sets Cache-Control (and optionally Surrogate-Control / CDN-Cache-Control) on GET and HEAD
 * responses, for browsers and CDNs. The fields go on when the head is written, and only on
 * success, redirect, 404 and 410 responses: a CDN must not keep an error for an hour.
 *
 * Independent of the server-side cache: placed before `cacheMiddleware`, the fields are added
 * to every response, hits included, and the server-side cache never sees them (it follows its
 * own `ttl`); placed after it, the cache reads them like any handler's Cache-Control.
 *
 * @example
 * ```ts
 * import { cacheControl, cacheMiddleware } from '@cachewire/express'
 *
 * app.use(cacheControl({ public: true, maxAge: 60, cdnCacheControl: { maxAge: 600 } }))
 * app.use(cacheMiddleware({ ttl: '10m' }))
 * ```
 */
export function cacheControl(options: CacheControlMiddlewareOptions): Middleware {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  const { surrogateControl, cdnCacheControl, override, ...directives } = options
  const fields: Array<[string, string]> = []
  const own = format(directives, '')
  if (own !== '') fields.push(['cache-control', own])
  if (surrogateControl !== undefined) fields.push(['surrogate-control', format(surrogateControl, 'surrogateControl.')])
  if (cdnCacheControl !== undefined) fields.push(['cdn-cache-control', format(cdnCacheControl, 'cdnCacheControl.')])
  if (override !== undefined && typeof override !== 'boolean') throw new InvalidOptionError('override', 'a boolean', override)
  if (fields.length === 0) throw new InvalidOptionError('', 'at least one directive', options)
  const replace = override === true

  return function cacheControl(req: Request<unknown>, response: Response, next: NextFunction): void {
    const res: ServerResponse = response
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next()
      return
    }
    const original = res.writeHead
    res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]): ServerResponse {
      if (this.headersSent) return Reflect.apply(original, this, args) as ServerResponse
      const { status, reason } = foldWriteHeadArguments(this, args)
      if (appliesTo(status)) {
        for (const [name, value] of fields) if (replace || !this.hasHeader(name)) this.setHeader(name, value)
      }
      return Reflect.apply(original, this, reason === undefined ? [status] : [status, reason]) as ServerResponse
    } as ServerResponse['writeHead']
    next()
  }
}

/** 2xx, 3xx (304 included: it must repeat Cache-Control, RFC 9110 §15.4.5), 404 and 410. */
function appliesTo(status: number): boolean {
  return (status >= 200 && status < 400) || status === 404 || status === 410
}

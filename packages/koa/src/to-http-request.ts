import type { HttpRequest } from '@cachewire/http'
import type { CacheContext } from './options.js'

/**
 * Translates a Koa context into the engine's neutral request.
 *
 * - `url` is `ctx.originalUrl`, so a cache behind koa-mount keys on the full path, not the part
 *   left after the mount point.
 * - `host` is `ctx.host`: the Host (or, with `app.proxy`, the first X-Forwarded-Host) with its
 *   port, so `localhost:3000` and `localhost:3001` never share entries.
 * - `protocol` is `ctx.protocol`, which honours `app.proxy` for X-Forwarded-Proto.
 * - `forwarded` names those two fields under `app.proxy`: they are keyed through `host` and
 *   `protocol`, so they do not bypass as unkeyed headers.
 *
 * @example
 * ```ts
 * const request = toHttpRequest(ctx) // { method: 'GET', url: '/api/users?page=2', host: 'example.com:8080', protocol: 'http', headers }
 * ```
 */
export function toHttpRequest(ctx: CacheContext): HttpRequest {
  return {
    method: ctx.method,
    url: ctx.originalUrl,
    headers: ctx.req.headers,
    host: ctx.host,
    protocol: ctx.protocol === 'https' ? 'https' : 'http',
    forwarded: ctx.app.proxy ? APPLIED_FORWARDED_HEADERS : undefined,
  }
}

/** What Koa reads under `app.proxy`: X-Forwarded-Host (host) and X-Forwarded-Proto (protocol). */
const APPLIED_FORWARDED_HEADERS: readonly string[] = Object.freeze(['x-forwarded-host', 'x-forwarded-proto'])

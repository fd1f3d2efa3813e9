import type { Request } from 'express'
import type { HttpRequest, RoutePolicy } from '@cachewire/http'

/**
 * Translates an Express request into the engine's neutral request.
 *
 * - `url` is `req.originalUrl`, so a cache on a Router or a mounted sub-app keys on the full
 *   path, not the part left after the mount point.
 * - `host` is the Host (or, behind a trusted proxy, the first X-Forwarded-Host) with its port,
 *   chosen with the app's own `trust proxy` function, so `localhost:3000` and `localhost:3001`
 *   never share entries. Express 4's `req.host` and both majors' `req.hostname` drop the port.
 * - `protocol` is `req.protocol`, which honours `trust proxy` for X-Forwarded-Proto.
 * - `forwarded` names those two fields when `trust proxy` trusts the peer: they are keyed through
 *   `host` and `protocol`, so they do not bypass as unkeyed headers.
 *
 * @example
 * ```ts
 * const request = toHttpRequest(req) // { method: 'GET', url: '/api/users?page=2', host: 'example.com:8080', protocol: 'http', headers }
 * ```
 */
export function toHttpRequest(req: Request, route?: RoutePolicy): HttpRequest {
  return {
    method: req.method,
    url: req.originalUrl,
    headers: req.headers,
    host: requestHost(req),
    protocol: req.protocol === 'https' ? 'https' : 'http',
    route,
    forwarded: trustsProxy(req) ? APPLIED_FORWARDED_HEADERS : undefined,
  }
}

/** What Express reads under `trust proxy`: X-Forwarded-Host (host) and X-Forwarded-Proto (protocol). */
const APPLIED_FORWARDED_HEADERS: readonly string[] = Object.freeze(['x-forwarded-host', 'x-forwarded-proto'])

/** Whether Express applies forwarded fields to this request (its `trust proxy` trusts the peer). */
function trustsProxy(req: Request): boolean {
  const trust = req.app?.get('trust proxy fn') as ((address: string | undefined, hop: number) => boolean) | undefined
  return trust !== undefined && trust(req.socket?.remoteAddress, 0)
}

/** Express 5's `req.host` (host and port, trust proxy honoured), written out so Express 4 gets it too. */
export function requestHost(req: Request): string {
  const trust = req.app?.get('trust proxy fn') as ((address: string | undefined, hop: number) => boolean) | undefined
  let host = header(req, 'x-forwarded-host')
  if (host === undefined || trust === undefined || !trust(req.socket?.remoteAddress, 0)) {
    host = header(req, 'host')
  } else if (host.includes(',')) {
    host = host.slice(0, host.indexOf(',')).trimEnd()
  }
  return host ?? ''
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name]
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined || first === '' ? undefined : first
}

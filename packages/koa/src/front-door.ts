import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { createFrontDoor, InvalidOptionError, type HttpRequest } from '@cachewire/http'
import { kFrontDoor, type CacheHandler } from './cache-handler.js'

/** A Koa app's request listener (`app.callback()`), or the app itself. */
export type KoaListener = ((req: IncomingMessage, res: ServerResponse) => unknown) | { callback(): (req: IncomingMessage, res: ServerResponse) => unknown; proxy?: boolean }

export interface CacheFrontOptions {
  /** The app's `cacheMiddleware(...)`: its engine, keys and rules are the front door's. */
  middleware: CacheHandler
  /**
   * Trust X-Forwarded-Host and X-Forwarded-Proto, as Koa does with `app.proxy`. Must match the
   * app's setting, or front-door keys differ from the middleware's (and it only ever misses).
   * @default app.proxy when the app is given, else false
   */
  proxy?: boolean
}

/**
 * A `node:http` listener that answers fresh hits (and 304s) before Koa sees the request, and
 * hands everything else to the app, whose `cacheMiddleware` stores what it may.
 *
 * Limits: only an app-wide `cacheMiddleware` can have a front door; one whose `key` function or
 * include/exclude functions need the Koa context cannot (this throws), and `cachedRoute` entries
 * are answered by their middleware only. Middleware before the cache does not run for front-door hits.
 *
 * @example
 * ```ts
 * import http from 'node:http'
 * import Koa from 'koa'
 * import { cacheMiddleware, cacheFront } from '@cachewire/koa'
 *
 * const app = new Koa()
 * const middleware = cacheMiddleware({ ttl: '1m' })
 * app.use(middleware)
 * app.use((ctx) => { ctx.body = [{ id: 1 }] })
 * http.createServer(cacheFront(app.callback(), { middleware })).listen(3000)
 * ```
 */
export function cacheFront(app: KoaListener, options: CacheFrontOptions): RequestListener {
  const listener = typeof app === 'function' ? app : typeof app?.callback === 'function' ? app.callback() : undefined
  if (listener === undefined) throw new InvalidOptionError('app', 'a Koa app or app.callback()', app)
  const front = options?.middleware?.[kFrontDoor]
  if (front === undefined) throw new InvalidOptionError('middleware', 'a middleware made by cacheMiddleware()', options?.middleware)
  if (front.needsRequest) {
    throw new InvalidOptionError('middleware', 'a cacheMiddleware whose key and include/exclude rules need no Koa context (keep such routes behind the middleware alone)', 'functions of ctx')
  }
  const proxy = options.proxy ?? (typeof app === 'function' ? false : app.proxy === true)
  if (typeof proxy !== 'boolean') throw new InvalidOptionError('proxy', 'a boolean', proxy)
  const toRequest = (req: IncomingMessage): HttpRequest | undefined => {
    const url = req.url ?? '/'
    if (front.selects !== undefined && !front.selects(url)) return undefined
    return { method: req.method as string, url, headers: req.headers, host: koaHost(req, proxy), protocol: koaProtocol(req, proxy) }
  }
  return createFrontDoor(front.engine, { toRequest, next: (req, res) => void listener(req, res) })
}

/** Koa's `ctx.host`: X-Forwarded-Host under `proxy`, else :authority (HTTP/2) or Host; the first of a list. */
function koaHost(req: IncomingMessage, proxy: boolean): string {
  let host = proxy ? first(req.headers['x-forwarded-host']) : undefined
  if (host === undefined && req.httpVersionMajor >= 2) host = first(req.headers[':authority'])
  host ??= first(req.headers.host)
  return host === undefined ? '' : (host.split(',')[0] ?? '').trim()
}

/** Koa's `ctx.protocol`. */
function koaProtocol(req: IncomingMessage, proxy: boolean): 'http' | 'https' {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return 'https'
  if (!proxy) return 'http'
  const forwarded = first(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim()
  return forwarded === 'https' ? 'https' : 'http'
}

function first(value: string | string[] | undefined): string | undefined {
  const one = Array.isArray(value) ? value[0] : value
  return one === undefined || one === '' ? undefined : one
}


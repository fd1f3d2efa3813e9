import type { IncomingMessage, RequestListener } from 'node:http'
import type { Request } from 'express'
import { createFrontDoor, InvalidOptionError, type HttpRequest } from '@cachewire/http'
import { kFrontDoor, type CacheHandler } from './cache-handler.js'
import { requestHost } from './to-http-request.js'

/** An Express app as a Node listener, with the settings the front door reads (`trust proxy`). */
export type ExpressListener = RequestListener & { get(setting: string): unknown }

export interface CacheFrontOptions {
  /** The app's `cacheMiddleware(...)`: its engine, keys and rules are the front door's. */
  middleware: CacheHandler
}

/**
 * A `node:http` listener that answers fresh hits (and 304s) before Express sees the request,
 * and hands everything else to the app, whose `cacheMiddleware` stores what it may.
 *
 * Limits: only an app-wide `cacheMiddleware` can have a front door; one whose `key` function or
 * include/exclude functions need the Express request cannot (this throws), and per-route
 * `cachedRoute` entries are answered by their middleware only. Middleware placed before the cache
 * (logging, auth) does not run for front-door hits.
 *
 * @example
 * ```ts
 * import http from 'node:http'
 * import express from 'express'
 * import { cacheMiddleware, cacheFront } from '@cachewire/express'
 *
 * const app = express()
 * const middleware = cacheMiddleware({ ttl: '1m' })
 * app.use(middleware)
 * app.get('/products', (req, res) => res.json([{ id: 1 }]))
 * http.createServer(cacheFront(app, { middleware })).listen(3000)
 * ```
 */
export function cacheFront(app: ExpressListener, options: CacheFrontOptions): RequestListener {
  if (typeof app !== 'function' || typeof app.get !== 'function') throw new InvalidOptionError('app', 'an Express application', app)
  const front = options?.middleware?.[kFrontDoor]
  if (front === undefined) throw new InvalidOptionError('middleware', 'a middleware made by cacheMiddleware()', options?.middleware)
  if (front.needsRequest) {
    throw new InvalidOptionError('middleware', 'a cacheMiddleware whose key and include/exclude rules need no Express request (keep such routes behind the middleware alone)', 'functions of req')
  }
  const toRequest = (req: IncomingMessage): HttpRequest | undefined => {
    const url = req.url ?? '/'
    if (front.selects !== undefined && !front.selects(url)) return undefined
    // The same host and protocol the middleware derives, under the app's own `trust proxy`.
    const shim = { headers: req.headers, socket: req.socket, app } as unknown as Request
    return { method: req.method as string, url, headers: req.headers, host: requestHost(shim), protocol: requestProtocol(shim) }
  }
  return createFrontDoor(front.engine, { toRequest, next: app })
}

/** Express's `req.protocol`, for a request Express has not seen yet. */
function requestProtocol(req: Request): 'http' | 'https' {
  const socket = req.socket as { encrypted?: boolean; remoteAddress?: string } | undefined
  const own = socket?.encrypted === true ? 'https' : 'http'
  const trust = req.app.get('trust proxy fn') as ((address: string | undefined, hop: number) => boolean) | undefined
  if (trust === undefined || !trust(socket?.remoteAddress, 0)) return own
  const forwarded = req.headers['x-forwarded-proto']
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim()
  return first === 'https' ? 'https' : first === 'http' ? 'http' : own
}

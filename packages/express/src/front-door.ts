import type { IncomingMessage, RequestListener } from 'node:http'
import type { Request } from 'express'
import { InvalidOptionError, type HttpCache, type HttpRequest } from '@cachewire/http'
import { compilePathRules, createFrontDoor } from '@cachewire/http/kit'
import { hostOf, protocolOf, trustsProxy } from './binding.js'
import type { PathRules } from './types.js'

/** An Express app as a Node listener, with the settings the front door reads (`trust proxy`). */
export type ExpressListener = RequestListener & { get(setting: string): unknown }

/**
 * A `node:http` listener that answers fresh hits (and 304s) before Express sees the request,
 * under the app's key policy: entries of the app's middleware and of routes that keep the app's
 * key are answered here; a route with a key of its own is answered by its route. Everything else
 * goes to the app. Middleware placed before the cache (logging, auth) does not run for these hits.
 * Refused (at build time) when the key needs the Express request: an app-level `keys.key` or
 * private scope, or a function path rule.
 */
export function frontDoor(
  engine: HttpCache,
  app: ExpressListener,
  rules: PathRules | undefined
): RequestListener {
  if (typeof app !== 'function' || typeof app.get !== 'function')
    throw new InvalidOptionError('app', 'an Express application', app)
  const selected = compilePathRules<Request>(rules)
  if (engine.options.key !== undefined) throw needsRequest('keys.key')
  if (engine.options.scope === 'private') throw needsRequest('safety.privateKey')
  if (selected?.needsNative === true) throw needsRequest('include')
  const toRequest = (req: IncomingMessage): HttpRequest | undefined => {
    const url = req.url ?? '/'
    if (selected !== undefined && !selected.selects(url, undefined)) return undefined
    // The same host and protocol the middleware derives, under the app's own `trust proxy`.
    const shim = { headers: req.headers, socket: req.socket, app } as unknown as Request
    const trusted = trustsProxy(shim)
    return {
      method: req.method as string,
      url,
      headers: req.headers,
      host: hostOf(shim, trusted),
      protocol: protocolOf(shim, trusted),
    }
  }
  return createFrontDoor(engine, { toRequest, next: app })
}

function needsRequest(option: string): InvalidOptionError {
  return new InvalidOptionError(
    option,
    'free of functions of the Express request for a front door (keep such apps behind cache.middleware() alone)',
    'a function of req'
  )
}

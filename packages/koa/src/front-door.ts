import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { InvalidOptionError, type HttpCache, type HttpRequest } from '@cachewire/http'
import { compilePathRules, createFrontDoor } from '@cachewire/http/kit'
import type { CacheContext, PathRules } from './types.js'

/** A Koa app (whose `proxy` setting the front door follows), or its `app.callback()`. */
export type KoaListener =
  | ((req: IncomingMessage, res: ServerResponse) => unknown)
  | { callback(): (req: IncomingMessage, res: ServerResponse) => unknown; proxy?: boolean }

/**
 * A `node:http` listener that answers fresh hits (and 304s) before Koa sees the request, under
 * the app's key policy: entries of the app's middleware and of routes that keep the app's key are
 * answered here; a route with a key of its own is answered by its route. Everything else goes to
 * the app. Middleware before the cache does not run for these hits. Give the app itself, so its
 * `proxy` setting applies (a bare `app.callback()` is taken as `proxy: false`). Refused (at build
 * time) when the key needs the Koa context: an app-level `keys.key` or private scope, or a
 * function path rule.
 */
export function frontDoor(
  engine: HttpCache,
  app: KoaListener,
  rules: PathRules | undefined
): RequestListener {
  const listener =
    typeof app === 'function'
      ? app
      : typeof app?.callback === 'function'
        ? app.callback()
        : undefined
  if (listener === undefined)
    throw new InvalidOptionError('app', 'a Koa app or app.callback()', app)
  const selected = compilePathRules<CacheContext>(rules)
  if (engine.options.key !== undefined) throw needsContext('keys.key')
  if (engine.options.scope === 'private') throw needsContext('safety.privateKey')
  if (selected?.needsNative === true) throw needsContext('include')
  const proxy = typeof app === 'function' ? false : app.proxy === true
  const toRequest = (req: IncomingMessage): HttpRequest | undefined => {
    const url = req.url ?? '/'
    if (selected !== undefined && !selected.selects(url, undefined)) return undefined
    return {
      method: req.method as string,
      url,
      headers: req.headers,
      host: koaHost(req, proxy),
      protocol: koaProtocol(req, proxy),
    }
  }
  return createFrontDoor(engine, { toRequest, next: (req, res) => void listener(req, res) })
}

function needsContext(option: string): InvalidOptionError {
  return new InvalidOptionError(
    option,
    'free of functions of the Koa context for a front door (keep such apps behind cache.middleware() alone)',
    'a function of ctx'
  )
}

/** Koa's `ctx.host`: X-Forwarded-Host under `proxy`, else :authority (HTTP/2) or Host; the first of a list. */
function koaHost(req: IncomingMessage, proxy: boolean): string {
  let host = proxy ? first(req.headers['x-forwarded-host']) : undefined
  if (host === undefined && req.httpVersionMajor >= 2) host = first(req.headers[':authority'])
  host ??= first(req.headers.host)
  if (host === undefined) return ''
  // Not `split(',')[0]`: a Host of one name (every request but a forwarded list) then allocates nothing.
  const comma = host.indexOf(',')
  return (comma === -1 ? host : host.slice(0, comma)).trim()
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

import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http'
import https from 'node:https'
import type { FastifyInstance, FastifyRequest, FastifyServerFactory } from 'fastify'
import { InvalidOptionError, type HttpCache, type HttpRequest } from '@cachewire/http'
import { compilePathRules, createFrontDoor } from '@cachewire/http/kit'
import type { PathRules } from './types.js'

/**
 * A `node:http` listener that answers fresh hits (and 304s) before Fastify sees the request,
 * under the app's key policy: entries of the plugin and of routes that keep the app's key are
 * answered here; everything else goes to `next` (Fastify's handler) untouched. Hooks (logging,
 * authentication) do not run for these hits, and Fastify's onResponse hooks do not either.
 *
 * Host and protocol are what Fastify derives without a proxy (Host, the socket). A request that
 * carries X-Forwarded-Host or X-Forwarded-Proto is left to Fastify, whose `trustProxy` decides
 * what they mean (the engine bypasses such a request here, as an unkeyed header, because the
 * front door does not claim to apply them): behind a proxy that sets them on every request, the
 * front door answers nothing and the plugin does all the caching. Refused (at build time) when the
 * key needs the Fastify request: an app-level `keys.key` or private scope, or a function path rule.
 */
function frontDoorListener(
  engine: HttpCache,
  rules: PathRules | undefined,
  next: (req: IncomingMessage, res: ServerResponse) => void
): RequestListener {
  const selected = compilePathRules<FastifyRequest>(rules)
  if (engine.options.key !== undefined) throw needsRequest('keys.key')
  if (engine.options.scope === 'private') throw needsRequest('safety.privateKey')
  if (selected?.needsNative === true) throw needsRequest('include')
  const toRequest = (req: IncomingMessage): HttpRequest | undefined => {
    const url = req.url ?? '/'
    if (selected !== undefined && !selected.selects(url, undefined)) return undefined
    const host = first(req.headers.host) ?? first(req.headers[':authority']) ?? ''
    const protocol = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http'
    return { method: req.method ?? 'GET', url, headers: req.headers, host, protocol }
  }
  return createFrontDoor(engine, { toRequest, next })
}

/**
 * The front door in front of a Fastify app's `routing` (Fastify's own request handler). The app
 * boots on the first request the front door passes on, if it has not yet.
 */
export function frontDoor(
  engine: HttpCache,
  app: FastifyInstance,
  rules: PathRules | undefined
): RequestListener {
  if (
    typeof app !== 'object' ||
    app === null ||
    typeof (app as { routing?: unknown }).routing !== 'function' ||
    typeof app.ready !== 'function'
  ) {
    throw new InvalidOptionError('app', 'a Fastify instance', app)
  }
  let booted: Promise<void> | undefined
  let ready = false
  const next = (req: IncomingMessage, res: ServerResponse): void => {
    if (ready) return app.routing(req, res)
    booted ??= Promise.resolve(app.ready()).then(() => {
      ready = true
    })
    booted.then(
      () => app.routing(req, res),
      () => {
        res.statusCode = 500
        res.end()
      }
    )
  }
  return frontDoorListener(engine, rules, next)
}

/**
 * The front door as a Fastify `serverFactory`: the server Fastify would make (HTTP or HTTPS, with
 * its timeouts), with the front door in front of Fastify's handler. HTTP/2 is refused.
 */
export function serverFactory(
  engine: HttpCache,
  rules: PathRules | undefined
): FastifyServerFactory {
  // Validated now, not when Fastify calls the factory.
  frontDoorListener(engine, rules, () => {})
  return function cachewireServerFactory(handler, options) {
    const opts = options as FactoryOptions
    if (opts.http2 === true)
      throw new InvalidOptionError(
        'http2',
        'off for the cachewire front door (it serves HTTP/1.1 and HTTPS)',
        true
      )
    const listener = frontDoorListener(
      engine,
      rules,
      handler as unknown as (req: IncomingMessage, res: ServerResponse) => void
    )
    const httpsOptions = opts.https === true ? {} : opts.https
    const server = httpsOptions
      ? https.createServer(httpsOptions, listener)
      : http.createServer(opts.http ?? {}, listener)
    if (typeof opts.keepAliveTimeout === 'number') server.keepAliveTimeout = opts.keepAliveTimeout
    if (typeof opts.requestTimeout === 'number') server.requestTimeout = opts.requestTimeout
    if (typeof opts.connectionTimeout === 'number') server.setTimeout(opts.connectionTimeout)
    if (typeof opts.maxRequestsPerSocket === 'number' && opts.maxRequestsPerSocket > 0)
      server.maxRequestsPerSocket = opts.maxRequestsPerSocket
    return server as never
  }
}

/** The Fastify options a server factory reads (Fastify passes all of them). */
interface FactoryOptions {
  http?: http.ServerOptions | null
  https?: https.ServerOptions | true | null
  http2?: boolean
  keepAliveTimeout?: number
  requestTimeout?: number
  connectionTimeout?: number
  maxRequestsPerSocket?: number
}

function needsRequest(option: string): InvalidOptionError {
  return new InvalidOptionError(
    option,
    'free of functions of the Fastify request for a front door (keep such apps behind cache.plugin alone)',
    'a function of request'
  )
}

function first(value: string | string[] | undefined): string | undefined {
  const one = Array.isArray(value) ? value[0] : value
  return one === undefined || one === '' ? undefined : one
}

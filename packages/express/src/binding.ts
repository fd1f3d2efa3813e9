import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Application, Request, Response } from 'express'
import type { HttpCache, HttpRequest } from '@cachewire/http'
import { bufferResponse, captureLive, sendReply, type FrameworkBinding } from '@cachewire/http/kit'
import type { Downstream } from './types.js'

const EMPTY_BODY: Buffer = Buffer.alloc(0)

/**
 * Express's side of the kit's serve loop: how a request looks to the engine, how a reply is
 * written, and how the rest of the stack runs live under a capture or buffered. No caching rule
 * lives here.
 */
export function expressBinding(engine: HttpCache): FrameworkBinding<Request, Downstream> {
  return {
    req: (req) => req,
    toRequest,
    host: requestHost,
    expose(req, helpers) {
      req.cache = helpers
    },
    proceed: run,
    // Straight to the socket (`sendReply`): Express's `res.send` machinery and later middleware
    // never run; headers set earlier (X-Powered-By, middleware before the cache) stay unless the
    // reply has the same name.
    write: (req, reply) => sendReply(response(req), reply),
    live(req, outcome, downstream, pass, finish) {
      const capture = captureLive(response(req), {
        onHead: (status, headers) => outcome.patch(status, headers),
        captureBody: outcome.captureBody,
        maxBodyBytes: outcome.maxBodyBytes,
        onDone: (captured) => finish(captured),
        // Read-your-writes: a stored response is in the store before it ends.
        storeBeforeEnd: outcome.storeBeforeEnd,
        // Read-your-writes: a POST's invalidation is done before its response ends.
        holdEnd: outcome.invalidateBeforeEnd
          ? (head, end) =>
              void finish({
                status: head.status,
                headers: head.headers,
                body: EMPTY_BODY,
                complete: true,
              }).then(end, end)
          : undefined,
      })
      pass.onRelease = () => capture.passThrough()
      run(req, downstream)
    },
    async buffered(req, _origin, downstream) {
      const buffer = bufferResponse(response(req), { resetHead: true })
      try {
        run(req, {
          handler: downstream.handler,
          next: (error?: unknown) => {
            // A wrapped handler's error stands for the failure itself (stale-if-error may answer);
            // route middleware passes it on, and the app's error handler answers into the buffer.
            if (
              error === undefined ||
              error === null ||
              error === 'route' ||
              error === 'router' ||
              downstream.handler === undefined
            )
              downstream.next(error as undefined)
            else buffer.fail(error)
          },
        })
        const { status, headers, body } = await buffer.result
        return { status, headers, body, complete: true }
      } finally {
        buffer.restore()
      }
    },
    refreshed(req, pending, downstream) {
      captureLive(response(req), {
        captureBody: true,
        maxBodyBytes: engine.options.maxEntryBytes,
        onDone: (captured) => {
          if (captured === undefined)
            pending.reject(new Error(`the refresh of ${req.originalUrl} did not complete`))
          else pending.resolve(captured)
        },
      })
      run(req, downstream)
    },
    listener: rootApp,
    rewriteUrl,
    fail(req, error, downstream) {
      const res = response(req)
      if (!res.headersSent && !res.destroyed) downstream.next(error)
    },
  }
}

/**
 * Translates an Express request into the engine's neutral request.
 *
 * - `url` is `req.originalUrl`, so a cache on a Router or a mounted sub-app keys on the full
 *   path, not the part left after the mount point.
 * - `host` is the Host (or, behind a trusted proxy, the first X-Forwarded-Host) with its port,
 *   chosen with the app's own `trust proxy` function, so `localhost:3000` and `localhost:3001`
 *   never share entries.
 * - `protocol` is `req.protocol`, which honours `trust proxy` for X-Forwarded-Proto.
 * - `forwarded` names those two fields when `trust proxy` trusts the peer: they are keyed through
 *   `host` and `protocol`, so they do not bypass as unkeyed headers.
 */
function toRequest(req: Request, route: HttpRequest['route']): HttpRequest {
  // The app's trust function is asked once per request, not once per derived value.
  const trusted = trustsProxy(req)
  return {
    method: req.method,
    url: req.originalUrl,
    headers: req.headers,
    host: hostOf(req, trusted),
    // Express's own getter: what the app reads is what the key holds. For a peer it does not
    // trust, that getter answers the connection's own scheme, read here without asking the
    // trust function a second time.
    protocol: trusted
      ? req.protocol === 'https'
        ? 'https'
        : 'http'
      : (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true
        ? 'https'
        : 'http',
    route,
    forwarded: trusted ? APPLIED_FORWARDED_HEADERS : undefined,
    native: req,
  }
}

/** What Express reads under `trust proxy`: X-Forwarded-Host (host) and X-Forwarded-Proto (protocol). */
const APPLIED_FORWARDED_HEADERS: readonly string[] = Object.freeze([
  'x-forwarded-host',
  'x-forwarded-proto',
])

export function trustsProxy(req: Request): boolean {
  const trust = req.app?.get('trust proxy fn') as
    ((address: string | undefined, hop: number) => boolean) | undefined
  return trust !== undefined && trust(req.socket?.remoteAddress, 0)
}

/**
 * Makes Express's view of the target agree with `req.url` once the kit has rewritten it (query
 * parameters the key ignores removed, so the handler cannot reflect them into a shared entry):
 * - `req.originalUrl`, set once when the app first saw the request;
 * - `req.query`: Express 4's `query` middleware parsed it into a plain property before any app
 *   middleware ran, so it is parsed again with the app's own `query parser fn`; Express 5 derives
 *   it from `req.url` on every read (a prototype getter), which needs nothing, unless an app
 *   replaced it with a plain property of its own, which is parsed again too;
 * - `req.path`, `req._parsedUrl` and `req._parsedOriginalUrl` follow (`parseurl` re-parses when
 *   the URL it cached is not the current one).
 */
function rewriteUrl(req: Request, rewrite: (url: string) => string): void {
  req.originalUrl = rewrite(req.originalUrl)
  const own = Object.getOwnPropertyDescriptor(req, 'query')
  if (own !== undefined && 'value' in own && own.writable === true) {
    const parse = req.app?.get('query parser fn') as ((query: string) => unknown) | undefined
    const url = req.url
    const question = url.indexOf('?')
    ;(req as { query: unknown }).query =
      typeof parse === 'function' ? parse(question === -1 ? '' : url.slice(question + 1)) : {}
  }
}

/** Express 5's `req.host` (host and port, trust proxy honoured), written out so Express 4 gets it too. */
export function requestHost(req: Request): string {
  return hostOf(req, trustsProxy(req))
}

/** Express's `req.protocol`, for a request Express has not seen yet (the front door). */
export function requestProtocol(req: Request): 'http' | 'https' {
  return protocolOf(req, trustsProxy(req))
}

/** `requestHost`, `trusted` being what the app's `trust proxy` says of the peer. */
export function hostOf(req: Request, trusted: boolean): string {
  let host = trusted ? header(req, 'x-forwarded-host') : undefined
  if (host === undefined) host = header(req, 'host')
  else if (host.includes(',')) host = host.slice(0, host.indexOf(',')).trimEnd()
  return host ?? ''
}

/** `requestProtocol`, `trusted` being what the app's `trust proxy` says of the peer. */
export function protocolOf(req: Request, trusted: boolean): 'http' | 'https' {
  const own =
    (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true ? 'https' : 'http'
  if (!trusted) return own
  const first = header(req, 'x-forwarded-proto')?.split(',')[0]?.trim()
  return first === 'https' ? 'https' : first === 'http' ? 'http' : own
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name]
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined || first === '' ? undefined : first
}

/** Runs what comes after the cache the Express way: a wrapped handler's throw or rejection goes to `next`. */
function run(req: Request, downstream: Downstream): void {
  const { handler, next } = downstream
  if (handler === undefined) {
    next()
    return
  }
  try {
    const result: unknown = handler(req, req.res as Response, next)
    if (result instanceof Promise) result.catch(next)
  } catch (error) {
    next(error)
  }
}

function response(req: Request): ServerResponse {
  return req.res as ServerResponse
}

/** The outermost app, so a synthetic request passes every middleware a client's request would. */
export function rootApp(req: Request): (req: IncomingMessage, res: ServerResponse) => void {
  return outermost(req.app) as unknown as (req: IncomingMessage, res: ServerResponse) => void
}

/** An app's outermost parent (a mounted sub-app's mounting app). */
export function outermost(app: Application): Application {
  let root = app
  while ((root as Application & { parent?: Application }).parent !== undefined)
    root = (root as Application & { parent: Application }).parent
  return root
}

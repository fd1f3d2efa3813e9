import type { HttpRequest, CapturedResponse, ForwardOutcome, ReplyOutcome } from '@cachewire/http'
import {
  applyPatch,
  bufferResponse,
  capBody,
  errorStatus,
  onResponseDone,
  sendReply,
  setReplyHeaders,
  type FrameworkBinding,
  type HeaderPair,
  type ResponsePatch,
} from '@cachewire/http/kit'
import { readBody, responseHead, settleBody, teeBody, type CapturedBody } from './capture.js'
import type { CacheContext, Downstream } from './types.js'

const EMPTY_BODY: Buffer = Buffer.alloc(0)
/** What a pass that captures no body hands on: one settled promise for every such response. */
const NOTHING_CAPTURED: Promise<CapturedBody> = Promise.resolve(
  Object.freeze({ body: EMPTY_BODY, complete: true })
)

/**
 * Koa's side of the kit's serve loop: how a context looks to the engine, how a reply is set on
 * it, and how the rest of the stack runs live (the body it leaves on `ctx` is captured) or into
 * memory. No caching rule lives here.
 */
export function koaBinding(): FrameworkBinding<CacheContext, Downstream> {
  const buffered = async (
    ctx: CacheContext,
    downstream: Downstream
  ): Promise<CapturedResponse & { headers: HeaderPair[]; body: Buffer }> => {
    const buffer = bufferResponse(ctx.res, { resetHead: true })
    try {
      await run(ctx, downstream)
      if (ctx.respond === false) {
        // Written to ctx.res directly: hand it on, but as incomplete, so it is never stored.
        const written = await buffer.result
        ctx.respond = true
        return { ...written, complete: false }
      }
      const body = settleBody(ctx)
      const status = ctx.status
      const headers = responseHead(ctx)
      const bytes = body.bytes ?? (await readBody(ctx, body.stream, Infinity)).body
      return { status, headers, body: bytes, complete: true }
    } finally {
      // The engine's answer starts from the response as it was before the handler ran.
      buffer.restore()
    }
  }
  return {
    req: (ctx) => ctx.req,
    toRequest,
    host: (ctx) => ctx.host,
    expose(ctx, helpers) {
      ctx.cache = helpers
      ;(ctx.state as Record<string, unknown>).cache = helpers
    },
    proceed: run,
    write: writeReply,
    async live(ctx, outcome, downstream, pass, finish) {
      try {
        await run(ctx, downstream)
      } catch (error) {
        if (!pass.superseded) {
          void finish(undefined)
          markError(error, outcome)
        }
        throw error
      } finally {
        // Middleware before the cache sees the client's request again.
        ctx.req.headers = pass.clientHeaders
      }
      if (!pass.superseded) await captureContext(ctx, outcome, finish)
    },
    buffered: (ctx, _origin, downstream) => buffered(ctx, downstream),
    async refreshed(ctx, pending, downstream) {
      let captured: Awaited<ReturnType<typeof buffered>>
      try {
        captured = await buffered(ctx, downstream)
      } catch (error) {
        pending.reject(error instanceof Error ? error : new Error(String(error)))
        throw error
      }
      pending.resolve(captured)
      // The synthetic response ends like any other, for whatever middleware sits before the cache.
      writeReply(ctx, {
        kind: 'response',
        status: captured.status,
        headers: captured.headers,
        body: captured.body,
      })
    },
    listener: (ctx) => ctx.app.callback(),
    rewriteUrl,
    fail(_ctx, error) {
      // Rejected by the handler in a buffered run, with no stale response to stand in: up the stack, as without the cache.
      throw error
    },
  }

  /** What the rest of the stack left on `ctx`, reported to the engine; the engine's patch applied for Koa to send. */
  async function captureContext(
    ctx: CacheContext,
    outcome: ForwardOutcome,
    finish: (captured: CapturedResponse | undefined) => Promise<void>
  ): Promise<void> {
    if (ctx.respond === false) {
      // The handler wrote to ctx.res itself: pass it through, never store it.
      onResponseDone(ctx.res, (sent) => {
        void finish(
          sent
            ? {
                status: ctx.res.statusCode,
                headers: responseHead(ctx),
                body: EMPTY_BODY,
                complete: false,
              }
            : undefined
        )
      })
      return
    }
    const body = outcome.captureBody ? settleBody(ctx) : undefined
    const status = ctx.status
    const headers = responseHead(ctx)
    if (body?.bytes !== undefined && outcome.storeBeforeEnd) {
      // Read-your-writes: a body in memory is stored before Koa sends it, and the head then says
      // whether the store took it.
      // Field by field, not a spread: every stored miss comes here, and V8 (Node 20) copies a
      // spread through its runtime.
      const captured = capBody(body.bytes, outcome.maxBodyBytes)
      await finish({ status, headers, body: captured.body, complete: captured.complete })
      patchContext(ctx, outcome.patch(status, headers))
      return
    }
    const patch = outcome.patch(status, headers)
    let copy: Promise<CapturedBody | undefined> = NOTHING_CAPTURED
    if (patch.captureBody && body?.bytes !== undefined) {
      copy = Promise.resolve(capBody(body.bytes, outcome.maxBodyBytes))
    } else if (
      patch.captureBody &&
      body?.stream !== undefined &&
      patch.omitBody &&
      !ctx.headerSent
    ) {
      // A 304 sends no body, yet the entry needs it: read it (up to the cap) before Koa ends the response.
      try {
        copy = Promise.resolve(await readBody(ctx, body.stream, outcome.maxBodyBytes))
      } catch (error) {
        void finish(undefined)
        markError(error, outcome)
        throw error
      }
    } else if (patch.captureBody && body?.stream !== undefined) {
      copy = teeBody(ctx, body.stream, outcome.maxBodyBytes)
    }
    patchContext(ctx, patch)
    const respond = (captured: CapturedBody | undefined): CapturedResponse | undefined =>
      captured === undefined
        ? undefined
        : { status, headers, body: captured.body, complete: captured.complete }
    if (outcome.invalidateBeforeEnd) {
      // Read-your-writes: an unsafe request's invalidation is done before Koa sends its response.
      await finish(respond(await copy))
      return
    }
    onResponseDone(ctx.res, (sent) => {
      if (!sent) void finish(undefined)
      else void copy.then((captured) => finish(respond(captured)))
    })
  }
}

/**
 * Translates a Koa context into the engine's neutral request: `ctx.originalUrl` (a cache behind
 * koa-mount keys on the full path), `ctx.host` with its port, `ctx.protocol` (both under
 * `app.proxy`), and under `app.proxy` the forwarded fields Koa applied, which are keyed through
 * host and protocol and so do not bypass as unkeyed headers.
 */
function toRequest(ctx: CacheContext, route: HttpRequest['route']): HttpRequest {
  // Read on `ctx.request`, whose getters `ctx.method`, `ctx.host` and `ctx.protocol` delegate to.
  const request = ctx.request
  return {
    method: request.method,
    url: ctx.originalUrl,
    headers: ctx.req.headers,
    host: hostOf(ctx),
    protocol: request.protocol === 'https' ? 'https' : 'http',
    route,
    forwarded: ctx.app.proxy ? APPLIED_FORWARDED_HEADERS : undefined,
    native: ctx,
  }
}

/**
 * `ctx.host` without Koa's getter on the usual request: HTTP/1, `app.proxy` off, and a Host of
 * one name without userinfo or surrounding space, which Koa returns as it is (Koa 2 and 3 take
 * the first of a comma list and trim it; Koa 2.16 and 3.3 parse userinfo away). The getter reads
 * the field through `ctx.get` and splits it into a list of one each time (callgrind, Koa
 * middleware hit: 94.9 k → 92.9 k instructions). Anything else, and an app whose `app.request`
 * (or an earlier middleware, on `ctx.request`) defines its own `host`, is asked through the
 * getter, so the key always follows the host the handler sees.
 */
function hostOf(ctx: CacheContext): string {
  const req = ctx.req
  const host = req.headers.host
  if (
    host === undefined ||
    req.httpVersionMajor >= 2 ||
    ctx.app.proxy ||
    !readsKoaHost(ctx) ||
    host.includes(',') ||
    host.includes('@') ||
    host.trim() !== host
  )
    return ctx.request.host
  return host
}

/**
 * Per `app.request`: whether its `host` is Koa's own getter, not one the app defined. Looked at on
 * the app's first request through the cache: apps extend `app.request` before they serve.
 */
const KOA_HOST_GETTER = new WeakMap<object, boolean>()

function readsKoaHost(ctx: CacheContext): boolean {
  const base: object = ctx.app.request
  let own = KOA_HOST_GETTER.get(base)
  if (own === undefined) {
    // Koa makes `app.request` from its request prototype, which holds the getter.
    const koaRequest: unknown = Object.getPrototypeOf(base)
    own =
      !Object.hasOwn(base, 'host') &&
      typeof koaRequest === 'object' &&
      koaRequest !== null &&
      Object.hasOwn(koaRequest, 'host')
    KOA_HOST_GETTER.set(base, own)
  }
  return own && !Object.hasOwn(ctx.request, 'host')
}

/**
 * Makes Koa's view of the target agree with `ctx.req.url` once the kit has rewritten it (query
 * parameters the key ignores removed, so the handler cannot reflect them into a shared entry):
 * `ctx.originalUrl` and `ctx.request.originalUrl` are plain copies taken when the context was
 * made, and `ctx.request.URL` is memoised on first read; `ctx.url`, `ctx.path`, `ctx.querystring`,
 * `ctx.search` and `ctx.query` are read from `ctx.req.url` (the query cache is keyed by the
 * query string), so they follow. koa-mount and routers set `ctx.path`, which keeps the query.
 */
function rewriteUrl(ctx: CacheContext, rewrite: (url: string) => string): void {
  const original = rewrite(ctx.originalUrl)
  ctx.originalUrl = original
  ;(ctx.request as { originalUrl: string }).originalUrl = original
  delete (ctx.request as { memoizedURL?: unknown }).memoizedURL
}

/** What Koa reads under `app.proxy`: X-Forwarded-Host (host) and X-Forwarded-Proto (protocol). */
const APPLIED_FORWARDED_HEADERS: readonly string[] = Object.freeze([
  'x-forwarded-host',
  'x-forwarded-proto',
])

function run(ctx: CacheContext, downstream: Downstream): Promise<void> {
  return Promise.resolve(
    downstream.handler === undefined ? downstream.next() : downstream.handler(ctx, downstream.next)
  ).then(() => undefined)
}

/**
 * Sets a reply on `ctx` for Koa's `respond` to send: the status, the body as a Buffer, and the
 * stored lines exactly (a repeated name is appended, never overwritten). Koa derives a
 * Content-Type and a Content-Length from a Buffer body: the stored Content-Type is on the response
 * before the body is set, so a stored `text/css` never turns into `application/octet-stream`, and
 * the Content-Length Koa sets is checked against the stored one after, so a HEAD keeps the full
 * body's. Headers set earlier (by middleware before the cache) stay unless the reply has the same
 * name. Later middleware never runs.
 */
function writeReply(ctx: CacheContext, reply: ReplyOutcome, downstream?: Downstream): void {
  const res = ctx.res
  if (downstream?.first === true && ctx.respond !== false) {
    writeFirst(ctx, reply)
    return
  }
  // Koa's own setters, on `ctx.response` itself: `ctx.status` and `ctx.body` only delegate there,
  // through a keyed store that goes the slow way on every hit.
  const response = ctx.response
  response.status = reply.status
  res.removeHeader('content-type')
  // Content-Length is left to Koa's body setter, which sets it from the body anyway.
  const { contentLength } = setReplyHeaders(res, reply.headers, 'content-length')
  // With Content-Type already on the response, Koa's body setter skips its MIME lookup.
  response.body = reply.body
  // Koa set Content-Length from the body it was given; the stored one describes the full
  // representation (a HEAD's body is empty), or, when none was stored, there should be none.
  // A full GET's is the same value as Koa's, and is set once (Koa 3 sets it as a number).
  if (contentLength === undefined) res.removeHeader('content-length')
  else if (String(res.getHeader('content-length')) !== contentLength)
    res.setHeader('content-length', contentLength)
}

/**
 * Writes a reply of the app's first middleware straight to the socket, as the Express and Fastify
 * bindings do (`sendReply`): Koa's `respond` is told to stay out (`ctx.respond = false`), and its
 * body and header setters, which nothing after the cache would read, are skipped. HEAD and 304
 * replies lose their body in Node, as they do through Koa.
 */
function writeFirst(ctx: CacheContext, reply: ReplyOutcome): void {
  ctx.respond = false
  sendReply(ctx.res, reply)
}

/** The engine's patch on a live response whose head Koa has yet to write (a 304 drops the body, as Koa does). */
function patchContext(ctx: CacheContext, patch: ResponsePatch): void {
  if (ctx.headerSent) return
  if (patch.status !== ctx.status) ctx.status = patch.status
  applyPatch(ctx.res, patch)
}

/**
 * Koa's error response starts from no headers but `err.headers` (the way @koa/cors keeps its
 * fields on errors): Cache-Status rides there, so an error says how it passed the cache, as any
 * other response does. The status is the one Koa's `ctx.onerror` will send.
 */
function markError(error: unknown, outcome: ForwardOutcome): void {
  if (typeof error !== 'object' || error === null || !Object.isExtensible(error)) return
  const e = error as { headers?: unknown }
  const headers: Record<string, unknown> =
    typeof e.headers === 'object' && e.headers !== null ? { ...e.headers } : {}
  try {
    for (const [name, value] of outcome.patch(errorStatus(error), []).set)
      if (!(name in headers)) headers[name] = value
    e.headers = headers
  } catch {
    // A read-only `headers` (a frozen error class field): the error goes on without our field.
  }
}

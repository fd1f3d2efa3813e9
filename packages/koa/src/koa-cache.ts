import type { Middleware, Next } from 'koa'
import {
  createHttpCache,
  type CapturedResponse,
  type ForwardOutcome,
  type HeaderPair,
  type HttpCache,
  type OriginRequest,
  type Outcome,
  type RunHandler,
  Refresher,
  REFRESH_HEADER,
  type PendingRefresh,
  NEEDS_STORE,
  SAFE_METHODS,
} from '@cachewire/http'
import { bufferResponse } from './buffer-response.js'
import { onResponseDone, readBody, responseHead, settleBody, teeBody, type CapturedBody } from './capture.js'
import { kKoaContext, toEngineOptions, type CacheContext, type KoaCacheOptions, type KoaHttpRequest } from './options.js'
import { RequestCache } from './request-cache.js'
import { toHttpRequest } from './to-http-request.js'
import { applyPatch, writeResponse } from './write-response.js'

/** A buffered run of the rest of the stack, as the engine's `runHandler` resolves it. */
interface BufferedRun extends CapturedResponse {
  headers: HeaderPair[]
  body: Buffer
}

const EMPTY_BODY: Buffer = Buffer.alloc(0)

/**
 * One engine and the Koa plumbing around it, shared by `cacheMiddleware` and `cachedRoute`:
 * translate the context, ask the engine, then write its answer, run the rest of the stack live
 * and capture `ctx.body`, or run it buffered for a revalidation. No caching rule lives here.
 */
export class KoaCache {
  readonly engine: HttpCache
  readonly #refresher = new Refresher()
  readonly #handler: Middleware | undefined
  /** Store writes and invalidations started by `finish`, for `whenIdle`. */
  readonly #finishing = new Set<Promise<void>>()

  constructor(options: KoaCacheOptions, handler?: Middleware) {
    this.engine = createHttpCache(toEngineOptions(options))
    this.#handler = handler
  }

  /** Resolves when every `finish` and the engine's background work (refreshes) have settled. */
  async whenIdle(): Promise<void> {
    while (this.#finishing.size > 0) await Promise.allSettled([...this.#finishing])
    await this.engine.whenIdle()
  }

  async serve(ctx: CacheContext, next: Next): Promise<void> {
    const token = ctx.req.headers[REFRESH_HEADER]
    if (token !== undefined) {
      const pending = this.#refresher.claim(token)
      if (pending !== undefined) return this.#runRefresh(ctx, next, pending)
    }
    const request: KoaHttpRequest = toHttpRequest(ctx)
    request[kKoaContext] = ctx
    // A fresh hit (or 304) the store can answer in this tick needs none of `handle`'s promise work.
    const reply = this.engine.lookupSync(request)
    if (reply !== undefined && reply !== NEEDS_STORE) {
      writeResponse(ctx, reply)
      return
    }
    const runHandler: RunHandler = (origin) => this.#runBuffered(ctx, next, origin)
    const refresh: RunHandler = (origin) => this.#refresher.dispatch(ctx.app.callback(), origin, ctx.req.socket?.remoteAddress)
    // Rejects only with what the handler threw in a buffered run, when no stale response may
    // stand in: it goes up the middleware stack as it would have without the cache.
    const outcome: Outcome = await this.engine.handle(request, runHandler, refresh)
    if (outcome.kind === 'miss' || outcome.kind === 'bypass') return this.#runLive(ctx, next, outcome)
    writeResponse(ctx, outcome)
  }

  /** The rest of the stack runs as usual; what it left on `ctx` is reported to the engine. */
  async #runLive(ctx: CacheContext, next: Next, outcome: ForwardOutcome): Promise<void> {
    const clientHeaders = ctx.req.headers
    // A conditional the handler (or koa-conditional-get behind us) answered itself would
    // become the stored entry: the handler sees the request without it.
    if (outcome.requestHeaders !== clientHeaders) ctx.req.headers = { ...outcome.requestHeaders }
    this.#expose(ctx)
    try {
      await this.#next(ctx, next)
    } catch (error) {
      void this.#finish(outcome, undefined)
      markError(error, outcome)
      throw error
    } finally {
      // Middleware before the cache sees the client's request again.
      ctx.req.headers = clientHeaders
    }

    if (ctx.respond === false) {
      // The handler wrote to ctx.res itself: pass it through, never store it.
      onResponseDone(ctx.res, (sent) => {
        const head = { status: ctx.res.statusCode, headers: responseHead(ctx), body: EMPTY_BODY, complete: false }
        void this.#finish(outcome, sent ? head : undefined)
      })
      return
    }

    let copy: Promise<CapturedBody | undefined> = Promise.resolve({ body: EMPTY_BODY, complete: true })
    const body = outcome.captureBody ? settleBody(ctx) : undefined
    const status = ctx.status
    const headers: HeaderPair[] = responseHead(ctx)
    const patch = outcome.patch(status, headers)
    if (body?.bytes !== undefined) {
      copy = Promise.resolve(
        body.bytes.length <= outcome.maxBodyBytes ? { body: body.bytes, complete: true } : { body: EMPTY_BODY, complete: false }
      )
    } else if (body?.stream !== undefined && patch.omitBody && !ctx.headerSent) {
      // A 304 sends no body, yet the entry needs it: read it (up to the cap) before Koa ends the response.
      try {
        copy = Promise.resolve(await readBody(ctx, body.stream, outcome.maxBodyBytes))
      } catch (error) {
        void this.#finish(outcome, undefined)
        markError(error, outcome)
        throw error
      }
    } else if (body?.stream !== undefined) {
      copy = teeBody(ctx, body.stream, outcome.maxBodyBytes)
    }
    applyPatch(ctx, patch)

    const respond = (captured: CapturedBody | undefined): CapturedResponse | undefined =>
      captured === undefined ? undefined : { status, headers, body: captured.body, complete: captured.complete }
    if (!SAFE_METHODS.has(ctx.method)) {
      // Read-your-writes: an unsafe request's invalidation is done before Koa sends its response.
      await this.#finish(outcome, respond(await copy))
      return
    }
    onResponseDone(ctx.res, (sent) => {
      if (!sent) void this.#finish(outcome, undefined)
      else void copy.then((captured) => this.#finish(outcome, respond(captured)))
    })
  }

  /** Revalidation or stale-if-error: the rest of the stack answers into memory, the engine decides what goes out. */
  async #runBuffered(ctx: CacheContext, next: Next, origin: OriginRequest | undefined): Promise<BufferedRun> {
    const clientHeaders = ctx.req.headers
    const savedHeaders = [...ctx.res.getHeaderNames()].map((name) => [name, ctx.res.getHeader(name)] as const)
    if (origin !== undefined) ctx.req.headers = { ...origin.headers }
    this.#expose(ctx)
    const buffer = bufferResponse(ctx.res)
    try {
      await this.#next(ctx, next)
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
      buffer.restore()
      ctx.req.headers = clientHeaders
      // The engine's answer starts from the response as it was before the handler ran.
      for (const name of ctx.res.getHeaderNames()) ctx.res.removeHeader(name)
      for (const [name, value] of savedHeaders) if (value !== undefined) ctx.res.setHeader(name, value)
    }
  }

  /** The synthetic request of a background refresh: run the handler, hand the response to the waiting refresh. */
  async #runRefresh(ctx: CacheContext, next: Next, pending: PendingRefresh): Promise<void> {
    Refresher.strip(ctx.req)
    let captured: BufferedRun
    try {
      captured = await this.#runBuffered(ctx, next, undefined)
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)))
      throw error
    }
    pending.resolve(captured)
    // The synthetic response ends like any other, for whatever middleware sits before the cache.
    writeResponse(ctx, { kind: 'response', status: captured.status, headers: captured.headers, body: captured.body })
  }

  #finish(outcome: ForwardOutcome, captured: CapturedResponse | undefined): Promise<void> {
    const work = outcome.finish(captured)
    this.#finishing.add(work)
    const remove = (): void => void this.#finishing.delete(work)
    work.then(remove, remove)
    return work
  }

  #expose(ctx: CacheContext): void {
    const helpers = new RequestCache(this.engine, ctx.host)
    ctx.cache = helpers
    ;(ctx.state as Record<string, unknown>).cache = helpers
  }

  #next(ctx: CacheContext, next: Next): Promise<unknown> {
    if (this.#handler === undefined) return next()
    return Promise.resolve(this.#handler(ctx, next))
  }
}

/**
 * Koa's error response starts from no headers but `err.headers` (the way @koa/cors keeps its
 * fields on errors): Cache-Status rides there, so an error says how it passed the cache, as any
 * other response does. The status is the one Koa's `ctx.onerror` will send.
 */
function markError(error: unknown, outcome: ForwardOutcome): void {
  if (typeof error !== 'object' || error === null || !Object.isExtensible(error)) return
  const e = error as { status?: unknown; statusCode?: unknown; code?: unknown; headers?: unknown }
  let status = e.status ?? e.statusCode
  if (e.code === 'ENOENT') status = 404
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) status = 500
  const headers: Record<string, unknown> = typeof e.headers === 'object' && e.headers !== null ? { ...e.headers } : {}
  try {
    for (const [name, value] of outcome.patch(status as number, []).set) if (!(name in headers)) headers[name] = value
    e.headers = headers
  } catch {
    // A read-only `headers` (a frozen error class field): the error goes on without our field.
  }
}

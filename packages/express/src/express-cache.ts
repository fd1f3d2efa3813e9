import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express'
import {
  createHttpCache,
  type CapturedResponse,
  type ForwardOutcome,
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
import { captureLive } from './capture.js'
import { kExpressRequest, toEngineOptions, type ExpressCacheOptions, type ExpressHttpRequest } from './options.js'
import { RequestCache } from './request-cache.js'
import { requestHost, toHttpRequest } from './to-http-request.js'
import { writeResponse } from './write-response.js'

const EMPTY_BODY: Buffer = Buffer.alloc(0)

/** Runs what comes after the cache: `next()` for a middleware, the wrapped handler for `cachedRoute(options, handler)`. */
type Downstream = (req: Request, res: Response, next: NextFunction) => void

/**
 * One engine and the Express plumbing around it, shared by `cacheMiddleware` and `cachedRoute`:
 * translate the request, ask the engine, then write its answer, run the handler live under a
 * capture, or run it buffered for a revalidation. No caching rule lives here.
 */
export class ExpressCache {
  readonly engine: HttpCache
  readonly #refresher = new Refresher()
  readonly #downstream: Downstream | undefined
  /** Store writes and invalidations started by `finish`, for `whenIdle`. */
  readonly #finishing = new Set<Promise<void>>()

  constructor(options: ExpressCacheOptions, handler?: RequestHandler) {
    this.engine = createHttpCache(toEngineOptions(options))
    this.#downstream = handler === undefined ? undefined : invoke(handler)
  }

  /** Resolves when every `finish` and the engine's background work (refreshes) have settled. */
  async whenIdle(): Promise<void> {
    while (this.#finishing.size > 0) await Promise.allSettled([...this.#finishing])
    await this.engine.whenIdle()
  }

  serve(req: Request, res: Response, next: NextFunction): void {
    const token = req.headers[REFRESH_HEADER]
    if (token !== undefined) {
      const pending = this.#refresher.claim(token)
      if (pending !== undefined) {
        this.#runRefresh(req, res, next, pending)
        return
      }
    }
    const request: ExpressHttpRequest = toHttpRequest(req)
    request[kExpressRequest] = req
    // A fresh hit (or 304) the store can answer in this tick needs none of `handle`'s promise work.
    const reply = this.engine.lookupSync(request)
    if (reply !== undefined && reply !== NEEDS_STORE) {
      this.#answer(req, res, next, reply)
      return
    }
    const runHandler: RunHandler = (origin) => this.#runBuffered(req, res, next, origin)
    const refresh: RunHandler = (origin) => this.#refresher.dispatch(rootApp(req), origin, req.socket?.remoteAddress)
    this.engine.handle(request, runHandler, refresh).then(
      (outcome) => this.#answer(req, res, next, outcome),
      (error: unknown) => {
        // The handler failed in a buffered run and no stale response may stand in: the app's
        // error handlers answer, as they would have without the cache.
        if (!res.headersSent && !res.destroyed) next(error)
      }
    )
  }

  #answer(req: Request, res: Response, next: NextFunction, outcome: Outcome): void {
    if (isForward(outcome)) {
      this.#runLive(req, res, next, outcome)
      return
    }
    try {
      writeResponse(res, outcome)
    } catch (error) {
      this.engine.options.onError(error instanceof Error ? error : new Error(String(error)))
      if (!res.headersSent) next(error)
    }
  }

  /** The handler streams to the client; the capture reports to the engine. */
  #runLive(req: Request, res: Response, next: NextFunction, outcome: ForwardOutcome): void {
    // Express would answer If-None-Match itself; if we let it, the 304 would be the stored entry.
    if (outcome.requestHeaders !== req.headers) req.headers = { ...outcome.requestHeaders }
    req.cache = new RequestCache(this.engine, requestHost(req))
    let settled = false
    const finish = (captured: CapturedResponse | undefined): Promise<void> => {
      if (settled) return Promise.resolve()
      settled = true
      const work = outcome.finish(captured)
      this.#finishing.add(work)
      const remove = (): void => void this.#finishing.delete(work)
      work.then(remove, remove)
      return work
    }
    captureLive(res, {
      onHead: (status, headers) => outcome.patch(status, headers),
      captureBody: outcome.captureBody,
      maxBodyBytes: outcome.maxBodyBytes,
      onDone: (captured) => void finish(captured),
      // Read-your-writes: a POST's invalidation is done before its response ends.
      holdEnd: SAFE_METHODS.has(req.method)
        ? undefined
        : (head, end) => {
            finish({ status: head.status, headers: head.headers, body: EMPTY_BODY, complete: true }).then(end, end)
          },
    })
    this.#next(req, res, next)
  }

  /** Revalidation or stale-if-error: the handler answers into a buffer, the engine decides what goes out. */
  async #runBuffered(req: Request, res: Response, next: NextFunction, origin: OriginRequest): Promise<CapturedResponse> {
    const clientHeaders = req.headers
    req.headers = { ...origin.headers }
    req.cache = new RequestCache(this.engine, requestHost(req))
    const buffer = bufferResponse(res)
    try {
      this.#next(req, res, (error?: unknown) => {
        if (error === undefined || error === null || error === 'route' || error === 'router') next(error as undefined)
        else if (this.#downstream !== undefined) buffer.fail(error)
        else next(error)
      })
      const { status, headers, body } = await buffer.result
      return { status, headers, body, complete: true }
    } finally {
      buffer.restore()
      req.headers = clientHeaders
    }
  }

  /** The synthetic request of a background refresh: run the handler, hand the response to the waiting refresh. */
  #runRefresh(req: Request, res: Response, next: NextFunction, pending: PendingRefresh): void {
    Refresher.strip(req)
    req.cache = new RequestCache(this.engine, requestHost(req))
    captureLive(res, {
      captureBody: true,
      maxBodyBytes: this.engine.options.maxEntrySize,
      onDone: (captured) => {
        if (captured === undefined) pending.reject(new Error(`the refresh of ${req.originalUrl} did not complete`))
        else pending.resolve(captured)
      },
    })
    this.#next(req, res, next)
  }

  #next(req: Request, res: Response, next: NextFunction): void {
    if (this.#downstream === undefined) next()
    else this.#downstream(req, res, next)
  }
}

function isForward(outcome: Outcome): outcome is ForwardOutcome {
  return outcome.kind === 'miss' || outcome.kind === 'bypass'
}

/** Calls a handler the Express way: a throw or a rejected promise goes to `next`. */
function invoke(handler: RequestHandler): Downstream {
  return (req, res, next) => {
    try {
      const result: unknown = handler(req, res, next)
      if (result instanceof Promise) result.catch(next)
    } catch (error) {
      next(error)
    }
  }
}

/** The outermost app, so a synthetic request passes every middleware a client's request would. */
function rootApp(req: Request): (req: IncomingMessage, res: ServerResponse) => void {
  let app: Application = req.app
  while ((app as Application & { parent?: Application }).parent !== undefined) {
    app = (app as Application & { parent: Application }).parent
  }
  return app as unknown as (req: IncomingMessage, res: ServerResponse) => void
}

import type { IncomingMessage } from 'node:http'
import type { HttpCache } from '../engine/http-cache.js'
import { PendingWork } from '../engine/pending-work.js'
import type { Lookup } from '../entry/entry-store.js'
import type { PreparedRequest } from '../request/prepare-request.js'
import type {
  CapturedResponse,
  ForwardOutcome,
  HttpRequest,
  OriginRequest,
  Outcome,
  ReplyOutcome,
  RequestHeaders,
  RoutePolicy,
  RunHandler,
} from '../types.js'
import { Refresher, REFRESH_HEADER, type NodeListener, type PendingRefresh } from './refresher.js'
import { RequestCache } from './request-helpers.js'

/**
 * The framework's side of the serve loop: how its request and response look, and how it runs
 * what comes after the cache. `N` is the framework's request object (Express `req`, Koa `ctx`),
 * `D` whatever the adapter uses to run downstream (a `next`, or a wrapped handler).
 */
export interface FrameworkBinding<N, D> {
  /** The `node:http` request under the framework's object. */
  req(native: N): IncomingMessage
  /** The engine's request: host and protocol under the framework's proxy rules, `native` set. */
  toRequest(native: N, route: RoutePolicy | undefined): HttpRequest
  /** The host purges of a relative URL apply to (`req.cache.purgeUrl('/a')`). */
  host(native: N): string
  /** Puts the request helpers where handlers find them (`req.cache`, `ctx.cache`). */
  expose(native: N, helpers: RequestCache): void
  /** Runs what comes after the cache, untouched. */
  proceed(native: N, next: D): void | Promise<void>
  /** Writes a reply the engine produced in full. */
  write(native: N, reply: ReplyOutcome, next: D): void
  /**
   * Runs the rest live: the handler streams to the client, the capture reports what it sent to
   * `finish` (once). Resolves when the framework may move on.
   */
  live(
    native: N,
    outcome: ForwardOutcome,
    next: D,
    pass: Pass,
    finish: (captured: CapturedResponse | undefined) => Promise<void>
  ): void | Promise<void>
  /** Runs the rest into memory (`origin` set: a revalidation's request headers) and resolves what it answered. */
  buffered(
    native: N,
    origin: OriginRequest | undefined,
    next: D,
    pass: Pass
  ): Promise<CapturedResponse>
  /** Answers the synthetic request of a background refresh once `pending` has its response. */
  refreshed(native: N, pending: PendingRefresh, next: D, pass: Pass): void | Promise<void>
  /** The app as a `node:http` listener, for a refresh's synthetic request. */
  listener(native: N): NodeListener
  /** A handler error the engine passes on (no stale response may stand in), or an error writing a reply. */
  fail(native: N, error: unknown, next: D): void | Promise<void>
  /**
   * Applies `rewrite` to every URL the framework derived from the request target and the handler
   * could read (`req.originalUrl`, `req.query`, `ctx.originalUrl`, a memoised URL…), after the kit
   * rewrote the Node request's `url` (and an HTTP/2 `:path`). The kit calls it before anything
   * after the cache runs, for a request whose target carries query parameters the key ignores,
   * so they never reach the handler. A binding without it cannot promise that: such requests
   * then go around the cache (reason `ignored-param`). It returns `false`, having changed
   * nothing, when it cannot make this request's view follow (Fastify: a target its router
   * cannot parse again); the kit then puts the URL back and the request goes around the cache
   * the same way.
   */
  rewriteUrl?(native: N, rewrite: (url: string) => string): boolean | void
}

/**
 * One engine's work on one request while what comes after the cache runs. A route of the same
 * engine met downstream either lends its policy (`adopt`, when it keeps the key) or takes the
 * request over with a pass of its own (`release`).
 */
export class Pass {
  readonly prepared: PreparedRequest
  readonly mode: 'live' | 'buffered' | 'refresh'
  /** The headers the client sent, put back for a route that takes over. */
  readonly clientHeaders: RequestHeaders
  readonly outcome: ForwardOutcome | undefined
  /** A route that adopted a buffered or refresh pass. */
  route: RoutePolicy | undefined
  /** True once a route took the request over: this pass stores nothing and patches nothing. */
  superseded = false
  /** What the adapter does when the pass is released (Express: stop its capture). */
  onRelease: (() => void) | undefined

  constructor(
    prepared: PreparedRequest,
    mode: Pass['mode'],
    clientHeaders: RequestHeaders,
    outcome?: ForwardOutcome
  ) {
    this.prepared = prepared
    this.mode = mode
    this.clientHeaders = clientHeaders
    this.outcome = outcome
  }

  /** What a buffered or refresh run hands the engine about routes met downstream. */
  get capturedRoute(): CapturedResponse['route'] {
    return this.superseded
      ? 'superseded'
      : this.route === undefined
        ? undefined
        : { adopted: this.route }
  }
}

/**
 * The serve loop, written once for every adapter (DESIGN rule 8): claim a background refresh,
 * meet a pass of the same engine already under way (a route behind the app's middleware), or
 * prepare the request once, look it up (at once on a memory hit), let the engine decide, then
 * write its reply or run the handler live under a capture. Buffered runs for revalidation and
 * refreshes go through the same binding.
 *
 * @example
 * ```ts
 * const loop = new ServeLoop(engine, expressBinding)
 * app.use((req, res, next) => void loop.serve(req, next))
 * ```
 */
export class ServeLoop<N, D> {
  readonly engine: HttpCache
  readonly #binding: FrameworkBinding<N, D>
  readonly #refresher = new Refresher()
  /**
   * Where this engine keeps its pass on a request while the request's downstream runs: a
   * property of the request, not a WeakMap entry. V8's young-generation collector holds a
   * WeakMap's values strongly, so a pass there (and the request it reaches) outlived its
   * request into the old generation; after a burst of misses V8 then allocated every request's
   * objects as long-lived, and each scavenge of a Koa server took ~9 ms (0.4 ms with the pass
   * here: `node bench/gc.mjs cachewire-koa --misses 2000`).
   */
  readonly #passKey: symbol = Symbol('cachewire.pass')
  /** Store writes and invalidations started by `finish`, for `whenIdle`. */
  readonly #finishing = new PendingWork()

  constructor(engine: HttpCache, binding: FrameworkBinding<N, D>) {
    this.engine = engine
    this.#binding = binding
  }

  /** Serves one request; `route` is the policy of the route it is on, if any. Never rejects for a cache reason. */
  serve(native: N, next: D, route?: RoutePolicy): void | Promise<void> {
    const binding = this.#binding
    const req = binding.req(native)
    const token = req.headers[REFRESH_HEADER]
    if (token !== undefined) {
      const pending = this.#refresher.claim(token)
      if (pending !== undefined) return this.#refresh(native, next, pending)
    }
    let prepared: PreparedRequest | undefined
    const active = this.#passOf(req)
    if (active !== undefined && !active.superseded) {
      // This engine already has the request: an app-wide layer met it first.
      if (route === undefined) return binding.proceed(native, next)
      prepared = this.engine.refine(active.prepared, route)
      if (this.#adopt(active, prepared, route)) return binding.proceed(native, next)
      this.#release(req, active)
    }
    let ready = prepared ?? this.engine.prepare(this.#toRequest(native, route))
    // DESIGN rule 2: a query parameter the key ignores must not reach the handler.
    if (ready.context?.ignoredParams === true && !this.#stripIgnoredParams(native, req)) {
      ready = this.engine.prepare({ ...ready.request, stripsIgnoredParams: false })
    }
    const found = this.engine.lookup(ready)
    if (found instanceof Promise)
      return found.then((lookup) => this.#handle(native, next, ready, lookup))
    return this.#handle(native, next, ready, found)
  }

  /** Resolves when every `finish` and the engine's background work (refreshes) have settled. */
  async whenIdle(): Promise<void> {
    await this.#finishing.idle()
    await this.engine.whenIdle()
  }

  /** Gives up pending refreshes, waits for background work, and closes the engine. */
  async close(): Promise<void> {
    this.#refresher.close()
    await this.whenIdle()
    await this.engine.close()
  }

  /** The helpers a handler behind this engine gets. */
  helpers(native: N): RequestCache {
    const binding = this.#binding
    return new RequestCache(this.engine, () => binding.host(native))
  }

  #toRequest(native: N, route: RoutePolicy | undefined): HttpRequest {
    const request = this.#binding.toRequest(native, route)
    if (this.#binding.rewriteUrl !== undefined) request.stripsIgnoredParams = true
    return request
  }

  /** Removes the ignored parameters from what the app sees; false (the URL put back) when the framework could not follow. */
  #stripIgnoredParams(native: N, req: IncomingMessage): boolean {
    const rewrite = (url: string): string => this.engine.withoutIgnoredParams(url)
    const { url } = req
    const path = req.headers[':path']
    if (url !== undefined) req.url = rewrite(url)
    if (typeof path === 'string') req.headers[':path'] = rewrite(path)
    if (this.#binding.rewriteUrl?.(native, rewrite) !== false) return true
    req.url = url
    if (typeof path === 'string') req.headers[':path'] = path
    return false
  }

  #handle(native: N, next: D, prepared: PreparedRequest, found: Lookup): void | Promise<void> {
    const binding = this.#binding
    const runHandler: RunHandler = (origin) => this.#buffered(native, next, prepared, origin)
    const refresh: RunHandler = (origin) =>
      this.#refresher.dispatch(
        binding.listener(native),
        origin,
        binding.req(native).socket?.remoteAddress,
        prepared
      )
    let outcome: Outcome | Promise<Outcome>
    try {
      outcome = this.engine.handle(prepared, found, runHandler, refresh)
    } catch (error) {
      return binding.fail(native, error, next)
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (done) => this.#answer(native, next, prepared, done),
        // The handler failed in a buffered run and no stale response may stand in: the app's
        // error handling answers, as it would have without the cache.
        (error: unknown) => binding.fail(native, error, next)
      )
    }
    return this.#answer(native, next, prepared, outcome)
  }

  #answer(native: N, next: D, prepared: PreparedRequest, outcome: Outcome): void | Promise<void> {
    const binding = this.#binding
    if (outcome.kind === 'miss' || outcome.kind === 'bypass') {
      const req = binding.req(native)
      const pass = new Pass(prepared, 'live', req.headers, outcome)
      // The handler sees the request without its conditional fields, so its answer is the full
      // response the entry needs (the engine answers the client's conditional itself).
      if (outcome.requestHeaders !== req.headers) req.headers = { ...outcome.requestHeaders }
      binding.expose(native, this.helpers(native))
      this.#setPass(req, pass)
      return binding.live(native, outcome, next, pass, (captured) =>
        this.#track(outcome.finish(captured))
      )
    }
    try {
      binding.write(native, outcome, next)
    } catch (error) {
      this.engine.options.onError(error instanceof Error ? error : new Error(String(error)))
      return binding.fail(native, error, next)
    }
  }

  async #buffered(
    native: N,
    next: D,
    prepared: PreparedRequest,
    origin: OriginRequest
  ): Promise<CapturedResponse> {
    const req = this.#binding.req(native)
    const pass = new Pass(prepared, 'buffered', req.headers)
    req.headers = { ...origin.headers }
    this.#binding.expose(native, this.helpers(native))
    this.#setPass(req, pass)
    try {
      const captured = await this.#binding.buffered(native, origin, next, pass)
      return withRoute(captured, pass.capturedRoute)
    } finally {
      req.headers = pass.clientHeaders
      if (this.#passOf(req) === pass) this.#setPass(req, undefined)
    }
  }

  #refresh(native: N, next: D, pending: PendingRefresh): void | Promise<void> {
    const req = this.#binding.req(native)
    Refresher.strip(req)
    const pass = new Pass(
      pending.prepared ?? this.engine.prepare(this.#toRequest(native, undefined)),
      'refresh',
      req.headers
    )
    this.#binding.expose(native, this.helpers(native))
    this.#setPass(req, pass)
    return this.#binding.refreshed(
      native,
      {
        prepared: pending.prepared,
        resolve: (captured) => pending.resolve(withRoute(captured, pass.capturedRoute)),
        reject: (error) => pending.reject(error),
      },
      next,
      pass
    )
  }

  /** A route met inside the pass keeps its key: its policy applies to what the pass stores. */
  #adopt(pass: Pass, refined: PreparedRequest, route: RoutePolicy): boolean {
    if (!pass.prepared.sameEntry(refined)) return false
    if (pass.outcome !== undefined) pass.outcome.adopt(route)
    else pass.route = route
    return true
  }

  #passOf(req: IncomingMessage): Pass | undefined {
    // Own properties only: Express 5 gives every request a map of its own (it sets the request's
    // prototype), so a load of a key the request lacks missed its inline cache on every request
    // and walked the whole prototype chain in the runtime.
    if (!Object.hasOwn(req, this.#passKey)) return undefined
    return (req as IncomingMessage & { [key: symbol]: Pass | undefined })[this.#passKey]
  }

  #setPass(req: IncomingMessage, pass: Pass | undefined): void {
    ;(req as IncomingMessage & { [key: symbol]: Pass | undefined })[this.#passKey] = pass
  }

  /** A route met inside the pass has a key of its own and runs its own pass. */
  #release(req: IncomingMessage, pass: Pass): void {
    pass.superseded = true
    pass.outcome?.release()
    pass.onRelease?.()
    req.headers = { ...pass.clientHeaders }
  }

  #track(work: Promise<void>): Promise<void> {
    // Its rejection is the caller's, who has `work` back.
    this.#finishing.add(work)
    return work
  }
}

/**
 * The captured response with the route the pass met. Copied field by field: V8 (Node 20) adds a
 * property to an object spread's copy through its runtime, about a microsecond apiece.
 */
function withRoute(captured: CapturedResponse, route: CapturedResponse['route']): CapturedResponse {
  return {
    status: captured.status,
    headers: captured.headers,
    body: captured.body,
    complete: captured.complete,
    route,
  }
}

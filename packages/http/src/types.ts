/**
 * The engine's framework-neutral types: what an adapter hands in, and what it gets back.
 *
 * One pass per request, in three steps (the adapter kit's serve loop does this for you):
 * 1. `const prepared = engine.prepare(request)`: eligibility, host, key (a user's `key()` runs
 *    here, once).
 * 2. `const found = engine.lookup(prepared)`: a value, or a promise when the store needs I/O.
 * 3. `const outcome = engine.handle(prepared, found, runHandler, refresh)`: a value, or a promise
 *    when the handler must run first (revalidation) or another request's run is awaited. Switch on
 *    the {@link Outcome}:
 *    - `hit` / `not-modified` / `response` ({@link ReplyOutcome}): write `status`, `headers` (in
 *      order, appending repeated names) and `body` (already empty for HEAD and 304). The handler
 *      must not run, or has already run inside `runHandler`.
 *    - `miss` / `bypass` ({@link ForwardOutcome}): run the handler live with `requestHeaders`,
 *      streaming to the client as usual. When the response head is about to be written, apply
 *      `patch(status, headers)`. Capture the body bytes while `captureBody` (and the patch's
 *      `captureBody`) say so, stop at `maxBodyBytes` and report `complete: false`, then call
 *      `finish(captured)` exactly once; `finish(undefined)` when the handler failed or the client
 *      went away.
 *
 * `runHandler(originRequest)` runs the handler with `originRequest.headers` instead of the client's,
 * buffering the whole response instead of sending it (no `maxBodyBytes` limit: the client will get
 * it), and resolves the captured response, or rejects with what the handler threw. `handle` calls
 * it at most once, before it resolves, for revalidation and stale-if-error. `refresh` does the same
 * without a client (a synthetic GET dispatched through the app) for stale-while-revalidate;
 * `handle` starts it and does not wait for it. Without `refresh`, stale-while-revalidate degrades
 * to revalidating in the foreground.
 *
 * `handle` never rejects for a cache reason (store down, corrupt entry, engine bug: the request is
 * served uncached). It rejects only with an error `runHandler` rejected with, when no stale response
 * may stand in for it; the adapter passes that error on as the framework does (`next(err)`, `throw`).
 */
import type { Reason } from './semantics/reasons.js'

/** One header field line: lower-case name and value, as it goes on the wire. */
export type HeaderPair = readonly [name: string, value: string]
/** Header lines in wire order; a name may repeat (several Link lines, for example). */
export type HeaderPairs = ReadonlyArray<HeaderPair>
/** Request headers as Node gives them: lower-case names, a few fields as arrays. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>
/** Response headers as the handler left them: pairs, or a record as `res.getHeaders()` returns it. */
export type ResponseHeaders =
  HeaderPairs | Readonly<Record<string, string | number | readonly string[] | undefined>>

/** The parts of a request the engine and the handler both see. */
export interface OriginRequest {
  /** Upper-case method, as received. */
  method: string
  /** Origin-form target as received: path plus optional `?query` (absolute-form is accepted too). */
  url: string
  headers: RequestHeaders
  /** Host as the app sees it (after the framework's trust-proxy rules), with an optional port. */
  host: string
  protocol: 'http' | 'https'
}

/** A request as an adapter hands it to `prepare`. */
export interface HttpRequest extends OriginRequest {
  /** Per-route policy from `resolveRoutePolicy()`, resolved once when the route was built. */
  route?: RoutePolicy | undefined
  /**
   * Lower-case names of forwarded fields the framework applied to `host` and `protocol` because
   * it trusts the proxy (`trust proxy`, `app.proxy`): they are keyed through those values, so they
   * do not make the request bypass as unkeyed headers. Adapters set it; leave it out otherwise.
   */
  forwarded?: readonly string[] | undefined
  /**
   * The adapter removes query parameters the key ignores (`keys.query.ignore`) from the request
   * the handler sees (the kit does, through the binding's `rewriteUrl`), so they cannot be
   * reflected into a shared entry. Without it, a request carrying one goes around the cache
   * (reason `ignored-param`). A front door, which runs no handler, sets it too.
   */
  stripsIgnoredParams?: boolean | undefined
  /**
   * The framework's own request (Express `req`, Koa `ctx`), for the `key`, `tags` and `privateKey`
   * functions of adapter options, which take it instead of this neutral request.
   */
  native?: unknown
}

/** A handler's response as an adapter captured it. */
export interface CapturedResponse {
  status: number
  headers: ResponseHeaders
  /** The body bytes exactly as sent (after any compression the app itself applied). */
  body: Uint8Array
  /** False when the body was cut short: aborted, errored, or capture stopped at maxBodyBytes. */
  complete: boolean
  /**
   * Set by the adapter kit when a route of the same engine met the request on its way to the
   * handler: `{ adopted }` when it keeps this request's key (its policy applies to what is
   * stored), `'superseded'` when it ran its own pass (the response already went through the
   * cache under the route's key: it is passed on as it is).
   */
  route?: { adopted: RoutePolicy } | 'superseded' | undefined
}

/** Runs the handler for a request and resolves what it answered; rejects with what it threw. */
export type RunHandler = (request: OriginRequest) => Promise<CapturedResponse>

/** What every reply carries: a response the engine produced in full. Write it as is. */
export interface Reply {
  status: number
  /** Wire-order lines, Age and Cache-Status included. A name may repeat: append, do not overwrite. */
  headers: HeaderPairs
  /** Empty for HEAD and 304; Content-Length in `headers` still describes the full body. */
  body: Buffer
}

/** Answered from the cache (fresh, stale within a window, or collapsed into another request's run). */
export interface HitOutcome extends Reply {
  kind: 'hit'
}

/** A 304 the engine answered to the client's own conditional. */
export interface NotModifiedOutcome extends Reply {
  kind: 'not-modified'
}

/** The origin's answer obtained through runHandler (revalidation), or a 504 for only-if-cached. */
export interface ResponseOutcome extends Reply {
  kind: 'response'
}

/** A response to write as is; `handle` has done (or did not need) the handler run. */
export type ReplyOutcome = HitOutcome | NotModifiedOutcome | ResponseOutcome

/** What both forward outcomes carry: run the handler live, then tell the engine what it answered. */
export interface ForwardBase {
  /** The headers the handler must see: on a miss, conditional and Range fields are removed. */
  requestHeaders: RequestHeaders
  /** Whether `finish` needs the body bytes (false for bypasses, HEAD and no-store: skip capturing them). */
  captureBody: boolean
  /** Stop capturing past this many bytes and report `complete: false`. */
  maxBodyBytes: number
  /**
   * Read-your-writes for a response that may be stored: end it only once `finish` has settled (the
   * entry is in the store), and when the handler ends it in one call, write the head after that
   * too, so `patch` can say whether the store took it. True exactly when `captureBody` is.
   */
  storeBeforeEnd: boolean
  /**
   * Read-your-writes for an unsafe method (POST, PUT, DELETE…): end its response only once
   * `finish` has settled, so the URLs it invalidates are gone before the client hears back.
   */
  invalidateBeforeEnd: boolean
  /** Call when the response head is about to be written; apply the result before writing it. */
  patch(status: number, headers: ResponseHeaders): ResponsePatch
  /**
   * Call exactly once, when the response has been sent (or failed: pass undefined). Resolves when
   * the entry is stored or the URL invalidated; never rejects. Awaiting it before ending an
   * unsafe request's response gives read-your-writes; a miss's store need not be awaited.
   */
  finish(captured: CapturedResponse | undefined): Promise<void>
  /**
   * A route of this engine met the request downstream, and keeps its key (see
   * `PreparedRequest.sameEntry`): its policy (ttl, tags, stale windows, CDN fields) applies to
   * what this pass stores. Call before the head is written.
   */
  adopt(route: RoutePolicy): void
  /**
   * A route of this engine met the request downstream with a key of its own, and runs its own
   * pass: this one stores nothing, counts nothing, and releases the requests waiting for it.
   * `finish` is not called after this.
   */
  release(): void
}

/** Run the handler live; the response may be stored. Concurrent misses may be waiting for it. */
export interface MissOutcome extends ForwardBase {
  kind: 'miss'
  reason: undefined
}

/** Run the handler live; the request does not use the cache (an unsafe one may invalidate). */
export interface BypassOutcome extends ForwardBase {
  kind: 'bypass'
  /** Why; the same word Cache-Status `detail` uses in debug mode. */
  reason: Reason
}

/** Run the handler live. */
export type ForwardOutcome = MissOutcome | BypassOutcome

/** Changes to make to a live response head. */
export interface ResponsePatch {
  /** The status to send: 304 when the client's own conditional matches the response. */
  status: number
  /** Lower-case names to remove (the surrogate-key field; on a 304, representation fields). */
  remove: readonly string[]
  /** Lines to set, replacing any of the same name (Cache-Status). */
  set: HeaderPairs
  /** True for a 304: send no body (keep capturing it when `captureBody` says so). */
  omitBody: boolean
  /** False when the head already shows the response will not be stored: stop holding body bytes. */
  captureBody: boolean
}

/** What `handle` resolves. Switch on `kind`. */
export type Outcome = ReplyOutcome | ForwardOutcome

/**
 * A stored response. All instants are ms since epoch; headers are ready for the wire.
 * Built once when a response is stored, so a hit derives nothing.
 */
export interface StoredResponse {
  /** The full, unhashed cache key (primary and secondary); compared on every read. */
  key: string
  status: number
  /** Wire-order lines without hop-by-hop fields, Set-Cookie, Age, Cache-Status or the surrogate-key field. */
  headers: HeaderPairs
  /** The subset a 304 carries (RFC 9110 §15.4.5), precomputed. */
  notModifiedHeaders: HeaderPairs
  body: Buffer
  /** When the response was received (RFC 9111 `response_time`). */
  storedAt: number
  /** RFC 9111 §4.2.3 `corrected_initial_age`, in ms. */
  initialAgeMs: number
  staleAt: number
  staleWhileRevalidateUntil: number
  staleIfErrorUntil: number
  /** When the store may drop it: the end of the last window in which it could still be used. */
  expiresAt: number
  /** The ETag clients' conditionals are compared with: the origin's, or one the cache generated. */
  etag: string | undefined
  /** True when `etag` is the cache's own: it is never sent to the origin (RFC 9111 §4.3.1). */
  etagGenerated: boolean
  lastModified: string | undefined
  /** Field names from Vary, lower-case, sorted. */
  vary: readonly string[]
  tags: readonly string[]
  /** Cache-Status members added by caches nearer the origin, kept so ours can be appended. */
  upstreamCacheStatus: string | undefined
  /** False when must-revalidate, proxy-revalidate, no-cache or s-maxage forbid max-stale. */
  allowMaxStale: boolean
  /** Whether a request with Authorization may be answered from it (RFC 9111 §3.5). */
  sharedWithAuthorization: boolean
  /** The `name` of the route policy it was stored under, so a hit found app-wide counts for its route. */
  route?: string | undefined
}

/**
 * Extra key material for a request (a tenant id, say); return `false` to not cache the request.
 * `R` is the request the function is given: the engine's {@link HttpRequest}, or in an adapter the
 * framework's own (Express `req`, Koa `ctx`).
 */
export type KeyFunction<R = HttpRequest> = (request: R) => string | false | undefined
/** Tags for stored responses, for `invalidateTags`: a list, or a function of the request. */
export type TagsOption<R = HttpRequest> = readonly string[] | ((request: R) => readonly string[])
/** The id of the user a request belongs to (hashed before use); undefined for an anonymous request. */
export type PrivateKeyFunction<R = HttpRequest> = (request: R) => string | undefined
/** `shared`: one entry serves every user. `private`: entries per user, keyed by `privateKey`. */
export type CacheScope = 'shared' | 'private'

/** CDN options validated and formatted once. */
export interface ResolvedCdnOptions {
  readonly surrogateKeys: boolean
  /** Ready lines: Surrogate-Control and CDN-Cache-Control. */
  readonly fields: HeaderPairs
  /** The options as text, to tell two policies apart. */
  readonly fingerprint: string
}

/** A cap on new keys: at most `keys` distinct keys per group within each `windowMs` window. */
export interface CardinalityLimit {
  readonly keys: number
  readonly windowMs: number
}

/** The brand of a resolved {@link RoutePolicy}. */
export const ROUTE_POLICY: unique symbol = Symbol.for('cachewire.http.route-policy')

/** A per-route policy, validated once by `resolveRoutePolicy()`; pass it as `HttpRequest.route`. */
export interface RoutePolicy {
  readonly [ROUTE_POLICY]: true
  /** The route's name in metrics, the inspector and traces; `undefined` when none was given. */
  readonly name: string | undefined
  readonly ttlMs: number | undefined
  readonly tags: TagsOption | undefined
  readonly staleWhileRevalidateMs: number | undefined
  readonly staleIfErrorMs: number | undefined
  readonly key: KeyFunction | undefined
  /** Lower-case, sorted; replaces the engine's. */
  readonly keyedHeaders: readonly string[] | undefined
  /** Lower-case; replaces the engine's. */
  readonly ignoredHeaders: ReadonlySet<string> | undefined
  readonly allowCookies: boolean | undefined
  readonly shareAuthenticated: boolean | undefined
  readonly privateIfCredentialed: boolean | undefined
  readonly scope: CacheScope | undefined
  readonly privateKey: PrivateKeyFunction | undefined
  readonly maxKeysPerWindow: CardinalityLimit | false | undefined
  /** false: this route sends no CDN fields. */
  readonly cdn: ResolvedCdnOptions | false | undefined
}

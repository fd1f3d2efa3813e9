/**
 * The engine's framework-neutral types: what an adapter hands in, and what it gets back.
 *
 * How an adapter uses them, in one loop:
 * 1. Translate the framework request to an {@link HttpRequest} and call
 *    `engine.handle(request, runHandler, refresh)`.
 * 2. Switch on the {@link Outcome}:
 *    - `hit` / `not-modified` / `response` ({@link ReplyOutcome}): write `status`, `headers` (in
 *      order, appending repeated names) and `body` (already empty for HEAD and 304). The handler
 *      must not run, or has already run inside `runHandler`.
 *    - `miss` / `bypass` ({@link ForwardOutcome}): run the handler live with `requestHeaders`,
 *      streaming to the client as usual. When the response head is about to be written, apply
 *      `patch(status, headers)`. Capture the body bytes when `captureBody` is true (stop at
 *      `maxBodyBytes` and report `complete: false`), then call `finish(captured)` exactly once;
 *      `finish(undefined)` when the handler failed or the client went away.
 * 3. `runHandler(originRequest)` runs the handler with `originRequest.headers` instead of the client's,
 *    buffering the whole response instead of sending it (no `maxBodyBytes` limit: the client will
 *    get it), and resolves the captured response, or rejects with what the handler threw. `handle`
 *    calls it at most once, before it resolves, for revalidation and stale-if-error. `refresh` does
 *    the same without a client (a synthetic GET dispatched through the app) for
 *    stale-while-revalidate; `handle` starts it and does not wait for it. Without `refresh`,
 *    stale-while-revalidate degrades to revalidating in the foreground.
 *
 * `handle` never rejects for a cache reason (store down, corrupt entry, engine bug: the request is
 * served uncached). It rejects only with an error `runHandler` rejected with, when no stale response
 * may stand in for it; the adapter passes that error on as the framework does (`next(err)`, `throw`).
 */
import type { Cache, Store, Ttl } from '@cachewire/core'
import type { Reason } from './semantics/reasons.js'
import type { CdnOptions, ResolvedCdnOptions } from './cdn/cdn-headers.js'
import type { PurgeHook } from './cdn/purge-hook.js'

/** One header field line: lower-case name and value, as it goes on the wire. */
export type HeaderPair = readonly [name: string, value: string]
/** Header lines in wire order; a name may repeat (several Link lines, for example). */
export type HeaderPairs = ReadonlyArray<HeaderPair>
/** Request headers as Node gives them: lower-case names, a few fields as arrays. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>
/** Response headers as the handler left them: pairs, or a record as `res.getHeaders()` returns it. */
export type ResponseHeaders =
  | HeaderPairs
  | Readonly<Record<string, string | number | readonly string[] | undefined>>

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

/** A request as an adapter hands it to `handle`. */
export interface HttpRequest extends OriginRequest {
  /** Per-route policy from `resolveRouteOptions()`, resolved once when the route was built. */
  route?: RoutePolicy | undefined
  /**
   * Lower-case names of forwarded fields the framework applied to `host` and `protocol` because
   * it trusts the proxy (`trust proxy`, `app.proxy`): they are keyed through those values, so they
   * do not make the request bypass as unkeyed headers. Adapters set it; leave it out otherwise.
   */
  forwarded?: readonly string[] | undefined
}

/** A handler's response as an adapter captured it. */
export interface CapturedResponse {
  status: number
  headers: ResponseHeaders
  /** The body bytes exactly as sent (after any compression the app itself applied). */
  body: Uint8Array
  /** False when the body was cut short: aborted, errored, or capture stopped at maxBodyBytes. */
  complete: boolean
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
  /** Call when the response head is about to be written; apply the result before writing it. */
  patch(status: number, headers: ResponseHeaders): ResponsePatch
  /**
   * Call exactly once, when the response has been sent (or failed: pass undefined). Resolves when
   * the entry is stored or the URL invalidated; never rejects. Awaiting it before ending an
   * unsafe request's response gives read-your-writes; a miss's store need not be awaited.
   */
  finish(captured: CapturedResponse | undefined): Promise<void>
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
  etag: string | undefined
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
}

/** Resolved per-route policy; make one with `resolveRouteOptions()`. */
export interface RoutePolicy {
  readonly ttlMs: number | undefined
  readonly staleWhileRevalidateMs: number | undefined
  readonly staleIfErrorMs: number | undefined
  readonly allowCookies: boolean | undefined
  readonly tags: TagsOption | undefined
  readonly key: KeyFunction | undefined
  readonly scope?: CacheScope | undefined
  readonly privateKey?: PrivateKeyFunction | undefined
  /** Lower-case. */
  readonly keyedHeaders?: readonly string[] | undefined
  /** Lower-case. */
  readonly ignoredHeaders?: readonly string[] | undefined
  readonly maxKeysPerWindow?: { readonly keys: number; readonly windowMs: number } | false | undefined
  readonly cdn?: ResolvedCdnOptions | false | undefined
}

/** `shared`: one entry serves every user. `private`: entries per user, keyed by `privateKey`. */
export type CacheScope = 'shared' | 'private'
/** The id of the user a request belongs to (hashed before use); undefined for an anonymous request. */
export type PrivateKeyFunction = (request: HttpRequest) => string | undefined
/** At most `keys` new keys per route (or per host and path) per `windowMs`. */
export interface MaxKeysPerWindow {
  keys: number
  windowMs: Ttl
}

/** Extra key material for a request; `false` means "do not cache this request". */
export type KeyFunction = (request: HttpRequest) => string | false | undefined
/** Tags for stored responses: a list, or a function of the request. */
export type TagsOption = readonly string[] | ((request: HttpRequest) => readonly string[])

/**
 * Options of `createHttpCache`. Validated once, when the engine is built; a bad value throws an
 * `InvalidOptionError` naming it.
 *
 * @example
 * ```ts
 * import { createHttpCache } from '@cachewire/http'
 * const engine = createHttpCache({ ttl: '1m', hosts: ['example.com', '*.example.com'] })
 * ```
 */
export interface HttpCacheOptions {
  /** The core cache entries live in. Pass one to share it or to put it on Redis. @default a new Cache over `store` */
  cache?: Cache | undefined
  /** The store of the default cache; ignored when `cache` is given. @default new MemoryStore() */
  store?: Store | undefined
  /**
   * Freshness for responses that carry none (no max-age, s-maxage or Expires): "cache this route
   * for 5 minutes". Response headers always win. @default undefined: follow response headers only
   */
  ttl?: Ttl | undefined
  /** Statuses that may be stored. 206 and 304 never are. @default [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501] (RFC 9110 §15.1) */
  statuses?: readonly number[] | undefined
  /** Largest body stored, in bytes. Larger responses are served uncached. @default 1_048_576 */
  maxEntrySize?: number | undefined
  /**
   * Hosts whose requests use the cache: exact names (`example.com`) or one-level-or-deeper
   * wildcards (`*.example.com`, which does not match `example.com` itself). Other hosts bypass.
   * The host is always part of the key. @default undefined: any host
   */
  hosts?: readonly string[] | undefined
  query?:
    | {
        /** Sort query parameters by name (values of one name keep their order). @default true */
        sort?: boolean | undefined
        /** Parameter names left out of the key; `*` matches any run of characters. @default ['utm_*', 'fbclid', 'gclid'] */
        ignore?: readonly string[] | undefined
      }
    | undefined
  /** Extra key material per request (a tenant id, say); return false to not cache the request. */
  key?: KeyFunction | undefined
  /** Methods answered from the cache. Only GET responses are stored. @default ['GET', 'HEAD'] */
  methods?: ReadonlyArray<'GET' | 'HEAD'> | undefined
  /** Let requests with a Cookie use the cache. Responses that set cookies are still never stored. @default false */
  allowCookies?: boolean | undefined
  /**
   * Honour the request directives that force origin work: no-cache, max-age, min-fresh
   * (RFC 9111 §5.2.1). Off stops any client from bypassing the cache at will. @default true
   */
  respectRequestNoCache?: boolean | undefined
  /** Stale-while-revalidate window for responses that do not set one. @default false */
  staleWhileRevalidate?: Ttl | false | undefined
  /** Stale-if-error window for responses that do not set one. @default false */
  staleIfError?: Ttl | false | undefined
  /**
   * How long a stale entry with a validator (ETag or Last-Modified) is kept, so it can be
   * revalidated with a conditional request instead of fetched again. @default '5m'
   */
  revalidationWindow?: Ttl | false | undefined
  /** ETag made for stored bodies the handler gave none. @default 'strong' */
  etag?: 'strong' | 'weak' | false | undefined
  /** A targeted field (RFC 9213) read instead of Cache-Control when present, e.g. 'CDN-Cache-Control'. @default false */
  targetedCacheControl?: string | false | undefined
  /** Response field whose space-separated values become tags; removed before the response leaves. @default 'Surrogate-Key' */
  surrogateKeyHeader?: string | false | undefined
  /** This cache's name in Cache-Status (an sf-token). @default 'cachewire' */
  cacheStatusName?: string | undefined
  /** Add `detail` (why) to Cache-Status. Never includes the key. @default false */
  debug?: boolean | undefined
  /** Concurrent misses for one key wait for one handler run, at most `timeoutMs`. @default { enabled: true, timeoutMs: 5000 } */
  coalesce?: boolean | { enabled?: boolean | undefined; timeoutMs?: number | undefined } | undefined
  /** Most variants (Vary) stored per URL; further variants are served uncached. @default 32 */
  maxVariants?: number | undefined
  /**
   * Largest size of a stored response's header lines, in bytes (names, values and `: `/CRLF).
   * Larger responses are served uncached. @default 16_384
   */
  maxHeaderSize?: number | undefined
  /**
   * The cardinality guard: at most `keys` distinct new keys per route (per host and path for
   * app-wide middleware) per `windowMs`; past it, misses are served uncached with reason
   * `cardinality`, so cache-busting URLs cannot flush the cache. At most 10,000 routes or paths
   * are tracked per window; more are refused too. @default { keys: 10_000, windowMs: '1m' }; false turns it off
   */
  maxKeysPerWindow?: MaxKeysPerWindow | false | undefined
  /**
   * Request header names that go into the key (like Vary, for every response of the route). A
   * guarded header (X-Forwarded-Host, X-Original-URL, Forwarded…) listed here no longer bypasses.
   * @default []
   */
  keyedHeaders?: readonly string[] | undefined
  /**
   * Guarded headers (X-Forwarded-Host, X-Forwarded-Proto, X-Original-URL, X-Rewrite-URL,
   * X-HTTP-Method-Override, Forwarded…) the app never reads: requests carrying them may use the
   * cache, unkeyed. By default a request carrying one bypasses with reason `unkeyed-header`, unless
   * the framework applied it to the host or protocol (`trust proxy`, `app.proxy`). @default []
   */
  ignoredHeaders?: readonly string[] | undefined
  /**
   * `'private'`: a per-user cache. Each entry is keyed by a SHA-256 hash of `privateKey(request)`
   * (the raw id never reaches a key, a store or a header); requests with Cookie or Authorization
   * may use it, and `Cache-Control: private` responses are stored. A request without an id bypasses
   * (reason `private-key`). Set-Cookie responses are still never stored. @default 'shared'
   */
  scope?: CacheScope | undefined
  /** The user id for `scope: 'private'` (required with it), e.g. `(req) => req.user?.id`. */
  privateKey?: PrivateKeyFunction | undefined
  /** Tags for every stored response, for `invalidateTags`. */
  tags?: TagsOption | undefined
  /** Milliseconds since epoch; inject one in tests. @default Date.now */
  clock?: (() => number) | undefined
  /** Called with errors the request path swallowed (background refresh, engine bugs). @default ignore */
  onError?: ((error: Error) => void) | undefined
  /** Surrogate-Key, Surrogate-Control and CDN-Cache-Control for a CDN in front. @default none */
  cdn?: CdnOptions | undefined
  /** Told of every invalidation (tags, URL purges, unsafe requests), e.g. `varnishPurger()`. @default [] */
  purgeHooks?: readonly PurgeHook[] | undefined
}

/**
 * Per-route overrides, resolved once with `resolveRouteOptions()` and passed on every request as
 * `HttpRequest.route`.
 *
 * @example
 * ```ts
 * const route = resolveRouteOptions({ ttl: '5m', tags: ['products'], key: (req) => req.headers['x-tenant'] as string })
 * ```
 */
export interface RouteOptions {
  ttl?: Ttl | undefined
  staleWhileRevalidate?: Ttl | false | undefined
  staleIfError?: Ttl | false | undefined
  allowCookies?: boolean | undefined
  /** Added to the engine's tags. */
  tags?: TagsOption | undefined
  /** Added to the engine's key material. */
  key?: KeyFunction | undefined
  /** Overrides the engine's `scope`. */
  scope?: CacheScope | undefined
  /** Overrides the engine's `privateKey`. */
  privateKey?: PrivateKeyFunction | undefined
  /** Replaces the engine's `keyedHeaders`. */
  keyedHeaders?: readonly string[] | undefined
  /** Replaces the engine's `ignoredHeaders`. */
  ignoredHeaders?: readonly string[] | undefined
  /** Overrides the engine's `maxKeysPerWindow` for this route (counted per route). */
  maxKeysPerWindow?: MaxKeysPerWindow | false | undefined
  /** Replaces the engine's `cdn` for this route; false sends no CDN fields. */
  cdn?: CdnOptions | false | undefined
}

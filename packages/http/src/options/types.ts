import type { Cache, Duration, Store } from '@cachewire/core'
import type { PurgeHook } from '../cdn/purge-hook.js'
import type { CacheControlOptions } from '../headers/cache-control-value.js'
import type {
  CacheScope,
  HttpRequest,
  KeyFunction,
  PrivateKeyFunction,
  TagsOption,
} from '../types.js'

/**
 * Options of `createHttpCache` (and, with `R` the framework's request, of an adapter's
 * `responseCache`). Grouped by concern; every group and name is checked when the engine is built:
 * a bad value, or a name nobody reads, throws an `InvalidOptionError` naming it.
 *
 * Durations are `'30s'`, `'5m'`, `'1h'`, `'90 seconds'`… or a number of milliseconds; a bare
 * number under 1000 is refused where a lifetime is meant (`ttl: 60` is "60 seconds" written wrong).
 *
 * @example
 * ```ts
 * import { createHttpCache } from '@cachewire/http'
 * const engine = createHttpCache({ ttl: '1m', stale: { ifError: '10m' }, keys: { hosts: ['example.com'] } })
 * ```
 */
export interface HttpCacheOptions<R = HttpRequest> {
  /**
   * Freshness for responses that carry none (no max-age, s-maxage or Expires): "cache this for
   * 5 minutes". Response headers always win. Without it, such responses are not stored (and the
   * engine warns once, `CACHEWIRE_NO_FRESHNESS`). @default undefined: follow response headers only
   */
  ttl?: Duration | undefined
  /** Tags for every stored response, for `invalidateTags`: a list, or a function of the request. */
  tags?: TagsOption<R> | undefined
  /** ETag made for stored bodies the handler gave none. @default 'strong' */
  etag?: 'strong' | 'weak' | false | undefined
  /** Where entries live, and how big they may be. */
  storage?: StorageOptions | undefined
  /** Which responses are stored, and which request directives are honoured. */
  freshness?: FreshnessOptions | undefined
  /** Stale windows for responses that set none (RFC 5861). */
  stale?: StaleOptions | undefined
  /** What goes into the cache key, and which requests use the cache at all. */
  keys?: KeysOptions<R> | undefined
  /** Who may share an entry: cookies, credentials, per-user caching, key floods. */
  safety?: SafetyOptions<R> | undefined
  /** Concurrent misses for one key wait for one handler run. @default true (timeout '5s') */
  coalesce?: boolean | CoalesceOptions | undefined
  /** What a CDN in front is told (Surrogate-Key, Surrogate-Control, CDN-Cache-Control, purges). */
  cdn?: CdnOptions | undefined
  /** Cache-Status, debug detail and swallowed errors. */
  observability?: ObservabilityOptions | undefined
  /** Milliseconds since epoch; inject one in tests. @default Date.now */
  clock?: (() => number) | undefined
}

/** `storage` options. */
export interface StorageOptions {
  /** A core `Cache` to keep entries in: share one between apps, or put it on Redis. @default a new Cache over `store` */
  cache?: Cache | undefined
  /** The store of the default cache; ignored when `cache` is given. @default new MemoryStore() */
  store?: Store | undefined
  /** Largest body stored, in bytes. Larger responses are served uncached. @default 1_048_576 */
  maxEntryBytes?: number | undefined
  /** Largest stored header section, in bytes (names, values, `: ` and CRLF). @default 16_384 */
  maxHeaderBytes?: number | undefined
  /** Most variants (Vary) stored per URL; further variants are served uncached. @default 32 */
  maxVariants?: number | undefined
}

/** `freshness` options. */
export interface FreshnessOptions {
  /** Statuses that may be stored. 206 and 304 never are. @default [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501] (RFC 9110 §15.1) */
  statuses?: readonly number[] | undefined
  /**
   * How long a stale entry with a validator (ETag or Last-Modified) is kept, so it can be
   * revalidated with a conditional request instead of fetched again. @default '5m'
   */
  revalidationWindow?: Duration | false | undefined
  /** A targeted field (RFC 9213) read instead of Cache-Control when present, e.g. 'CDN-Cache-Control'. @default false */
  targetedField?: string | false | undefined
  /**
   * What to do with request directives that would make the cache skip a fresh entry
   * (`Cache-Control: no-cache`, `max-age`, `min-fresh`, and `Pragma: no-cache` without
   * Cache-Control, RFC 9111 §5.2.1, §5.4). `'ignore'` them, as Varnish, nginx and CDNs do (RFC
   * 9111 §5.2.1 lets a cache), so no client can force origin work at will; or `'honour'` them:
   * then concurrent forced revalidations of one URL share one handler run, and a URL is
   * revalidated at a client's request at most once a second (requests past that are answered from
   * the entry just validated). `only-if-cached`, `max-stale` and `no-store` are always honoured.
   * @default 'ignore'
   */
  requestDirectives?: 'honour' | 'ignore' | undefined
  /**
   * Heuristic freshness (RFC 9111 §4.2.2), for use in front of origins that send no freshness: a
   * response with Last-Modified and no explicit freshness stays fresh for `fraction` of the time
   * since it was last modified, at most `max`; only for heuristically cacheable statuses (RFC
   * 9110 §15.1) or responses marked `public`. Tried after `ttl` (a `ttl` wins). `{}` is `{ fraction: 0.1, max: '1d' }` (the RFC's "typical" 10%, Apache httpd's
   * defaults). @default false
   */
  heuristic?: false | HeuristicOptions | undefined
}

/** `freshness.heuristic` options. */
export interface HeuristicOptions {
  /** Share of the time since Last-Modified the response stays fresh, in (0, 1]. @default 0.1 */
  fraction?: number | undefined
  /** Longest heuristic lifetime. @default '1d' */
  max?: Duration | undefined
}

/** `stale` options: windows for responses that set none of their own. */
export interface StaleOptions {
  /** Serve a stale entry while it is refreshed in the background (RFC 5861 §3). @default false */
  whileRevalidate?: Duration | false | undefined
  /** Serve a stale entry when the handler fails or answers 5xx (RFC 5861 §4). @default false */
  ifError?: Duration | false | undefined
}

/** `keys` options. */
export interface KeysOptions<R = HttpRequest> {
  /**
   * Hosts whose requests use the cache: exact names (`example.com`) or one-level-or-deeper
   * wildcards (`*.example.com`, which does not match `example.com` itself). Other hosts bypass.
   * The host is always part of the key. @default undefined: any host
   */
  hosts?: readonly string[] | undefined
  /** Methods answered from the cache. Only GET responses are stored. @default ['GET', 'HEAD'] */
  methods?: ReadonlyArray<'GET' | 'HEAD'> | undefined
  query?:
    | {
        /** Sort query parameters by name (values of one name keep their order). @default true */
        sort?: boolean | undefined
        /** Parameter names left out of the key; `*` matches any run of characters. @default ['utm_*', 'fbclid', 'gclid'] */
        ignore?: readonly string[] | undefined
      }
    | undefined
  /** Extra key material per request (a tenant id, say); return false to not cache the request. Runs once per request. */
  key?: KeyFunction<R> | undefined
  /**
   * Request header names that go into the key (like Vary, for every response). A guarded header
   * (X-Forwarded-Host, X-Original-URL, Forwarded…) listed here no longer bypasses. @default []
   */
  keyedHeaders?: readonly string[] | undefined
  /**
   * Guarded headers (X-Forwarded-Host, X-Forwarded-Proto, X-Original-URL, X-Rewrite-URL,
   * X-HTTP-Method-Override, Forwarded…) the app never reads: requests carrying them may use the
   * cache, unkeyed. By default a request carrying one bypasses with reason `unkeyed-header`, unless
   * the framework applied it to the host or protocol (`trust proxy`, `app.proxy`). @default []
   */
  ignoredHeaders?: readonly string[] | undefined
}

/** `safety` options. */
export interface SafetyOptions<R = HttpRequest> {
  /** Let requests with a Cookie use the cache. Responses that set cookies are still never stored. @default false */
  allowCookies?: boolean | undefined
  /**
   * Store responses to requests with Authorization for others when they say `public`, `s-maxage`
   * or `must-revalidate`, as RFC 9111 §3.5 permits. Without it they are never stored, whatever
   * they say (a request with Authorization is still answered from entries stored for everyone
   * that say one of those). Turn it on only for routes whose responses are the same for every
   * account. @default false
   */
  shareAuthenticated?: boolean | undefined
  /**
   * Deception armor: a response to a request with Cookie or Authorization that the handler left
   * without Cache-Control goes out with `Cache-Control: private`, so a CDN or proxy in front
   * cannot keep it either. Responses the engine stores for everyone (under `allowCookies`) go out
   * as their hits do, unmarked; under `scope: 'private'` the stored entry itself says `private`,
   * on the miss and on every hit. @default true
   */
  privateIfCredentialed?: boolean | undefined
  /**
   * `'private'`: a per-user cache. Each entry is keyed by a SHA-256 hash of `privateKey(request)`
   * (the raw id never reaches a key, a store or a header); requests with Cookie or Authorization
   * may use it, and `Cache-Control: private` responses are stored. A request without an id bypasses
   * (reason `private-key`). Set-Cookie responses are still never stored. @default 'shared'
   */
  scope?: CacheScope | undefined
  /** The user id for `scope: 'private'` (required with it), e.g. `(req) => req.user?.id`. */
  privateKey?: PrivateKeyFunction<R> | undefined
  /**
   * The cardinality guard: at most `keys` distinct new keys per route (per host and path for
   * app-wide caching) per `window`; past it, misses are served uncached with reason
   * `cardinality`, so cache-busting URLs cannot flush the cache. At most 10,000 routes or paths
   * are tracked per window; more are refused too. @default { keys: 10_000, window: '1m' }; false turns it off
   */
  maxKeysPerWindow?: MaxKeysPerWindow | false | undefined
}

/** At most `keys` new keys per route (or per host and path) per `window`. */
export interface MaxKeysPerWindow {
  keys: number
  window: Duration
}

/** `coalesce` options. */
export interface CoalesceOptions {
  /** A waiter runs the handler itself after this long. @default '5s' */
  timeout?: Duration | undefined
}

/**
 * What the engine tells a CDN in front of it. The fields are sent only on responses the engine
 * stores (or answers from its store), never on bypasses or responses it refused to store (private,
 * Set-Cookie, no-store…), so a CDN is never told to keep what a shared cache must not.
 *
 * @example
 * ```ts
 * createHttpCache({ cdn: { surrogateKeys: true, cdnCacheControl: { public: true, maxAge: '10m' } } })
 * ```
 */
export interface CdnOptions {
  /**
   * Send the response's tags (engine, route and handler `Surrogate-Key` tags; never the internal
   * URL tags) as `Surrogate-Key`, so the CDN can purge by the same tags. @default false
   */
  surrogateKeys?: boolean | undefined
  /** `Surrogate-Control` (Fastly, Akamai, Varnish setups): directives or a ready value. @default none */
  surrogateControl?: CacheControlOptions | string | undefined
  /** `CDN-Cache-Control` (RFC 9213): directives or a ready value. @default none */
  cdnCacheControl?: CacheControlOptions | string | undefined
  /** Response field whose space-separated values become tags; removed before the response leaves. @default 'Surrogate-Key' */
  surrogateKeyHeader?: string | false | undefined
  /** Told of every invalidation (tags, URL purges, unsafe requests), e.g. `varnishPurger()`. @default [] */
  purgeHooks?: readonly PurgeHook[] | undefined
}

/** `observability` options. */
export interface ObservabilityOptions {
  /** Add `detail` (why) to Cache-Status. Never includes the key. @default false */
  debug?: boolean | undefined
  /** This cache's name in Cache-Status (an sf-token). @default 'cachewire' */
  cacheStatusName?: string | undefined
  /** Called with errors the request path swallowed (background refresh, engine bugs). @default ignore */
  onError?: ((error: Error) => void) | undefined
}

/**
 * A per-route policy: the same group names as {@link HttpCacheOptions}, with only what may vary
 * per route. Anything else is the app's (one engine per app) and is refused here with a message
 * saying where it goes. Resolve it once with `resolveRoutePolicy()`.
 *
 * @example
 * ```ts
 * import { resolveRoutePolicy } from '@cachewire/http'
 * const route = resolveRoutePolicy({ ttl: '5m', tags: ['products'], stale: { ifError: '1h' } })
 * ```
 */
export interface RouteOptions<R = HttpRequest> {
  /**
   * The route's name in metrics, the inspector and traces (`cachewire.route`): hit ratios are
   * counted per name. Letters, digits and `_ - . : /`, 1 to 64 of them. Routes without one are
   * counted together as `unnamed`; requests no route met, as `default`.
   */
  name?: string | undefined
  /** Overrides the app's `ttl`. */
  ttl?: Duration | undefined
  /** Added to the app's tags. */
  tags?: TagsOption<R> | undefined
  /** Overrides the app's windows, one by one. */
  stale?: StaleOptions | undefined
  keys?:
    | {
        /** Added to the app's key material: entries of this route get keys of their own. */
        key?: KeyFunction<R> | undefined
        /** Replaces the app's `keys.keyedHeaders`. */
        keyedHeaders?: readonly string[] | undefined
        /** Replaces the app's `keys.ignoredHeaders`. */
        ignoredHeaders?: readonly string[] | undefined
      }
    | undefined
  safety?:
    | {
        /** Overrides the app's `safety.allowCookies`. */
        allowCookies?: boolean | undefined
        /** Overrides the app's `safety.shareAuthenticated`: the per-route opt-in to share responses to requests with Authorization. */
        shareAuthenticated?: boolean | undefined
        /** Overrides the app's `safety.privateIfCredentialed`. */
        privateIfCredentialed?: boolean | undefined
        /** Overrides the app's `safety.scope`. */
        scope?: CacheScope | undefined
        /** Overrides the app's `safety.privateKey`. */
        privateKey?: PrivateKeyFunction<R> | undefined
        /** Overrides the app's guard for this route (counted per route). */
        maxKeysPerWindow?: MaxKeysPerWindow | false | undefined
      }
    | undefined
  /** Replaces the app's CDN fields for this route; false sends none. */
  cdn?:
    Pick<CdnOptions, 'surrogateKeys' | 'surrogateControl' | 'cdnCacheControl'> | false | undefined
}

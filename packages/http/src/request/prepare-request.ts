import { sha256 } from './digest.js'
import type { ResolvedHttpCacheOptions } from '../options/resolve-options.js'
import type { CacheControlDirectives } from '../semantics/cache-control.js'
import { Reason } from '../semantics/reasons.js'
import type {
  CacheScope,
  CardinalityLimit,
  HttpRequest,
  PrivateKeyFunction,
  RoutePolicy,
} from '../types.js'
import { parseTarget, primaryKey, type KeyHasher, type RequestTarget } from './cache-key.js'
import { checkEligibility } from './eligibility.js'
import { forwardedProtoApplied } from './forwarded-proto.js'
import { normaliseHost, type NormalisedHost } from './host.js'
import { normaliseQueryReporting, withoutIgnoredParams } from './query.js'
import { findUnkeyedHeader, keyedHeaderMaterial } from './unkeyed-headers.js'

/** Everything later steps need about a request that may use the cache. */
export interface RequestContext {
  request: HttpRequest
  /** The route policy in force. A route of the same engine met downstream may adopt the pass (see `adopt`). */
  route: RoutePolicy | undefined
  method: 'GET' | 'HEAD'
  /** The request's Cache-Control directives: one frozen, empty object shared by requests that sent none. */
  directives: CacheControlDirectives
  authorization: boolean
  noStore: boolean
  protocol: 'http' | 'https'
  authority: string
  path: string
  /** Normalised query. */
  query: string
  /** The target carries query parameters the key ignores: the handler must not see them. */
  ignoredParams: boolean
  /** The target as the handler sees it: `request.url` without the ignored parameters. */
  handlerUrl: string
  /** Full primary key text, kept in entries and compared on read. */
  primary: string
  /** Store key of the primary key. */
  primaryHash: string
  /** `private`: the key holds a hash of the user's id, and credentials do not restrict reuse. */
  scope: CacheScope
  /** The cardinality guard's limit for this request, or false. */
  limit: CardinalityLimit | false
  /**
   * The coalescer's count of settled runs when the lookup began (see `Coalescer.ticket`): a run
   * that settled after it may answer this request, whose lookup could not have seen its write.
   */
  ticket?: number | undefined
}

/** A request that goes around the cache, and what an unsafe one invalidates. */
export interface Bypass {
  reason: Reason
  /** Set for unsafe methods on an allowed host: the URL to invalidate on success. */
  invalidation:
    { protocol: 'http' | 'https'; authority: string; path: string; query: string } | undefined
}

/** What a request is, whatever the policy: computed once and shared by its refinements. */
export interface RequestFacts {
  readonly target: RequestTarget | undefined
  readonly host: NormalisedHost | undefined
  /** The allowed host, or undefined. */
  readonly allowed: NormalisedHost | undefined
  query: string | undefined
  /** Whether the query had parameters the key ignores (set with `query`). */
  ignored: boolean
  /** The app's `key()` output, once it ran (it runs at most once per request). */
  appKey: { value: string | false | undefined } | undefined
  /** Private ids by the function that gave them; made on the first, as most requests have none. */
  ids: Map<PrivateKeyFunction, string | undefined> | undefined
}

/**
 * One request, prepared once (DESIGN rule 8): eligibility, target, host and key, with the user's
 * key functions run once. A route of the same engine met downstream refines it with
 * `engine.refine(prepared, route)`, reusing everything that does not depend on the route.
 */
export class PreparedRequest {
  readonly request: HttpRequest
  /** Set when the request uses the cache. */
  readonly context: RequestContext | undefined
  /** Set when it goes around the cache. */
  readonly bypass: Bypass | undefined
  /** @internal */
  readonly facts: RequestFacts

  constructor(request: HttpRequest, verdict: RequestContext | Bypass, facts: RequestFacts) {
    this.request = request
    this.context = 'primary' in verdict ? verdict : undefined
    this.bypass = 'primary' in verdict ? undefined : verdict
    this.facts = facts
  }

  /** Whether `other` (a refinement) finds and stores the same entry: same key, or the same bypass. */
  sameEntry(other: PreparedRequest): boolean {
    if (this.context !== undefined) return other.context?.primary === this.context.primary
    return other.bypass !== undefined && other.bypass.reason === this.bypass?.reason
  }
}

/**
 * Step 1 of every request: eligibility, then the primary key (DESIGN rule 1): method class,
 * scheme, an allowed and normalised host, the path, the normalised query and key material,
 * hashed before it reaches a store. Pure except for the user's key functions, which the caller
 * guards. Route key material (a route's key function, private scope, keyed headers, CDN fields,
 * refused cookies) changes the key, so an entry is found only under the policy that stored it.
 *
 * @example
 * ```ts
 * const prepared = prepareRequest(request, options, hasher)
 * if (prepared.bypass !== undefined) console.log('bypass:', prepared.bypass.reason)
 * ```
 */
export function prepareRequest(
  request: HttpRequest,
  options: ResolvedHttpCacheOptions,
  hasher: KeyHasher,
  facts?: RequestFacts
): PreparedRequest {
  const { route } = request
  const known = facts ?? analyse(request, options)
  return new PreparedRequest(request, verdict(request, route, known, options, hasher), known)
}

/**
 * The same request under a route's policy, reusing what `prepared` already knows (the app's
 * `key()` output among it).
 *
 * @example
 * ```ts
 * const refined = refineRequest(prepared, route, options, hasher)
 * if (prepared.sameEntry(refined)) outcome.adopt(route)
 * ```
 */
export function refineRequest(
  prepared: PreparedRequest,
  route: RoutePolicy,
  options: ResolvedHttpCacheOptions,
  hasher: KeyHasher
): PreparedRequest {
  return prepareRequest({ ...prepared.request, route }, options, hasher, prepared.facts)
}

function analyse(request: HttpRequest, options: ResolvedHttpCacheOptions): RequestFacts {
  const target = typeof request.url === 'string' ? parseTarget(request.url) : undefined
  const host =
    typeof request.host === 'string' &&
    (request.protocol === 'http' || request.protocol === 'https')
      ? normaliseHost(request.host, request.protocol)
      : undefined
  const allowed = host !== undefined && (options.hosts?.(host.hostname) ?? true) ? host : undefined
  return {
    target,
    host,
    allowed,
    query: undefined,
    ignored: false,
    appKey: undefined,
    ids: undefined,
  }
}

function verdict(
  request: HttpRequest,
  route: RoutePolicy | undefined,
  facts: RequestFacts,
  options: ResolvedHttpCacheOptions,
  hasher: KeyHasher
): RequestContext | Bypass {
  const scope = route?.scope ?? options.scope
  const eligibility = checkEligibility(request.method, request.headers, {
    methods: options.methods,
    // A private entry is keyed by the user, so the cookie that identifies them may come along.
    allowCookies: scope === 'private' || (route?.allowCookies ?? options.allowCookies),
  })
  const protocol = request.protocol
  if (protocol !== 'http' && protocol !== 'https')
    return { reason: Reason.Url, invalidation: undefined }
  const { target, allowed } = facts
  if (!eligibility.eligible) {
    const invalidation =
      eligibility.invalidates && target !== undefined && allowed !== undefined
        ? {
            protocol,
            authority: allowed.authority,
            path: target.path,
            query: queryOf(facts, options),
          }
        : undefined
    return { reason: eligibility.reason, invalidation }
  }
  // RFC 9112 §3.2: a request target has no fragment, and clients never send one. Node passes it
  // through in `req.url`, where an app that reflects its URL would read it, yet the key cannot
  // cover it: it would be an unkeyed input (`/page#"><script>` stored under `/page`).
  if (target === undefined || request.url.includes('#'))
    return { reason: Reason.Url, invalidation: undefined }
  const keyedHeaders = route?.keyedHeaders ?? options.keyedHeaders
  const ignoredHeaders = route?.ignoredHeaders ?? options.ignoredHeaders
  // Before the host is judged: a host the framework took from a forwarded value the key does not
  // hold exactly (Fastify reads the last member of an X-Forwarded-Host list) came from an
  // unkeyed input, and that, not the allow-list, is why the request goes around the cache.
  if (
    findUnkeyedHeader(
      request.headers,
      { keyed: keyedHeaders, ignored: ignoredHeaders },
      appliedForwarded(request)
    ) !== undefined
  ) {
    return { reason: Reason.UnkeyedHeader, invalidation: undefined }
  }
  if (allowed === undefined) return { reason: Reason.Host, invalidation: undefined }
  // RFC 9112 §3.2.2: an absolute-form target's authority overrides Host, but the app reads Host
  // (and the connection's scheme). When they disagree, the handler's view and the key's could
  // differ: stay out of the way.
  if (!request.url.startsWith('/') && !sameAuthority(request.url, protocol, allowed.authority)) {
    return { reason: Reason.Host, invalidation: undefined }
  }
  const query = queryOf(facts, options)
  // A parameter the key ignores must not reach the handler (DESIGN rule 2): the adapter removes
  // it from the request the app sees, or the request goes around the cache.
  if (facts.ignored && request.stripsIgnoredParams !== true)
    return { reason: Reason.IgnoredParam, invalidation: undefined }
  const extra: string[] = []
  if (scope === 'private') {
    const id = privateId(request, route?.privateKey ?? options.privateKey, facts)
    if (typeof id !== 'string' || id === '')
      return { reason: Reason.PrivateKey, invalidation: undefined }
    // Only a hash of the id reaches the key text, which is kept inside stored entries.
    extra.push(`private:${sha256(`cachewire-private\n${id}`, 'hex')}`)
  }
  const headerPart = keyedHeaderMaterial(request.headers, keyedHeaders)
  if (headerPart !== undefined) extra.push(headerPart)
  if (options.key !== undefined) {
    facts.appKey ??= { value: options.key(request) }
    const part = facts.appKey.value
    if (part === false) return { reason: Reason.Key, invalidation: undefined }
    if (typeof part === 'string') extra.push(`key:${part}`)
  }
  if (route !== undefined) {
    if (route.key !== undefined) {
      const part = route.key(request)
      if (part === false) return { reason: Reason.Key, invalidation: undefined }
      // Present even when empty: a route's key function always gives its entries keys of their own.
      extra.push(`route:${typeof part === 'string' ? part : ''}`)
    }
    const cdn = cdnFingerprint(route.cdn)
    if (route.cdn !== undefined && cdn !== cdnFingerprint(options.cdn)) extra.push(`cdn:${cdn}`)
    if (route.allowCookies === false && options.allowCookies) extra.push('cookies:off')
  }
  const plain =
    extra.length === 0 ? hasher.plain(protocol, allowed.authority, target.path, query) : undefined
  const primary =
    plain?.key ??
    primaryKey({
      scheme: protocol,
      authority: allowed.authority,
      path: target.path,
      query,
      extra,
    })
  return {
    request,
    route,
    method: request.method as 'GET' | 'HEAD',
    directives: eligibility.directives,
    // RFC 9111 §3.5 restricts shared caches; a private entry answers only its own user.
    authorization: scope === 'private' ? false : eligibility.authorization,
    noStore: eligibility.noStore,
    protocol,
    authority: allowed.authority,
    path: target.path,
    query,
    ignoredParams: facts.ignored,
    handlerUrl: facts.ignored ? withoutIgnoredParams(request.url, options.query) : request.url,
    primary,
    primaryHash: plain?.hash ?? hasher.hash(primary),
    // Set by the lookup; in the literal so every context has one shape.
    ticket: undefined,
    scope,
    limit: route?.maxKeysPerWindow ?? options.maxKeysPerWindow,
  }
}

/**
 * The forwarded fields the framework applied that the key holds exactly (issue 14): an
 * X-Forwarded-Proto counts only when it is one `http` or `https` equal to the keyed protocol
 * (`nothttps`, `ftp, https` would be reflected by the app while the key says `http`), and an
 * X-Forwarded-Host only when it is one value equal to the host the framework resolved (a list's
 * later members, which the app could read, are not in the key). Anything else makes the request
 * bypass as an unkeyed header.
 */
function appliedForwarded(request: HttpRequest): readonly string[] | undefined {
  const applied = request.forwarded
  if (applied === undefined || applied.length === 0) return applied
  let kept: string[] | undefined
  for (const name of applied) {
    const exact =
      name === 'x-forwarded-proto'
        ? forwardedProtoApplied(request.headers[name], request.protocol)
        : name === 'x-forwarded-host'
          ? request.headers[name] === request.host
          : true
    if (exact) (kept ??= []).push(name)
  }
  return kept
}

function queryOf(facts: RequestFacts, options: ResolvedHttpCacheOptions): string {
  if (facts.query === undefined) {
    const { query, ignored } = normaliseQueryReporting(facts.target?.query ?? '', options.query)
    facts.query = query
    facts.ignored = ignored
  }
  return facts.query
}

function privateId(
  request: HttpRequest,
  fn: PrivateKeyFunction | undefined,
  facts: RequestFacts
): string | undefined {
  if (fn === undefined) return undefined
  const ids = (facts.ids ??= new Map())
  if (!ids.has(fn)) ids.set(fn, fn(request))
  return ids.get(fn)
}

function cdnFingerprint(cdn: RoutePolicy['cdn']): string {
  return cdn === undefined || cdn === false ? 'none' : cdn.fingerprint
}

function sameAuthority(url: string, protocol: 'http' | 'https', authority: string): boolean {
  const match = /^(https?):\/\/([^/?#]*)/i.exec(url)
  if (match === null || (match[1] as string).toLowerCase() !== protocol) return false
  return normaliseHost(match[2] as string, protocol)?.authority === authority
}

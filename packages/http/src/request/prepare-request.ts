import type { ResolvedHttpCacheOptions } from '../options.js'
import type { CacheControlDirectives } from '../semantics/cache-control.js'
import { Reason } from '../semantics/reasons.js'
import type { HttpRequest } from '../types.js'
import { createHash } from 'node:crypto'
import type { CardinalityLimit } from '../flows/cardinality-guard.js'
import type { CacheScope } from '../types.js'
import { hashKey, parseTarget, primaryKey, type KeyHasher } from './cache-key.js'
import { checkEligibility } from './eligibility.js'
import { normaliseHost } from './host.js'
import { normaliseQuery } from './query.js'
import { findUnkeyedHeader, keyedHeaderMaterial } from './unkeyed-headers.js'

/** Everything later steps need about a request that may use the cache. */
export interface RequestContext {
  request: HttpRequest
  method: 'GET' | 'HEAD'
  directives: CacheControlDirectives
  authorization: boolean
  noStore: boolean
  protocol: 'http' | 'https'
  authority: string
  path: string
  /** Normalised query. */
  query: string
  /** Full primary key text, kept in entries and compared on read. */
  primary: string
  /** Store key of the primary key. */
  primaryHash: string
  /** `private`: the key holds a hash of the user's id, and credentials do not restrict reuse. */
  scope: CacheScope
  /** The cardinality guard's limit for this request, or false. */
  limit: CardinalityLimit | false
  /** What the guard counts keys per: the route's policy, or the host and path. */
  group: unknown
}

/** A request that goes around the cache, and what an unsafe one invalidates. */
export interface Bypass {
  reason: Reason
  /** Set for unsafe methods on an allowed host: the URL to invalidate on success. */
  invalidation: { protocol: 'http' | 'https'; authority: string; path: string; query: string } | undefined
}

/**
 * Step 1 of every request: eligibility, then the primary key (DESIGN rule 1): method class,
 * scheme, an allowed and normalised host, the path, the normalised query and key-function
 * material, hashed before it reaches a store. Pure except for the user's key functions,
 * which the caller guards.
 *
 * @example
 * ```ts
 * const prepared = prepareRequest(request, options)
 * if ('reason' in prepared) console.log('bypass:', prepared.reason)
 * ```
 */
export function prepareRequest(request: HttpRequest, options: ResolvedHttpCacheOptions, hasher?: KeyHasher): RequestContext | Bypass {
  const { route } = request
  const scope = route?.scope ?? options.scope
  const eligibility = checkEligibility(request.method, request.headers, {
    methods: options.methods,
    // A private entry is keyed by the user, so the cookie that identifies them may come along.
    allowCookies: scope === 'private' || (route?.allowCookies ?? options.allowCookies),
  })
  const protocol = request.protocol
  if (protocol !== 'http' && protocol !== 'https') return { reason: Reason.Url, invalidation: undefined }
  const target = parseTarget(request.url)
  const host = typeof request.host === 'string' ? normaliseHost(request.host, protocol) : undefined
  const allowed = host !== undefined && (options.hosts?.(host.hostname) ?? true) ? host : undefined
  if (!eligibility.eligible) {
    const invalidation =
      eligibility.invalidates && target !== undefined && allowed !== undefined
        ? { protocol, authority: allowed.authority, path: target.path, query: normaliseQuery(target.query, options.query) }
        : undefined
    return { reason: eligibility.reason, invalidation }
  }
  // RFC 9112 §3.2: a request target has no fragment, and clients never send one. Node passes it
  // through in `req.url`, where an app that reflects its URL would read it, yet the key cannot
  // cover it: it would be an unkeyed input (`/page#"><script>` stored under `/page`).
  if (target === undefined || request.url.includes('#')) return { reason: Reason.Url, invalidation: undefined }
  if (allowed === undefined) return { reason: Reason.Host, invalidation: undefined }
  // RFC 9112 §3.2.2: an absolute-form target's authority overrides Host, but the app reads Host
  // (and the connection's scheme). When they disagree, the handler's view and the key's could
  // differ: stay out of the way.
  if (!request.url.startsWith('/') && !sameAuthority(request.url, protocol, allowed.authority)) {
    return { reason: Reason.Host, invalidation: undefined }
  }
  const keyedHeaders = route?.keyedHeaders ?? options.keyedHeaders
  const ignoredHeaders = route?.ignoredHeaders === undefined ? options.ignoredHeaders : new Set(route.ignoredHeaders)
  if (findUnkeyedHeader(request.headers, { keyed: keyedHeaders, ignored: ignoredHeaders }, request.forwarded) !== undefined) {
    return { reason: Reason.UnkeyedHeader, invalidation: undefined }
  }
  const query = normaliseQuery(target.query, options.query)
  const extra: string[] = []
  if (scope === 'private') {
    const id = (route?.privateKey ?? options.privateKey)?.(request)
    if (typeof id !== 'string' || id === '') return { reason: Reason.PrivateKey, invalidation: undefined }
    // Only a hash of the id reaches the key text, which is kept inside stored entries.
    extra.push(`private:${createHash('sha256').update(`cachewire-private\n${id}`).digest('hex')}`)
  }
  const headerPart = keyedHeaderMaterial(request.headers, keyedHeaders)
  if (headerPart !== undefined) extra.push(headerPart)
  for (const keyFunction of [options.key, route?.key]) {
    if (keyFunction === undefined) continue
    const part = keyFunction(request)
    if (part === false) return { reason: Reason.Key, invalidation: undefined }
    if (typeof part === 'string') extra.push(part)
  }
  const primary = primaryKey({ scheme: protocol, authority: allowed.authority, path: target.path, query, extra })
  return {
    request,
    method: request.method as 'GET' | 'HEAD',
    directives: eligibility.directives,
    // RFC 9111 §3.5 restricts shared caches; a private entry answers only its own user.
    authorization: scope === 'private' ? false : eligibility.authorization,
    noStore: eligibility.noStore,
    protocol,
    authority: allowed.authority,
    path: target.path,
    query,
    primary,
    primaryHash: hasher === undefined ? hashKey(primary) : hasher.hash(primary),
    scope,
    limit: route?.maxKeysPerWindow ?? options.maxKeysPerWindow,
    group: route ?? `${protocol}://${allowed.authority}${target.path}`,
  }
}

function sameAuthority(url: string, protocol: 'http' | 'https', authority: string): boolean {
  const match = /^(https?):\/\/([^/?#]*)/i.exec(url)
  if (match === null || (match[1] as string).toLowerCase() !== protocol) return false
  return normaliseHost(match[2] as string, protocol)?.authority === authority
}

import { parseCacheControl, hasDirectives, type CacheControlDirectives } from '../semantics/cache-control.js'
import { generateEtag, type EtagMode } from '../semantics/etag.js'
import { correctedInitialAge, freshnessLifetime, type Freshness } from '../semantics/freshness.js'
import { headerValue, notModifiedHeaders, withoutHopByHop } from '../semantics/headers.js'
import { allowsAuthenticated } from '../semantics/storability.js'
import { parseVary } from '../semantics/vary.js'
import type { HeaderPair, HeaderPairs, StoredResponse } from '../types.js'

/** The resolved options that decide how a response becomes an entry. */
export interface EntryPolicy {
  etag: EtagMode
  /** Lower-case targeted field name (RFC 9213), when enabled. */
  targetedField: string | undefined
  /** Lower-case surrogate-key field name, when enabled. */
  surrogateKeyHeader: string | undefined
  ttlMs: number | undefined
  staleWhileRevalidateMs: number
  staleIfErrorMs: number
  revalidationWindowMs: number
}

/** What the caching rules read from a response, computed once per response. */
export interface ResponseFacts {
  directives: CacheControlDirectives
  vary: readonly string[] | '*'
  freshness: Freshness
  staleWhileRevalidateMs: number
  staleIfErrorMs: number
  /** The handler's own validators (a generated ETag does not count: RFC 9111 §4.3.1 needs the origin's). */
  hasValidator: boolean
  /**
   * The response says nothing about freshness (no max-age, s-maxage, Expires or no-cache) and no
   * `ttl` applies: it is not stored, however many validators it has (DESIGN: no silent storing).
   */
  noFreshness: boolean
  /** Explicit freshness with some lifetime, a validator or a stale window: otherwise an entry could never be used. */
  reusable: boolean
}

/**
 * Reads a response's caching facts. RFC 9213: with a targeted field enabled and present (and
 * holding at least one directive), it replaces Cache-Control entirely for this cache. A response
 * without any freshness information and no `ttl` is never reusable: explicit `no-cache` or
 * `max-age=0` with a validator still is (for revalidation), silence is not.
 * RFC 9111 §4.2.4: must-revalidate, proxy-revalidate and no-cache forbid serving stale, so
 * they close both stale windows.
 *
 * @example
 * ```ts
 * analyseResponse([['cache-control', 'max-age=60, stale-if-error=600']], policy, Date.now())
 * ```
 */
export function analyseResponse(pairs: HeaderPairs, policy: EntryPolicy, responseTime: number): ResponseFacts {
  let directives: CacheControlDirectives | undefined
  if (policy.targetedField !== undefined) {
    const targeted = headerValue(pairs, policy.targetedField)
    if (targeted !== undefined) {
      const parsed = parseCacheControl(targeted)
      if (hasDirectives(parsed)) directives = parsed
    }
  }
  directives ??= parseCacheControl(headerValue(pairs, 'cache-control'))
  const freshness = freshnessLifetime({
    directives,
    expires: headerValue(pairs, 'expires'),
    date: headerValue(pairs, 'date'),
    responseTime,
    routeTtlMs: policy.ttlMs,
  })
  const staleForbidden =
    directives['must-revalidate'] === true || directives['proxy-revalidate'] === true || directives['no-cache'] === true
  const window = (seconds: number | undefined, fallbackMs: number): number =>
    staleForbidden ? 0 : seconds === undefined ? fallbackMs : seconds * 1000
  const staleWhileRevalidateMs = window(directives['stale-while-revalidate'], policy.staleWhileRevalidateMs)
  const staleIfErrorMs = window(directives['stale-if-error'], policy.staleIfErrorMs)
  const hasValidator = pairs.some(([name]) => name === 'etag' || name === 'last-modified')
  const noFreshness = freshness.source === 'none'
  return {
    directives,
    vary: parseVary(headerValue(pairs, 'vary')),
    freshness,
    staleWhileRevalidateMs,
    staleIfErrorMs,
    hasValidator,
    noFreshness,
    reusable: !noFreshness && (freshness.lifetimeMs > 0 || hasValidator || staleWhileRevalidateMs > 0 || staleIfErrorMs > 0),
  }
}

export interface BuildEntryInput {
  key: string
  status: number
  pairs: HeaderPairs
  body: Buffer
  facts: ResponseFacts
  requestTime: number
  responseTime: number
  tags: readonly string[]
  /** The route policy's name, kept for per-route hit counts. */
  route?: string | undefined
}

/** Statuses whose responses have no body, so no Content-Length is added (RFC 9110 §8.6). */
const BODYLESS_STATUSES: ReadonlySet<number> = new Set([204, 304])

/**
 * Turns a storable response into an entry, deriving once everything a hit needs: wire headers
 * (hop-by-hop, Set-Cookie, Age, Cache-Status and the surrogate-key field removed; an ETag and a
 * Content-Length added when missing), the 304 subset, and absolute instants for each window.
 *
 * @example
 * ```ts
 * const entry = buildStoredResponse({ key, status: 200, pairs, body, facts, requestTime, responseTime, tags: [] })
 * ```
 */
export function buildStoredResponse(input: BuildEntryInput, policy: EntryPolicy): StoredResponse {
  const { pairs, facts, body, responseTime } = input
  const excluded = new Set(['set-cookie', 'age', 'cache-status'])
  if (policy.surrogateKeyHeader !== undefined) excluded.add(policy.surrogateKeyHeader)
  const headers: HeaderPair[] = withoutHopByHop(pairs, excluded)
  let etag = headerValue(headers, 'etag')
  if (etag === undefined && policy.etag !== false) {
    etag = generateEtag(body, policy.etag)
    headers.push(['etag', etag])
  }
  if (!BODYLESS_STATUSES.has(input.status) && !headers.some(([name]) => name === 'content-length')) {
    headers.push(['content-length', String(body.length)])
  }
  const initialAgeMs = correctedInitialAge({
    age: headerValue(pairs, 'age'),
    date: headerValue(pairs, 'date'),
    requestTime: input.requestTime,
    responseTime,
  })
  const staleAt = responseTime + facts.freshness.lifetimeMs - initialAgeMs
  const staleWhileRevalidateUntil = staleAt + facts.staleWhileRevalidateMs
  const staleIfErrorUntil = staleAt + facts.staleIfErrorMs
  const revalidateUntil = etag === undefined && headerValue(headers, 'last-modified') === undefined
    ? staleAt
    : staleAt + policy.revalidationWindowMs
  const { directives } = facts
  return {
    key: input.key,
    status: input.status,
    headers,
    notModifiedHeaders: notModifiedHeaders(headers),
    body,
    storedAt: responseTime,
    initialAgeMs,
    staleAt,
    staleWhileRevalidateUntil,
    staleIfErrorUntil,
    expiresAt: Math.max(staleAt, staleWhileRevalidateUntil, staleIfErrorUntil, revalidateUntil),
    etag,
    lastModified: headerValue(headers, 'last-modified'),
    vary: facts.vary === '*' ? [] : facts.vary,
    tags: input.tags,
    upstreamCacheStatus: headerValue(pairs, 'cache-status'),
    // RFC 9111 §5.2.2.10: s-maxage implies proxy-revalidate in a shared cache.
    allowMaxStale:
      directives['must-revalidate'] !== true &&
      directives['proxy-revalidate'] !== true &&
      directives['no-cache'] !== true &&
      directives['s-maxage'] === undefined,
    sharedWithAuthorization: allowsAuthenticated(directives),
    ...(input.route === undefined ? {} : { route: input.route }),
  }
}

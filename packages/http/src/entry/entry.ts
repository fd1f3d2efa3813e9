import type { CacheControlDirectives } from '../semantics/cache-control.js'
import { generateEtag, type EtagMode } from '../semantics/etag.js'
import { correctedInitialAge, freshnessLifetime, type Freshness } from '../semantics/freshness.js'
import { headerValue, notModifiedHeaders, withoutHopByHop } from '../semantics/headers.js'
import type { HeuristicPolicy } from '../semantics/heuristic-freshness.js'
import { allowsAuthenticated, hasExplicitFreshness } from '../semantics/storability.js'
import { selectCacheControl } from '../semantics/targeted-cache-control.js'
import { parseVary } from '../semantics/vary.js'
import type { CacheScope, HeaderPair, HeaderPairs, StoredResponse } from '../types.js'

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
  /** Opt-in heuristic freshness (RFC 9111 §4.2.2), tried after `ttlMs`; absent: none. */
  heuristic?: HeuristicPolicy | undefined
  /**
   * `private`: the entry serves one user, so the cache reads the response as a private cache
   * does (s-maxage and proxy-revalidate are for shared caches). @default 'shared'
   */
  scope?: CacheScope | undefined
  /**
   * Deception armor for a per-user entry: when the response carries no Cache-Control, the entry
   * (and so every hit) says `Cache-Control: private`, so no cache in front shares it.
   */
  markPrivate?: boolean | undefined
}

/** What the caching rules read from a response, computed once per response. */
export interface ResponseFacts {
  directives: CacheControlDirectives
  /** Explicit freshness or `public` (RFC 9111 §3): any understood status may then be stored. */
  explicitFreshness: boolean
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
 * Reads a response's caching facts. RFC 9213 §2.2: the targeted field (when enabled) with a valid,
 * non-empty value governs, and Cache-Control and Expires are then ignored; an invalid one is
 * ignored itself. A response without any freshness information and no `ttl` (and no heuristic
 * lifetime, when heuristics are on) is never reusable: explicit `no-cache` or `max-age=0` with a
 * validator still is (for revalidation), silence is not.
 * RFC 9111 §4.2.4: must-revalidate, proxy-revalidate and no-cache forbid serving stale, so
 * they close both stale windows. Under `scope: 'private'` the entry serves one user, and
 * s-maxage and proxy-revalidate, which only shared caches obey (§5.2.2.10, §5.2.2.8), are dropped.
 *
 * @example
 * ```ts
 * analyseResponse([['cache-control', 'max-age=60, stale-if-error=600']], policy, Date.now(), 200)
 * ```
 */
export function analyseResponse(
  pairs: HeaderPairs,
  policy: EntryPolicy,
  responseTime: number,
  status = 200
): ResponseFacts {
  const selected = selectCacheControl(pairs, policy.targetedField)
  let directives = selected.directives
  let explicitFreshness = selected.explicitFreshness
  if (
    policy.scope === 'private' &&
    (directives['s-maxage'] !== undefined || directives['proxy-revalidate'] === true)
  ) {
    directives = { ...directives, 's-maxage': undefined, 'proxy-revalidate': undefined }
    explicitFreshness = hasExplicitFreshness(
      directives,
      selected.expires === undefined ? [] : [['expires', selected.expires]]
    )
  }
  const freshness = freshnessLifetime({
    directives,
    expires: selected.expires,
    date: headerValue(pairs, 'date'),
    responseTime,
    routeTtlMs: policy.ttlMs,
    heuristic:
      policy.heuristic === undefined
        ? undefined
        : { policy: policy.heuristic, status, lastModified: headerValue(pairs, 'last-modified') },
  })
  const staleForbidden =
    directives['must-revalidate'] === true ||
    directives['proxy-revalidate'] === true ||
    directives['no-cache'] === true
  const window = (seconds: number | undefined, fallbackMs: number): number =>
    staleForbidden ? 0 : seconds === undefined ? fallbackMs : seconds * 1000
  const staleWhileRevalidateMs = window(
    directives['stale-while-revalidate'],
    policy.staleWhileRevalidateMs
  )
  const staleIfErrorMs = window(directives['stale-if-error'], policy.staleIfErrorMs)
  const hasValidator = pairs.some(([name]) => name === 'etag' || name === 'last-modified')
  const noFreshness = freshness.source === 'none'
  return {
    directives,
    explicitFreshness,
    vary: parseVary(headerValue(pairs, 'vary')),
    freshness,
    staleWhileRevalidateMs,
    staleIfErrorMs,
    hasValidator,
    noFreshness,
    reusable:
      !noFreshness &&
      (freshness.lifetimeMs > 0 ||
        hasValidator ||
        staleWhileRevalidateMs > 0 ||
        staleIfErrorMs > 0),
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
 * (hop-by-hop, Set-Cookie, Age, Cache-Status and the surrogate-key field removed; an ETag, a
 * Content-Length and, on a 200, `Accept-Ranges: bytes` added when missing), the 304 subset, and
 * absolute instants for each window. A generated ETag is marked as ours: it answers clients'
 * conditionals, but is never sent to the origin (RFC 9111 §4.3.1: revalidation uses the
 * validators the origin gave).
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
  const etagGenerated = etag === undefined && policy.etag !== false
  if (etagGenerated) {
    etag = generateEtag(body, policy.etag as 'strong' | 'weak')
    headers.push(['etag', etag])
  }
  if (
    !BODYLESS_STATUSES.has(input.status) &&
    !headers.some(([name]) => name === 'content-length')
  ) {
    headers.push(['content-length', String(body.length)])
  }
  // RFC 9110 §14.3: the cache answers byte ranges of a stored 200 itself (see serveStored).
  if (input.status === 200 && !headers.some(([name]) => name === 'accept-ranges'))
    headers.push(['accept-ranges', 'bytes'])
  if (policy.markPrivate === true && !headers.some(([name]) => name === 'cache-control'))
    headers.push(['cache-control', 'private'])
  const initialAgeMs = correctedInitialAge({
    age: headerValue(pairs, 'age'),
    date: headerValue(pairs, 'date'),
    requestTime: input.requestTime,
    responseTime,
  })
  const lastModified = headerValue(headers, 'last-modified')
  const staleAt = responseTime + facts.freshness.lifetimeMs - initialAgeMs
  const staleWhileRevalidateUntil = staleAt + facts.staleWhileRevalidateMs
  const staleIfErrorUntil = staleAt + facts.staleIfErrorMs
  // Kept past staleAt for a conditional request; an entry with only our own ETag is kept too
  // (a client's max-stale may still use it), though a stale one is fetched again in full.
  const revalidateUntil =
    etag === undefined && lastModified === undefined
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
    etagGenerated,
    lastModified,
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

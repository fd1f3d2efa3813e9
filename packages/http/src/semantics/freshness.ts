import { MAX_DELTA_SECONDS, type CacheControlDirectives } from './cache-control.js'
import { splitList } from './field-list.js'
import { heuristicLifetime, type HeuristicPolicy } from './heuristic-freshness.js'
import { parseHttpDate } from './http-date.js'

/** Where a response's freshness lifetime came from. */
export type FreshnessSource =
  | 'no-cache'
  | 's-maxage'
  | 'max-age'
  | 'expires'
  | 'route'
  | 'heuristic'
  | 'must-revalidate'
  | 'none'

export interface Freshness {
  lifetimeMs: number
  source: FreshnessSource
}

export interface FreshnessInput {
  /** Effective response directives: the targeted field's when it applies, else Cache-Control's. */
  directives: CacheControlDirectives
  /** The Expires field value, all lines joined (two lines do not parse, so they mean stale). */
  expires: string | undefined
  /** The Date field value, if the handler set one. */
  date: string | undefined
  /** When the response was received (ms). */
  responseTime: number
  /**
   * The route's configured TTL, used only when the response has no freshness information and
   * does not say must-revalidate or proxy-revalidate.
   */
  routeTtlMs?: number | undefined
  /**
   * Opt-in heuristic freshness (RFC 9111 §4.2.2), tried after the route TTL. Absent: no heuristic.
   * `status` and `lastModified` are the response's.
   */
  heuristic?:
    { policy: HeuristicPolicy; status: number; lastModified: string | undefined } | undefined
}

/**
 * Freshness lifetime of a response in a shared cache (RFC 9111 §4.2.1): `s-maxage` over `max-age`
 * over `Expires - Date`. An invalid Expires (`0`, `-1`, two dates) means already stale (§5.3).
 * With none of them, the route's TTL applies, then, when `heuristic` is given, a lifetime from
 * Last-Modified (RFC 9111 §4.2.2, see heuristicLifetime). `no-cache` (§5.2.2.4) makes the
 * lifetime 0, so every reuse is revalidated first.
 *
 * `must-revalidate` (or `proxy-revalidate`) without explicit freshness never gets the route's
 * TTL: the origin asked that a stale response never be used unvalidated (§5.2.2.2), and the TTL
 * would invent freshness it did not give (with Authorization, §3.5 would then let one user's
 * response be reused by others for that long). Its lifetime is 0 (source `must-revalidate`), so
 * it is stored only to be revalidated, unless an opt-in heuristic gives it one.
 *
 * @example
 * ```ts
 * freshnessLifetime({ directives: { 'max-age': 60, 's-maxage': 10 }, expires: undefined, date: undefined, responseTime: 0 })
 * // { lifetimeMs: 10000, source: 's-maxage' }
 * ```
 */
export function freshnessLifetime(input: FreshnessInput): Freshness {
  const { directives } = input
  if (directives['no-cache'] === true) return { lifetimeMs: 0, source: 'no-cache' }
  const sMaxage = directives['s-maxage']
  if (sMaxage !== undefined) return { lifetimeMs: sMaxage * 1000, source: 's-maxage' }
  const maxAge = directives['max-age']
  if (maxAge !== undefined) return { lifetimeMs: maxAge * 1000, source: 'max-age' }
  if (input.expires !== undefined) {
    const expires = parseHttpDate(input.expires, input.responseTime)
    if (expires === undefined) return { lifetimeMs: 0, source: 'expires' }
    // RFC 9111 §4.2.1: Expires minus Date; without a (valid) Date, the time the response arrived.
    const date =
      input.date === undefined ? undefined : parseHttpDate(input.date, input.responseTime)
    return { lifetimeMs: Math.max(0, expires - (date ?? input.responseTime)), source: 'expires' }
  }
  const revalidate =
    directives['must-revalidate'] === true || directives['proxy-revalidate'] === true
  if (input.routeTtlMs !== undefined && !revalidate)
    return { lifetimeMs: input.routeTtlMs, source: 'route' }
  if (input.heuristic !== undefined) {
    const { policy, status, lastModified } = input.heuristic
    const lifetimeMs = heuristicLifetime({
      status,
      directives,
      expires: input.expires,
      date: input.date,
      lastModified,
      responseTime: input.responseTime,
      policy,
    })
    if (lifetimeMs !== undefined) return { lifetimeMs, source: 'heuristic' }
  }
  if (revalidate) return { lifetimeMs: 0, source: 'must-revalidate' }
  return { lifetimeMs: 0, source: 'none' }
}

export interface AgeInput {
  /** The Age field value from the response, if any. */
  age: string | undefined
  date: string | undefined
  /** When the request was sent to the handler (ms). */
  requestTime: number
  /** When the response was received (ms). */
  responseTime: number
}

/**
 * RFC 9111 §4.2.3 `corrected_initial_age`, in ms: the larger of the apparent age (response time
 * minus Date) and the Age field plus the time the handler took.
 *
 * @example
 * ```ts
 * correctedInitialAge({ age: '30', date: undefined, requestTime: 1000, responseTime: 1500 }) // 30500
 * ```
 */
export function correctedInitialAge(input: AgeInput): number {
  const date = input.date === undefined ? undefined : parseHttpDate(input.date, input.responseTime)
  const apparentAge = date === undefined ? 0 : Math.max(0, input.responseTime - date)
  const responseDelay = Math.max(0, input.responseTime - input.requestTime)
  const ageValue = (parseAge(input.age) ?? 0) * 1000
  return Math.max(apparentAge, ageValue + responseDelay)
}

/**
 * The Age field value in seconds (RFC 9111 §5.1), or `undefined` when the field is absent or
 * must be ignored. All Age lines joined (`7200, 0`) are one list:
 * - "a cache encountering a message with a list-based Age field value SHOULD use the first
 *   member of the field value, discarding subsequent ones";
 * - "If the field value (after discarding additional members, as per above) is invalid (e.g.,
 *   it contains something other than a non-negative integer), a cache SHOULD ignore the field",
 *   so `-1, 7200` is ignored as a whole, not read as 7200;
 * - §1.2.2: a value too large to represent is 2^31.
 *
 * @example
 * ```ts
 * parseAge('7200, 0') // 7200
 * parseAge('abc, 60') // undefined
 * ```
 */
export function parseAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const first = splitList(value)[0]
  if (first === undefined || !/^\d+$/.test(first)) return undefined
  return Math.min(Number(first), MAX_DELTA_SECONDS)
}

/** The stored facts freshness decisions need. All instants are ms since epoch. */
export interface FreshnessFacts {
  storedAt: number
  initialAgeMs: number
  staleAt: number
  /** False when must-revalidate, proxy-revalidate, no-cache or s-maxage forbid serving stale. */
  allowMaxStale: boolean
}

/**
 * RFC 9111 §4.2.3 `current_age` in ms: corrected initial age plus resident time.
 *
 * @example
 * ```ts
 * currentAge({ storedAt: 1000, initialAgeMs: 500, staleAt: 61000, allowMaxStale: true }, 3000) // 2500
 * ```
 */
export function currentAge(facts: FreshnessFacts, now: number): number {
  return facts.initialAgeMs + Math.max(0, now - facts.storedAt)
}

/**
 * Whether a stored response may answer this request without going to the origin:
 * - `'usable'`: fresh, or stale within the client's `max-stale` (§5.2.1.2) when allowed;
 * - `'stale'`: stale, the usual stale rules (revalidate, stale-while-revalidate) apply;
 * - `'request'`: the request's own directives demand a forward: `no-cache` (§5.2.1.4),
 *   an age over its `max-age` (§5.2.1.1), or less freshness left than `min-fresh` (§5.2.1.3).
 *   `respectRequest: false` ignores those three, since any client could force origin work.
 *
 * @example
 * ```ts
 * requestUsability(facts, { 'no-cache': true }, now, true) // 'request'
 * ```
 */
export function requestUsability(
  facts: FreshnessFacts,
  request: CacheControlDirectives,
  now: number,
  respectRequest: boolean
): 'usable' | 'stale' | 'request' {
  const remaining = facts.staleAt - now
  if (respectRequest) {
    if (request['no-cache'] === true) return 'request'
    const maxAge = request['max-age']
    // Compared in whole seconds, the unit of the Age field the client sees.
    if (maxAge !== undefined && Math.floor(currentAge(facts, now) / 1000) > maxAge) return 'request'
    const minFresh = request['min-fresh']
    if (minFresh !== undefined && remaining < minFresh * 1000) return 'request'
  }
  if (remaining > 0) return 'usable'
  const maxStale = request['max-stale']
  if (maxStale !== undefined && facts.allowMaxStale && -remaining <= maxStale * 1000)
    return 'usable'
  return 'stale'
}

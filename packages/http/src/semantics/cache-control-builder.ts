/** Options of {@link cacheControl}. Durations are seconds, as on the wire (RFC 9111 §1.2.2). */
export interface CacheControlOptions {
  /** Any cache may store the response, even one that normally would not (RFC 9111 §5.2.2.9). */
  public?: boolean
  /** Only a private (browser) cache may store the response (RFC 9111 §5.2.2.7). */
  private?: boolean
  /** Seconds the response stays fresh (RFC 9111 §5.2.2.1). */
  maxAge?: number
  /** Seconds it stays fresh in shared caches; overrides maxAge there (RFC 9111 §5.2.2.10). */
  sMaxage?: number
  /** No cache may store the response (RFC 9111 §5.2.2.5). */
  noStore?: boolean
  /** Caches may store it but must revalidate before each reuse (RFC 9111 §5.2.2.4). */
  noCache?: boolean
  /** Once stale, never serve it without revalidation (RFC 9111 §5.2.2.2). */
  mustRevalidate?: boolean
  /** must-revalidate for shared caches only (RFC 9111 §5.2.2.8). */
  proxyRevalidate?: boolean
  /** Seconds a stale response may be served while it is refreshed in the background (RFC 5861 §3). */
  staleWhileRevalidate?: number
  /** Seconds a stale response may be served when the origin fails (RFC 5861 §4). */
  staleIfError?: number
  /** The body will not change while fresh (RFC 8246). */
  immutable?: boolean
  /** Intermediaries must not transform the content (RFC 9111 §5.2.2.6). */
  noTransform?: boolean
}

const FLAGS = [
  ['public', 'public'],
  ['private', 'private'],
  ['noStore', 'no-store'],
  ['noCache', 'no-cache'],
] as const
const DELTAS = [
  ['maxAge', 'max-age'],
  ['sMaxage', 's-maxage'],
] as const
const TRAILING_FLAGS = [
  ['mustRevalidate', 'must-revalidate'],
  ['proxyRevalidate', 'proxy-revalidate'],
] as const
const TRAILING_DELTAS = [
  ['staleWhileRevalidate', 'stale-while-revalidate'],
  ['staleIfError', 'stale-if-error'],
] as const
const LAST_FLAGS = [
  ['immutable', 'immutable'],
  ['noTransform', 'no-transform'],
] as const

/**
 * Builds a Cache-Control value from typed options, in a stable order. Throws a TypeError for a
 * duration that is not a non-negative integer, or for `public` together with `private`, since
 * either is a bug in the calling code, not in a request.
 *
 * @example
 * ```ts
 * import { cacheControl } from '@cachewire/http'
 * res.setHeader('cache-control', cacheControl({ public: true, maxAge: 60, staleWhileRevalidate: 30 }))
 * // 'public, max-age=60, stale-while-revalidate=30'
 * ```
 */
export function cacheControl(options: CacheControlOptions): string {
  if (options.public === true && options.private === true) {
    throw new TypeError('expected only one of public and private to be true, got both')
  }
  const parts: string[] = []
  const flags = (table: ReadonlyArray<readonly [keyof CacheControlOptions, string]>): void => {
    for (const [option, directive] of table) if (options[option] === true) parts.push(directive)
  }
  const deltas = (table: ReadonlyArray<readonly [keyof CacheControlOptions, string]>): void => {
    for (const [option, directive] of table) {
      const value = options[option]
      if (value === undefined) continue
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new TypeError(
          `expected ${option} to be a non-negative integer of seconds, got ${String(value)}`
        )
      }
      parts.push(`${directive}=${value}`)
    }
  }
  flags(FLAGS)
  deltas(DELTAS)
  flags(TRAILING_FLAGS)
  deltas(TRAILING_DELTAS)
  flags(LAST_FLAGS)
  return parts.join(', ')
}

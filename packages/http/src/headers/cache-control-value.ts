import {
  InvalidOptionError,
  parseDuration,
  rejectUnknownOptions,
  type Duration,
} from '@cachewire/core'
import {
  cacheControl as formatDirectives,
  type CacheControlOptions as WireDirectives,
} from '../semantics/cache-control-builder.js'

/**
 * Cache-Control directives as options. Durations follow the one unit rule: `'1m'`, `'90s'`,
 * `'1 hour'`, or a number of milliseconds (`maxAge: 60` is refused: it reads as 60 ms but was
 * almost surely meant as seconds). They go on the wire as whole seconds (RFC 9111 §1.2.2).
 */
export interface CacheControlOptions {
  /** Any cache may store the response, even one that normally would not (RFC 9111 §5.2.2.9). */
  public?: boolean | undefined
  /** Only a private (browser) cache may store the response (RFC 9111 §5.2.2.7). */
  private?: boolean | undefined
  /** How long the response stays fresh (RFC 9111 §5.2.2.1). */
  maxAge?: Duration | undefined
  /** How long it stays fresh in shared caches; overrides maxAge there (RFC 9111 §5.2.2.10). */
  sMaxage?: Duration | undefined
  /** No cache may store the response (RFC 9111 §5.2.2.5). */
  noStore?: boolean | undefined
  /** Caches may store it but must revalidate before each reuse (RFC 9111 §5.2.2.4). */
  noCache?: boolean | undefined
  /** Once stale, never serve it without revalidation (RFC 9111 §5.2.2.2). */
  mustRevalidate?: boolean | undefined
  /** must-revalidate for shared caches only (RFC 9111 §5.2.2.8). */
  proxyRevalidate?: boolean | undefined
  /** How long a stale response may be served while it is refreshed in the background (RFC 5861 §3). */
  staleWhileRevalidate?: Duration | undefined
  /** How long a stale response may be served when the origin fails (RFC 5861 §4). */
  staleIfError?: Duration | undefined
  /** The body will not change while fresh (RFC 8246). */
  immutable?: boolean | undefined
  /** Intermediaries must not transform the content (RFC 9111 §5.2.2.6). */
  noTransform?: boolean | undefined
}

const DURATIONS = ['maxAge', 'sMaxage', 'staleWhileRevalidate', 'staleIfError'] as const
const FLAGS = [
  'public',
  'private',
  'noStore',
  'noCache',
  'mustRevalidate',
  'proxyRevalidate',
  'immutable',
  'noTransform',
] as const
/** Every directive option, for unknown-option checks. */
export const CACHE_CONTROL_OPTIONS: readonly string[] = [
  ...FLAGS.slice(0, 2),
  'maxAge',
  'sMaxage',
  ...FLAGS.slice(2),
  'staleWhileRevalidate',
  'staleIfError',
]

/**
 * Builds a Cache-Control value from typed directives, in a stable order. A bad directive throws
 * an `InvalidOptionError` naming it: a duration that is not whole seconds, `maxAge: 60` (likely
 * seconds, read as milliseconds), an unknown name, or `public` together with `private`.
 *
 * @example
 * ```ts
 * import { cacheControl } from '@cachewire/http'
 * res.setHeader('cache-control', cacheControl({ public: true, maxAge: '1m', staleWhileRevalidate: '30s' }))
 * // 'public, max-age=60, stale-while-revalidate=30'
 * ```
 */
export function cacheControl(options: CacheControlOptions): string {
  return formatDirectives(toWireDirectives(options, ''))
}

/**
 * A Cache-Control-shaped field value (Cache-Control, Surrogate-Control, CDN-Cache-Control) from
 * typed directives or a ready string, validated at build time: a bad value is an
 * `InvalidOptionError` naming `path` plus the directive (`cdn.cdnCacheControl.maxAge`). `path`
 * ends with a dot, or is '' for top-level directives (which may then be empty).
 *
 * @example
 * ```ts
 * formatCacheControlField({ public: true, maxAge: '10m' }, 'cdn.cdnCacheControl.') // 'public, max-age=600'
 * ```
 */
export function formatCacheControlField(value: CacheControlOptions | string, path: string): string {
  const name = path.slice(0, -1)
  if (typeof value === 'string') {
    if (value.trim() === '' || /[\r\n]/.test(value))
      throw new InvalidOptionError(name, 'a non-empty field value', value)
    return value
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidOptionError(name, 'directives or a string', value)
  const formatted = formatDirectives(toWireDirectives(value, path))
  if (formatted === '' && path !== '')
    throw new InvalidOptionError(name, 'at least one directive', value)
  return formatted
}

/** Directive options → the wire builder's (seconds), checking every name and value. */
function toWireDirectives(options: CacheControlOptions, path: string): WireDirectives {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError(path.slice(0, -1), 'an object of directives', options)
  rejectUnknownOptions(options, CACHE_CONTROL_OPTIONS, path.slice(0, -1))
  const wire: WireDirectives = {}
  for (const flag of FLAGS) {
    const value = options[flag]
    if (value === undefined) continue
    if (typeof value !== 'boolean')
      throw new InvalidOptionError(`${path}${flag}`, 'a boolean', value)
    wire[flag] = value
  }
  for (const name of DURATIONS) {
    const value = options[name]
    if (value !== undefined) wire[name] = wholeSeconds(value, `${path}${name}`)
  }
  if (wire.public === true && wire.private === true)
    throw new InvalidOptionError(`${path}private`, 'false when public is true', true)
  return wire
}

function wholeSeconds(value: unknown, option: string): number {
  const ms = parseDuration(value, option, { allowZero: true })
  if (ms % 1000 !== 0)
    throw new InvalidOptionError(
      option,
      'a whole number of seconds (Cache-Control counts in seconds)',
      value
    )
  return ms / 1000
}

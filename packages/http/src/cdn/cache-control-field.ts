import { InvalidOptionError } from '@cachewire/core'
import { cacheControl, type CacheControlOptions } from '../semantics/cache-control-builder.js'

const SECONDS = ['maxAge', 'sMaxage', 'staleWhileRevalidate', 'staleIfError'] as const

/**
 * A Cache-Control-shaped field value (Cache-Control, Surrogate-Control, CDN-Cache-Control) from
 * typed directives or a ready string, validated at build time: a bad value is an
 * `InvalidOptionError` naming `path` + the directive (`cdn.cdnCacheControl.maxAge`). `path` is
 * the option prefix with its trailing dot, or '' for top-level directives (which may be empty).
 *
 * @example
 * ```ts
 * formatCacheControlField({ public: true, maxAge: 600 }, 'cdnCacheControl.') // 'public, max-age=600'
 * ```
 */
export function formatCacheControlField(value: CacheControlOptions | string, path: string): string {
  if (typeof value === 'string') {
    if (value.trim() === '' || /[\r\n]/.test(value)) throw new InvalidOptionError(path.slice(0, -1), 'a non-empty field value', value)
    return value
  }
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError(path.slice(0, -1), 'directives or a string', value)
  for (const name of SECONDS) {
    const seconds = value[name]
    if (seconds !== undefined && (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0)) {
      throw new InvalidOptionError(`${path}${name}`, 'a non-negative integer of seconds', seconds)
    }
  }
  if (value.public === true && value.private === true) {
    throw new InvalidOptionError(`${path}private`, 'false when public is true', true)
  }
  const formatted = cacheControl(value)
  if (formatted === '' && path !== '') throw new InvalidOptionError(path.slice(0, -1), 'at least one directive', value)
  return formatted
}

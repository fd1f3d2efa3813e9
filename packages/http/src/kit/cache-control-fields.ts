import type { ServerResponse } from 'node:http'
import { InvalidOptionError } from '@cachewire/core'
import {
  formatCacheControlField,
  type CacheControlOptions,
} from '../headers/cache-control-value.js'
import type { HeaderPair } from '../types.js'
import { intercept } from './intercept.js'
import { cacheControlApplies } from './status-rules.js'

/** Options of the adapters' `cacheControl()` middleware: directives (durations as `'1m'`) and the CDN fields. */
export interface CacheControlMiddlewareOptions extends CacheControlOptions {
  /** `Surrogate-Control` for CDNs that read it (Fastly, Akamai): directives or a ready value. @default none */
  surrogateControl?: CacheControlOptions | string | undefined
  /** `CDN-Cache-Control` (RFC 9213), read by CDNs instead of Cache-Control. @default none */
  cdnCacheControl?: CacheControlOptions | string | undefined
  /** Replace fields the handler set itself. @default false: a handler's own Cache-Control wins */
  override?: boolean | undefined
}

/** The fields a `cacheControl()` middleware sets, formatted once. */
export interface CacheControlFields {
  readonly fields: readonly HeaderPair[]
  readonly replace: boolean
}

/**
 * Validates and formats `cacheControl()` options once; a bad one throws an `InvalidOptionError`
 * naming it (`maxAge: 60` included: durations follow the unit rule, write `'1m'`).
 *
 * @example
 * ```ts
 * resolveCacheControlFields({ public: true, maxAge: '1m', cdnCacheControl: { maxAge: '10m' } })
 * ```
 */
export function resolveCacheControlFields(
  options: CacheControlMiddlewareOptions
): CacheControlFields {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  const { surrogateControl, cdnCacheControl, override, ...directives } = options
  const fields: HeaderPair[] = []
  const own = formatCacheControlField(directives, '')
  if (own !== '') fields.push(['cache-control', own])
  if (surrogateControl !== undefined)
    fields.push([
      'surrogate-control',
      formatCacheControlField(surrogateControl, 'surrogateControl.'),
    ])
  if (cdnCacheControl !== undefined)
    fields.push(['cdn-cache-control', formatCacheControlField(cdnCacheControl, 'cdnCacheControl.')])
  if (override !== undefined && typeof override !== 'boolean')
    throw new InvalidOptionError('override', 'a boolean', override)
  if (fields.length === 0) throw new InvalidOptionError('', 'at least one directive', options)
  return Object.freeze({ fields: Object.freeze(fields), replace: override === true })
}

/**
 * Sets the fields on a response whose status they apply to (see `cacheControlApplies`), keeping
 * the handler's own unless `replace`.
 *
 * @example
 * ```ts
 * applyCacheControlFields(ctx.res, ctx.status, resolved)
 * ```
 */
export function applyCacheControlFields(
  res: ServerResponse,
  status: number,
  resolved: CacheControlFields
): void {
  if (!cacheControlApplies(status)) return
  for (const [name, value] of resolved.fields)
    if (resolved.replace || !res.hasHeader(name)) res.setHeader(name, value)
}

/**
 * The `node:http` form: the fields go on at the head moment.
 *
 * @example
 * ```ts
 * cacheControlAtHead(res, resolveCacheControlFields({ public: true, maxAge: '1m' }))
 * ```
 */
export function cacheControlAtHead(res: ServerResponse, resolved: CacheControlFields): void {
  intercept(res, { head: (res, status) => applyCacheControlFields(res, status, resolved) })
}

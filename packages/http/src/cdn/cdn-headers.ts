import { InvalidOptionError } from '@cachewire/core'
import type { CacheControlOptions } from '../semantics/cache-control-builder.js'
import { formatCacheControlField } from './cache-control-field.js'
import type { HeaderPairs } from '../types.js'

/**
 * What the engine tells a CDN in front of it. Sent only on responses the engine stores (or
 * answers from its store), never on bypasses or responses it refused to store (private,
 * Set-Cookie, no-store…), so a CDN is never told to keep what a shared cache must not.
 *
 * @example
 * ```ts
 * createHttpCache({ cdn: { surrogateKeys: true, cdnCacheControl: { maxAge: 600 } } })
 * ```
 */
export interface CdnOptions {
  /**
   * Send the response's tags (engine, route and handler `Surrogate-Key` tags; never the internal
   * URL tags) as `Surrogate-Key`, so the CDN can purge by the same tags. Tags with spaces or
   * control characters are left out. @default false
   */
  surrogateKeys?: boolean | undefined
  /** `Surrogate-Control` (Fastly, Akamai, Varnish setups): directives or a ready value. @default none */
  surrogateControl?: CacheControlOptions | string | undefined
  /** `CDN-Cache-Control` (RFC 9213): directives or a ready value. @default none */
  cdnCacheControl?: CacheControlOptions | string | undefined
}

/** `CdnOptions`, validated and formatted once. */
export interface ResolvedCdnOptions {
  readonly surrogateKeys: boolean
  /** Ready lines: Surrogate-Control and CDN-Cache-Control. */
  readonly fields: HeaderPairs
}

/** A tag a Surrogate-Key list can carry: visible ASCII, no separators. */
const SURROGATE_KEY_TOKEN = /^[\x21-\x7e]{1,256}$/
/** Internal tags (URL tags are hashes of host and target): meaningless to a CDN. */
const INTERNAL_TAG_PREFIX = 'http-url:'
/** Surrogate-Key lines longer than this are cut at a tag boundary (Fastly's limit is 16 KiB). */
const MAX_SURROGATE_KEY_BYTES = 16 * 1024

/** Validates `cdn` options (engine or route); `undefined` stays undefined. */
export function resolveCdnOptions(value: CdnOptions | undefined, name: string): ResolvedCdnOptions | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError(name, 'an object', value)
  const { surrogateKeys = false, surrogateControl, cdnCacheControl } = value
  if (typeof surrogateKeys !== 'boolean') throw new InvalidOptionError(`${name}.surrogateKeys`, 'a boolean', surrogateKeys)
  const fields: Array<readonly [string, string]> = []
  if (surrogateControl !== undefined) fields.push(['surrogate-control', formatCacheControlField(surrogateControl, `${name}.surrogateControl.`)])
  if (cdnCacheControl !== undefined) fields.push(['cdn-cache-control', formatCacheControlField(cdnCacheControl, `${name}.cdnCacheControl.`)])
  return Object.freeze({ surrogateKeys, fields: Object.freeze(fields) })
}

/**
 * The CDN lines for a response with `tags`.
 *
 * @example
 * ```ts
 * cdnHeaders(resolved, ['http-url:ab12…', 'products']) // [['surrogate-key', 'products'], ['cdn-cache-control', 'max-age=600']]
 * ```
 */
export function cdnHeaders(cdn: ResolvedCdnOptions, tags: readonly string[]): HeaderPairs {
  if (!cdn.surrogateKeys) return cdn.fields
  const keys = surrogateKeyValue(tags)
  return keys === '' ? cdn.fields : [['surrogate-key', keys], ...cdn.fields]
}

/** Tags a CDN can purge by: the internal URL tags and unrepresentable ones left out. */
export function publicTags(tags: readonly string[]): string[] {
  return tags.filter((tag) => !tag.startsWith(INTERNAL_TAG_PREFIX) && SURROGATE_KEY_TOKEN.test(tag))
}

function surrogateKeyValue(tags: readonly string[]): string {
  let value = ''
  for (const tag of publicTags(tags)) {
    if (value.length + tag.length + 1 > MAX_SURROGATE_KEY_BYTES) break
    value = value === '' ? tag : `${value} ${tag}`
  }
  return value
}

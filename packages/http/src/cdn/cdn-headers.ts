import { InvalidOptionError, rejectUnknownOptions } from '@cachewire/core'
import { formatCacheControlField } from '../headers/cache-control-value.js'
import type { CdnOptions } from '../options/types.js'
import type { HeaderPairs, ResolvedCdnOptions } from '../types.js'

/** A tag a Surrogate-Key list can carry: visible ASCII, no separators. */
const SURROGATE_KEY_TOKEN = /^[\x21-\x7e]{1,256}$/
/** Internal tags (URL tags are hashes of host and target): meaningless to a CDN. */
const INTERNAL_TAG_PREFIX = 'http-url:'
/** Surrogate-Key lines longer than this are cut at a tag boundary (Fastly's limit is 16 KiB). */
const MAX_SURROGATE_KEY_BYTES = 16 * 1024

/** The CDN options a response carries (the rest of `cdn` is the app's: the surrogate-key field and purge hooks). */
export const CDN_FIELD_OPTIONS: readonly string[] = [
  'surrogateKeys',
  'surrogateControl',
  'cdnCacheControl',
]

/**
 * Validates the per-response `cdn` options (app or route); `undefined` stays undefined. `known`
 * lists every name allowed at this level (a route allows fewer than the app).
 */
export function resolveCdnOptions(
  value: CdnOptions | undefined,
  name: string,
  known: readonly string[]
): ResolvedCdnOptions | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidOptionError(name, 'an object', value)
  rejectUnknownOptions(value, known, name)
  const { surrogateKeys = false, surrogateControl, cdnCacheControl } = value
  if (typeof surrogateKeys !== 'boolean')
    throw new InvalidOptionError(`${name}.surrogateKeys`, 'a boolean', surrogateKeys)
  const fields: Array<readonly [string, string]> = []
  if (surrogateControl !== undefined)
    fields.push([
      'surrogate-control',
      formatCacheControlField(surrogateControl, `${name}.surrogateControl.`),
    ])
  if (cdnCacheControl !== undefined)
    fields.push([
      'cdn-cache-control',
      formatCacheControlField(cdnCacheControl, `${name}.cdnCacheControl.`),
    ])
  return Object.freeze({
    surrogateKeys,
    fields: Object.freeze(fields),
    fingerprint:
      surrogateKeys || fields.length > 0 ? JSON.stringify([surrogateKeys, fields]) : 'none',
  })
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

import type { HeaderPairs } from '../types.js'
import {
  MAX_DELTA_SECONDS,
  parseCacheControlField,
  type CacheControlDirectives,
  type CacheControlField,
} from './cache-control.js'
import { fieldNameList, TOKEN } from './field-list.js'
import { headerValue } from './headers.js'
import { hasExplicitFreshness } from './storability.js'
import { parseDictionary, type BareItem, type DictionaryMember } from './structured-field.js'

/** Response directives with a delta-seconds argument, an sf-integer in a targeted field. */
const DELTA_DIRECTIVES: ReadonlySet<string> = new Set([
  'max-age',
  's-maxage',
  'stale-while-revalidate',
  'stale-if-error',
])
/** RFC 9111 §4.2.1: an invalid freshness directive makes the response stale. */
const FRESHNESS_DIRECTIVES: ReadonlySet<string> = new Set(['max-age', 's-maxage'])
/** Flags that narrow what a cache may do: any value but `?0` turns them on. */
const RESTRICTIVE_FLAGS: ReadonlySet<string> = new Set([
  'no-store',
  'no-cache',
  'private',
  'must-revalidate',
  'proxy-revalidate',
  'no-transform',
])
/** Flags that widen what a cache may do: only `?1` (a bare key) turns them on. */
const PERMISSIVE_FLAGS: ReadonlySet<string> = new Set(['public', 'immutable', 'must-understand'])
/** Request directives mean nothing in a response field. */
const REQUEST_ONLY: ReadonlySet<string> = new Set(['max-stale', 'min-fresh', 'only-if-cached'])

/**
 * Reads a targeted cache-control field such as CDN-Cache-Control (RFC 9213 §2.1), or returns
 * `undefined` when the cache must ignore it and fall back to Cache-Control: absent, empty, or
 * not a valid Structured Field Dictionary (RFC 8941 §3.2) — "If a targeted field in a given
 * response is empty, or a parsing error is encountered, that field SHOULD be ignored by the
 * cache". So `max-age=60, &&&` and `MaX-aGe=60` (dictionary keys are lower-case) are ignored.
 *
 * Within a valid dictionary, each member is a response directive with a typed value: an Integer
 * for delta-seconds, a bare key (Boolean true) for flags. Parameters are ignored. A value of the
 * wrong type is handled like an invalid Cache-Control argument: `max-age="60"` or `max-age=-1`
 * makes the response stale (RFC 9111 §4.2.1), a restrictive flag (`no-store=1`) still applies,
 * a permissive one (`public="yes"`, `immutable=?0`) does not. `private` and `no-cache` take a
 * String or an Inner List of field names as their qualified form. Request-only directives are
 * ignored; unknown ones are kept in `extensions`.
 *
 * @example
 * ```ts
 * parseTargetedCacheControl('max-age=600, stale-if-error=60')?.directives // { 'max-age': 600, 'stale-if-error': 60 }
 * parseTargetedCacheControl('max-age=600, &&&')                           // undefined
 * ```
 */
export function parseTargetedCacheControl(
  value: string | readonly string[] | undefined
): CacheControlField | undefined {
  if (value === undefined) return undefined
  const dictionary = parseDictionary(typeof value === 'string' ? value : value.join(', '))
  if (dictionary === undefined || dictionary.size === 0) return undefined
  const directives = Object.create(null) as CacheControlDirectives
  const own = directives as Record<string, number | true>
  const extensions = new Map<string, string | undefined>()
  const field: CacheControlField = {
    directives,
    noCacheFields: undefined,
    privateFields: undefined,
    extensions,
  }
  for (const [name, member] of dictionary) {
    const item = member.kind === 'item' ? member.value : undefined
    if (DELTA_DIRECTIVES.has(name)) {
      if (item?.type === 'integer' && item.value >= 0)
        own[name] = Math.min(item.value, MAX_DELTA_SECONDS)
      else if (FRESHNESS_DIRECTIVES.has(name)) own[name] = 0
    } else if (RESTRICTIVE_FLAGS.has(name)) {
      if (item?.type === 'boolean' && !item.value) continue
      own[name] = true
      if (name === 'no-cache') field.noCacheFields = qualifiedFields(member)
      if (name === 'private') field.privateFields = qualifiedFields(member)
    } else if (PERMISSIVE_FLAGS.has(name)) {
      if (item?.type === 'boolean' && item.value) own[name] = true
    } else if (!REQUEST_ONLY.has(name)) {
      extensions.set(
        name,
        item === undefined || item.type === 'boolean' ? undefined : String(item.value)
      )
    }
  }
  return field
}

/** The directives that govern this cache for one response (RFC 9213 §2.2). */
export interface SelectedCacheControl {
  /** The governing field, parsed: the targeted field's when one applies, else Cache-Control's. */
  field: CacheControlField
  directives: CacheControlDirectives
  /** Lower-case name of the targeted field in use, or `undefined` when Cache-Control governs. */
  targetedField: string | undefined
  /** The Expires value that still counts: `undefined` when a targeted field governs. */
  expires: string | undefined
  /** Explicit freshness or `public` (RFC 9111 §3), read from the governing field(s). */
  explicitFreshness: boolean
}

/**
 * Picks the directives for this cache (RFC 9213 §2.2): the first field in `targetedFields` (its
 * target list, lower-case names, in order) "with a valid, non-empty value", and then the cache
 * "MUST ignore the Cache-Control and Expires header fields in that response"; with none, the
 * Cache-Control field and Expires as usual. A valid targeted field governs even when it holds
 * only directives this cache does not know (the RFC says valid and non-empty, not understood).
 *
 * @example
 * ```ts
 * const selected = selectCacheControl(pairs, ['cdn-cache-control'])
 * freshnessLifetime({ directives: selected.directives, expires: selected.expires, date, responseTime })
 * canStore({ ...input, directives: selected.directives, explicitFreshness: selected.explicitFreshness })
 * ```
 */
export function selectCacheControl(
  pairs: HeaderPairs,
  targetedFields: string | readonly string[] | undefined
): SelectedCacheControl {
  const targets = typeof targetedFields === 'string' ? [targetedFields] : (targetedFields ?? [])
  for (const name of targets) {
    const field = parseTargetedCacheControl(headerValue(pairs, name))
    if (field === undefined) continue
    return {
      field,
      directives: field.directives,
      targetedField: name,
      expires: undefined,
      explicitFreshness: hasExplicitFreshness(field.directives, []),
    }
  }
  const field = parseCacheControlField(headerValue(pairs, 'cache-control'))
  return {
    field,
    directives: field.directives,
    targetedField: undefined,
    expires: headerValue(pairs, 'expires'),
    explicitFreshness: hasExplicitFreshness(field.directives, pairs),
  }
}

/** The field names of a qualified private/no-cache in a targeted field, or undefined (unqualified). */
function qualifiedFields(member: DictionaryMember): string[] | undefined {
  if (member.kind === 'item')
    return member.value.type === 'string' ? fieldNameList(member.value.value) : undefined
  const names: string[] = []
  for (const { value } of member.items) {
    const name = fieldName(value)
    if (name === undefined) return undefined
    names.push(name)
  }
  return names.length === 0 ? undefined : names
}

function fieldName(item: BareItem): string | undefined {
  if ((item.type === 'token' || item.type === 'string') && TOKEN.test(item.value))
    return item.value.toLowerCase()
  return undefined
}

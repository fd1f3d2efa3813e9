import type { RequestHeaders } from '../types.js'

/** RFC 9110 §5.6.2 token, lower-cased. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/

/**
 * Fields whose values are case-insensitive (RFC 9110 §12.5), so `GZIP` and `gzip` select the same
 * variant (RFC 9111 §4.1 allows such normalisation). Grows only when a field is known to qualify.
 */
const CASE_INSENSITIVE_FIELDS: ReadonlySet<string> = new Set([
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
])

/**
 * Parses Vary (all lines joined) into sorted, de-duplicated lower-case field names, or `'*'`
 * when it lists `*` or anything that is not a field name (RFC 9110 §12.5.5; a broken Vary
 * cannot be matched safely, so it is treated like `*`).
 *
 * @example
 * ```ts
 * parseVary('Accept-Encoding, accept') // ['accept', 'accept-encoding']
 * parseVary('*')                       // '*'
 * ```
 */
export function parseVary(value: string | undefined): readonly string[] | '*' {
  if (value === undefined) return []
  const names = new Set<string>()
  for (const member of value.split(',')) {
    const name = member.trim().toLowerCase()
    if (name === '') continue
    if (name === '*' || !TOKEN.test(name)) return '*'
    names.add(name)
  }
  return [...names].sort()
}

/**
 * The secondary cache key (RFC 9111 §4.1): the request's values of the fields the response varies
 * on, normalised: lines combined, whitespace around list commas removed, case folded where the
 * field is case-insensitive. An absent field is distinct from an empty one (it matches only absence).
 *
 * @example
 * ```ts
 * secondaryKey(['accept-encoding'], { 'accept-encoding': 'GZIP,  br' }) // '[["accept-encoding","gzip,br"]]'
 * ```
 */
export function secondaryKey(names: readonly string[], headers: RequestHeaders): string {
  if (names.length === 0) return ''
  const parts: Array<[string, string | null]> = []
  for (const name of names) parts.push([name, normaliseFieldValue(name, headers[name])])
  return JSON.stringify(parts)
}

/**
 * Whether storing one more variant would exceed the cap (`known` are the variants already stored
 * for the URL). A variant already known never counts twice.
 *
 * @example
 * ```ts
 * exceedsVariantCap(['a', 'b'], 'c', 2) // true
 * exceedsVariantCap(['a', 'b'], 'a', 2) // false
 * ```
 */
export function exceedsVariantCap(
  known: readonly string[],
  candidate: string,
  cap: number
): boolean {
  return !known.includes(candidate) && known.length >= cap
}

function normaliseFieldValue(name: string, value: string | string[] | undefined): string | null {
  if (value === undefined) return null
  const joined = typeof value === 'string' ? value : value.join(',')
  const normalised = joined
    .split(',')
    .map((member) => member.trim().replace(/\s+/g, ' '))
    .filter((member) => member !== '')
    .join(',')
  return CASE_INSENSITIVE_FIELDS.has(name) ? normalised.toLowerCase() : normalised
}

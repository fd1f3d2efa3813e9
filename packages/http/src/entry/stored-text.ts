/**
 * The checks on the text of a stored entry (the codec reads its layout; these say whether what it
 * read may be served), and the process's one copy of the texts most entries share.
 */

/** RFC 9110 §5.1 field-name (lower-case) and a field value without CR, LF or NUL (§5.5). */
export const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/
export const UNSAFE_VALUE = /[\r\n\0]/
/** What `RouteOptions.name` allows. */
export const ROUTE_NAME = /^[\w.:/-]{1,64}$/

/**
 * Fields whose value most entries share (one Content-Type for a whole API). For these values and
 * for every field name, a decoded entry takes the process's one copy of the text instead of a
 * string of its own, which it would keep for its life (`application/json; charset=utf-8`, 9,000
 * times over 9,000 served entries).
 */
export const SHARED_VALUE_FIELDS: ReadonlySet<string> = new Set([
  'content-type',
  'cache-control',
  'content-encoding',
  'content-language',
  'vary',
])
/** The shared texts: the first ones seen, bounded, so varied names or values cannot grow the table. */
const sharedValues = new Map<string, string>()
const SHARED_VALUES_MAX = 256
const SHARED_VALUE_MAX_LENGTH = 128

export function sharedText(text: string): string {
  const known = sharedValues.get(text)
  if (known !== undefined) return known
  if (sharedValues.size < SHARED_VALUES_MAX && text.length <= SHARED_VALUE_MAX_LENGTH)
    sharedValues.set(text, text)
  return text
}

/** How query strings are normalised for the key. */
export interface QueryPolicy {
  /** Sort parameters by name; values of one name keep their relative order. */
  sort: boolean
  /** Whether a (decoded) parameter name is left out of the key. */
  ignore: (name: string) => boolean
}

/**
 * Normalises a query string (without `?`) so that requests the app cannot tell apart share a key:
 * empty members dropped, `a` and `a=` unified, percent-encoding re-done in one canonical form
 * (`+` and `%20` are both a space, as form decoding and Express's `qs` read them), ignored
 * parameters dropped (unless they contain a `;`, which some parsers split on), and parameters
 * sorted by name when `policy.sort` says so. A member that is not valid percent-encoding is kept
 * verbatim, so it still separates keys.
 *
 * @example
 * ```ts
 * normaliseQuery('b=2&utm_source=x&a=%7e&a=1', { sort: true, ignore: (n) => n.startsWith('utm_') })
 * // 'a=~&a=1&b=2'
 * ```
 */
export function normaliseQuery(query: string, policy: QueryPolicy): string {
  return scanQuery(query, policy).query
}

/**
 * {@link normaliseQuery}, also saying whether a parameter was left out because the policy ignores it.
 *
 * @example
 * ```ts
 * normaliseQueryReporting('a=1&utm_source=x', { sort: true, ignore: (n) => n.startsWith('utm_') })
 * // { query: 'a=1', ignored: true }
 * ```
 */
export function normaliseQueryReporting(
  query: string,
  policy: QueryPolicy
): { query: string; ignored: boolean } {
  return scanQuery(query, policy)
}

/**
 * A request target without the query parameters the key ignores, everything else byte for byte
 * as sent: what the handler must see, since a parameter the key does not hold must not reach it
 * (DESIGN rule 2: `?utm_source=<script>` reflected into a shared entry would poison it). The same
 * members {@link normaliseQuery} leaves out are removed (so a member with `;` stays); a `?` left
 * with nothing after it goes too. Returns `target` itself when nothing is removed.
 *
 * @example
 * ```ts
 * withoutIgnoredParams('/a?utm_source=x&b=2', { sort: true, ignore: (n) => n.startsWith('utm_') }) // '/a?b=2'
 * ```
 */
export function withoutIgnoredParams(target: string, policy: QueryPolicy): string {
  const question = target.indexOf('?')
  if (question === -1) return target
  const hash = target.indexOf('#', question)
  const end = hash === -1 ? target.length : hash
  const members = target.slice(question + 1, end).split('&')
  const kept = members.filter((member) => !isIgnored(member, policy))
  if (kept.length === members.length) return target
  const query = kept.join('&')
  return `${target.slice(0, question)}${query === '' ? '' : `?${query}`}${target.slice(end)}`
}

function scanQuery(query: string, policy: QueryPolicy): { query: string; ignored: boolean } {
  if (query === '') return { query: '', ignored: false }
  const members: Array<{ name: string; text: string }> = []
  let ignored = false
  for (const member of query.split('&')) {
    if (member === '') continue
    const eq = member.indexOf('=')
    const rawName = eq === -1 ? member : member.slice(0, eq)
    const rawValue = eq === -1 ? '' : member.slice(eq + 1)
    const name = recode(rawName)
    if (name !== undefined && ignoredName(member, name.decoded, policy)) {
      ignored = true
      continue
    }
    const value = recode(rawValue)
    const text =
      name === undefined || value === undefined ? member : `${name.encoded}=${value.encoded}`
    members.push({ name: name?.decoded ?? rawName, text })
  }
  // Array#sort is stable (ES2019), so repeated names keep their order, which apps rely on.
  if (policy.sort) members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { query: members.map((member) => member.text).join('&'), ignored }
}

/** Whether a raw `name=value` member is one the key leaves out. */
function isIgnored(member: string, policy: QueryPolicy): boolean {
  if (member === '') return false
  const eq = member.indexOf('=')
  const name = recode(eq === -1 ? member : member.slice(0, eq))
  return name !== undefined && ignoredName(member, name.decoded, policy)
}

function ignoredName(member: string, decoded: string, policy: QueryPolicy): boolean {
  // Some parsers (Rails, Rack, older PHP) also split on `;`: `utm_content=x;q=evil` would hide
  // `q` inside an ignored parameter (parameter cloaking, Kettle 2020). Such a member stays keyed.
  return !member.includes(';') && policy.ignore(decoded)
}

/**
 * Compiles an ignore-list (`utm_*`, `fbclid`) into a predicate. `*` matches any run of
 * characters; everything else is literal and case-sensitive.
 *
 * @example
 * ```ts
 * compileIgnoreList(['utm_*', 'fbclid'])('utm_source') // true
 * ```
 */
export function compileIgnoreList(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => false
  const source = patterns
    .map((pattern) => pattern.split('*').map(escapeRegExp).join('[\\s\\S]*'))
    .join('|')
  const matcher = new RegExp(`^(?:${source})$`)
  return (name) => matcher.test(name)
}

/** Decoded and canonically re-encoded text, or undefined when it is not valid percent-encoding. */
function recode(text: string): { decoded: string; encoded: string } | undefined {
  try {
    const decoded = decodeURIComponent(text.replace(/\+/g, ' '))
    return { decoded, encoded: encodeURIComponent(decoded) }
  } catch {
    return undefined
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

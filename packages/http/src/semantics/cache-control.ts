import { fieldNameList, splitList, TOKEN, unquote } from './field-list.js'

/**
 * Parsed Cache-Control directives (RFC 9111 §5.2), response and request ones in one shape.
 * Delta-seconds keep RFC names and units (seconds). `max-stale` without a value is `Infinity`.
 */
export interface CacheControlDirectives {
  'max-age'?: number
  's-maxage'?: number
  'stale-while-revalidate'?: number
  'stale-if-error'?: number
  'max-stale'?: number
  'min-fresh'?: number
  public?: true
  private?: true
  'no-store'?: true
  'no-cache'?: true
  'must-revalidate'?: true
  'proxy-revalidate'?: true
  'must-understand'?: true
  immutable?: true
  'no-transform'?: true
  'only-if-cached'?: true
}

/** Everything read from one Cache-Control field: the typed directives plus what they leave out. */
export interface CacheControlField {
  directives: CacheControlDirectives
  /**
   * RFC 9111 §5.2.2.4: the lower-case field names of a qualified `no-cache`, or `undefined` when
   * no-cache is absent or unqualified. `directives['no-cache']` is `true` either way, so a caller
   * that knows nothing of field lists treats the qualified form as unqualified (the safe reading).
   */
  noCacheFields: readonly string[] | undefined
  /** RFC 9111 §5.2.2.7: the same for a qualified `private`. */
  privateFields: readonly string[] | undefined
  /**
   * RFC 9111 §5.2.3: directives this parser does not know, by lower-case name, with their
   * argument (unquoted) or `undefined` when they have none. First occurrence of each.
   */
  extensions: ReadonlyMap<string, string | undefined>
}

/** RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31. */
export const MAX_DELTA_SECONDS = 2_147_483_648

type DeltaDirective =
  'max-age' | 's-maxage' | 'stale-while-revalidate' | 'stale-if-error' | 'max-stale' | 'min-fresh'
type FlagDirective = Exclude<keyof CacheControlDirectives, DeltaDirective>

const DELTA_DIRECTIVES: ReadonlySet<string> = new Set<DeltaDirective>([
  'max-age',
  's-maxage',
  'stale-while-revalidate',
  'stale-if-error',
  'max-stale',
  'min-fresh',
])
/** RFC 9111 §4.2.1: the directives that give a freshness lifetime. */
const FRESHNESS_DIRECTIVES: ReadonlySet<string> = new Set<DeltaDirective>(['max-age', 's-maxage'])
const FLAG_DIRECTIVES: ReadonlySet<string> = new Set<FlagDirective>([
  'public',
  'private',
  'no-store',
  'no-cache',
  'must-revalidate',
  'proxy-revalidate',
  'must-understand',
  'immutable',
  'no-transform',
  'only-if-cached',
])
/**
 * Flags that widen what a cache may do. A malformed member naming one of them is dropped; a
 * malformed member naming any other (restrictive) flag still applies, since RFC 9111 §4.2.1 asks
 * that "the most restrictive directive should be honored" when the origin's intent is unclear.
 */
const PERMISSIVE_FLAGS: ReadonlySet<string> = new Set<FlagDirective>([
  'public',
  'immutable',
  'must-understand',
  'only-if-cached',
])

/** One `cache-directive` (RFC 9111 §5.2): `token [ "=" ( token / quoted-string ) ]`. */
interface Member {
  name: string
  argument: string | undefined
  /** False when the member does not match the grammar (`max-age =5`, `no-store junk`, `max-age=`). */
  valid: boolean
}

/**
 * Parses Cache-Control (RFC 9111 §5.2) into typed directives. Malformed input never throws.
 * Same result as `parseCacheControlField(value).directives`.
 *
 * - RFC 9110 §5.6.1: a list; several field lines are one list; commas inside quoted-strings do
 *   not split; empty members are skipped. Directive names are case-insensitive (RFC 9111 §5.2).
 * - RFC 9111 §5.2: arguments are read in token or quoted-string form (`max-age="60"`); no
 *   whitespace is allowed around `=`.
 * - RFC 9111 §4.2.1: the first occurrence of a duplicated directive is used, except that
 *   duplicated `max-age` or `s-maxage` with different values make the response stale (0), the
 *   RFC's other option: a cache cannot tell which lifetime the origin meant.
 * - RFC 9111 §4.2.1: an invalid `max-age` / `s-maxage` (`abc`, `-1`, `1.5`, `'60'`) is 0.
 * - RFC 9111 §1.2.2: a delta-seconds too large to represent is 2^31.
 * - RFC 9111 §5.2.2.4 / §5.2.2.7: qualified `no-cache` / `private` still set the flag; their
 *   field lists are in {@link parseCacheControlField}.
 *
 * @example
 * ```ts
 * parseCacheControl('public, max-age=60, s-maxage="30"') // { public: true, 'max-age': 60, 's-maxage': 30 }
 * parseCacheControl(['max-stale', 'min-fresh=5'])         // { 'max-stale': Infinity, 'min-fresh': 5 }
 * parseCacheControl('max-age=60, max-age=5')              // { 'max-age': 0 }
 * ```
 */
export function parseCacheControl(
  value: string | readonly string[] | undefined
): CacheControlDirectives {
  return parseCacheControlField(value).directives
}

/**
 * Parses Cache-Control like {@link parseCacheControl}, and also returns the field names of
 * qualified `no-cache` and `private` (RFC 9111 §5.2.2.4, §5.2.2.7) and the extension directives
 * it does not know (RFC 9111 §5.2.3). A qualified form whose argument is not a list of field
 * names counts as unqualified, and so does a directive given both qualified and unqualified.
 *
 * @example
 * ```ts
 * const field = parseCacheControlField('no-cache="Set-Cookie", community="UCI"')
 * field.directives      // { 'no-cache': true }
 * field.noCacheFields   // ['set-cookie']
 * field.extensions      // Map { 'community' => 'UCI' }
 * ```
 */
export function parseCacheControlField(
  value: string | readonly string[] | undefined
): CacheControlField {
  const directives = Object.create(null) as CacheControlDirectives
  const extensions = new Map<string, string | undefined>()
  const result: CacheControlField = {
    directives,
    noCacheFields: undefined,
    privateFields: undefined,
    extensions,
  }
  if (value === undefined) return result
  const text = typeof value === 'string' ? value : value.join(',')
  const own = directives as Record<string, number | true>
  const seen = new Set<string>()
  const lists = new Map<'no-cache' | 'private', string[] | 'unqualified'>()
  for (const raw of splitList(text)) {
    const member = parseMember(raw)
    if (member === undefined) continue
    const { name } = member
    const first = !seen.has(name)
    seen.add(name)
    if (DELTA_DIRECTIVES.has(name)) {
      const seconds = deltaSeconds(name, member)
      if (first) {
        if (seconds !== undefined) own[name] = seconds
      } else if (FRESHNESS_DIRECTIVES.has(name) && seconds !== own[name]) {
        own[name] = 0
      }
    } else if (FLAG_DIRECTIVES.has(name)) {
      if (!member.valid && PERMISSIVE_FLAGS.has(name)) continue
      own[name] = true
      if (name === 'no-cache' || name === 'private') collectFields(lists, name, member)
    } else if (first) {
      extensions.set(name, member.argument)
    }
  }
  const noCache = lists.get('no-cache')
  const priv = lists.get('private')
  result.noCacheFields = Array.isArray(noCache) ? noCache : undefined
  result.privateFields = Array.isArray(priv) ? priv : undefined
  return result
}

function parseMember(text: string): Member | undefined {
  const match = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(text)
  if (match === null) return undefined
  const name = match[0].toLowerCase()
  const rest = text.slice(match[0].length)
  if (rest === '') return { name, argument: undefined, valid: true }
  if (rest.charCodeAt(0) !== 0x3d /* = */) return { name, argument: undefined, valid: false }
  const raw = rest.slice(1)
  if (raw.charCodeAt(0) === 0x22 /* " */) {
    const unquoted = unquote(raw)
    return unquoted === undefined
      ? { name, argument: raw, valid: false }
      : { name, argument: unquoted, valid: true }
  }
  return { name, argument: raw, valid: TOKEN.test(raw) }
}

function deltaSeconds(name: string, member: Member): number | undefined {
  const { argument, valid } = member
  if (valid && argument !== undefined && /^\d+$/.test(argument))
    return Math.min(Number(argument), MAX_DELTA_SECONDS)
  // RFC 9111 §5.2.1.2: max-stale without a value accepts a response of any staleness.
  if (name === 'max-stale' && valid && argument === undefined) return Infinity
  // RFC 9111 §4.2.1: invalid freshness information means the response is stale.
  if (FRESHNESS_DIRECTIVES.has(name)) return 0
  // An invalid stale-while-revalidate, stale-if-error, max-stale or min-fresh is ignored.
  return undefined
}

function collectFields(
  lists: Map<'no-cache' | 'private', string[] | 'unqualified'>,
  name: 'no-cache' | 'private',
  member: Member
): void {
  const fields =
    member.valid && member.argument !== undefined ? fieldNameList(member.argument) : undefined
  const known = lists.get(name)
  if (fields === undefined || known === 'unqualified') {
    lists.set(name, 'unqualified')
    return
  }
  lists.set(name, known === undefined ? fields : [...new Set([...known, ...fields])])
}

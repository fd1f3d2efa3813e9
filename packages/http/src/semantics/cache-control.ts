import cacheControlParser from 'cache-control-parser'

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

/** RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31. */
const MAX_DELTA_SECONDS = 2_147_483_648

/** Directives cache-control-parser knows; the rest (request-only ones) we read ourselves. */
const LIBRARY_DIRECTIVES: ReadonlySet<string> = new Set([
  'max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error', 'public', 'private',
  'no-store', 'no-cache', 'must-revalidate', 'proxy-revalidate', 'immutable', 'no-transform',
])
const DELTA_DIRECTIVES: ReadonlySet<string> = new Set([
  'max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error', 'max-stale', 'min-fresh',
])
const OWN_FLAGS: ReadonlySet<string> = new Set(['only-if-cached', 'must-understand'])

/**
 * Parses Cache-Control (or a targeted field such as CDN-Cache-Control) into typed directives.
 * Malformed input never throws: unknown or broken members are skipped.
 *
 * - RFC 9111 §4.2.1: with duplicate directives the first occurrence is used.
 * - RFC 9111 §5.2: quoted-string values are accepted where a token is expected.
 * - RFC 9111 §4.2.1: an invalid `max-age` / `s-maxage` value makes the response stale (0).
 *
 * @example
 * ```ts
 * parseCacheControl('public, max-age=60, s-maxage="30"') // { public: true, 'max-age': 60, 's-maxage': 30 }
 * parseCacheControl(['max-stale', 'min-fresh=5'])         // { 'max-stale': Infinity, 'min-fresh': 5 }
 * ```
 */
export function parseCacheControl(value: string | readonly string[] | undefined): CacheControlDirectives {
  const directives: CacheControlDirectives = Object.create(null) as CacheControlDirectives
  if (value === undefined) return directives
  const text = typeof value === 'string' ? value : value.join(',')
  if (text === '') return directives
  const seen = new Set<string>()
  const forLibrary: string[] = []
  const own = directives as Record<string, number | true>
  for (const member of splitMembers(text)) {
    const eq = member.indexOf('=')
    const name = (eq === -1 ? member : member.slice(0, eq)).trim().toLowerCase()
    if (name === '' || seen.has(name)) continue
    seen.add(name)
    const raw = eq === -1 ? undefined : unquote(member.slice(eq + 1).trim())
    if (DELTA_DIRECTIVES.has(name)) {
      const seconds = deltaSeconds(name, raw)
      if (seconds === undefined) continue
      if (LIBRARY_DIRECTIVES.has(name)) forLibrary.push(`${name}=${seconds}`)
      else own[name] = seconds
    } else if (LIBRARY_DIRECTIVES.has(name)) {
      forLibrary.push(name)
    } else if (OWN_FLAGS.has(name)) {
      own[name] = true
    }
  }
  if (forLibrary.length === 0) return directives
  const parsed = cacheControlParser.parse(forLibrary.join(', ')) as Record<string, unknown>
  for (const name of LIBRARY_DIRECTIVES) {
    const parsedValue = parsed[name]
    if (parsedValue === true) own[name] = true
    // The library caps nothing; we re-apply RFC 9111 §1.2.2 after it.
    else if (typeof parsedValue === 'number') own[name] = Math.min(parsedValue, MAX_DELTA_SECONDS)
  }
  return directives
}

/**
 * Whether parseCacheControl found at least one directive it knows (RFC 9213: an empty or
 * unknown targeted field does not replace Cache-Control).
 *
 * @example
 * ```ts
 * hasDirectives(parseCacheControl('foo')) // false
 * ```
 */
export function hasDirectives(directives: CacheControlDirectives): boolean {
  for (const _ in directives) return true
  return false
}

function deltaSeconds(name: string, raw: string | undefined): number | undefined {
  if (raw !== undefined && /^\d+$/.test(raw)) return Math.min(Number(raw), MAX_DELTA_SECONDS)
  // RFC 9111 §5.2.1.2: max-stale without a value accepts a response of any staleness.
  if (name === 'max-stale' && raw === undefined) return Infinity
  // RFC 9111 §4.2.1: invalid freshness information means the response is stale.
  if (name === 'max-age' || name === 's-maxage') return 0
  return undefined
}

/** Splits on commas that are not inside a quoted-string (RFC 9110 §5.6.4). */
function splitMembers(text: string): string[] {
  const members: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i)
    if (char === 0x5c /* \ */ && quoted) i++
    else if (char === 0x22 /* " */) quoted = !quoted
    else if (char === 0x2c /* , */ && !quoted) {
      members.push(text.slice(start, i))
      start = i + 1
    }
  }
  members.push(text.slice(start))
  return members
}

function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value
  return value.slice(1, -1).replace(/\\(.)/g, '$1')
}

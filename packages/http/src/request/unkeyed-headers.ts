import type { RequestHeaders } from '../types.js'

/**
 * Request fields frameworks, proxies and apps commonly read to rebuild the URL, host, scheme or
 * method, none of which the default key covers (web cache poisoning, Kettle 2018). A request that
 * carries one bypasses unless the options key it, ignore it, or the adapter reports that the
 * framework applied it to `host`/`protocol` (which are keyed). Grows when a new such field is
 * found in the wild; removing a name would re-open a poisoning vector.
 */
export const UNKEYED_REQUEST_HEADERS: readonly string[] = Object.freeze([
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-scheme',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-host',
  'x-original-url',
  'x-rewrite-url',
  'x-original-host',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'forwarded',
])

/** Which headers a request may carry, and which go into the key. Names are lower-case. */
export interface HeaderKeyPolicy {
  /** Headers whose values go into the key (like Vary); a guarded header listed here is allowed. */
  keyed: readonly string[]
  /** Guarded headers the app declares it never reads: allowed, and not keyed. */
  ignored: ReadonlySet<string>
}

/**
 * The first guarded header the request carries that is neither keyed, ignored nor applied by the
 * framework (`applied`: what the adapter resolved into host/protocol), or undefined.
 *
 * @example
 * ```ts
 * findUnkeyedHeader({ 'x-forwarded-host': 'evil.example' }, { keyed: [], ignored: new Set() }, undefined)
 * // 'x-forwarded-host'
 * ```
 */
export function findUnkeyedHeader(
  headers: RequestHeaders,
  policy: HeaderKeyPolicy,
  applied: readonly string[] | undefined
): string | undefined {
  // Walks the request's few fields rather than probing for thirteen absent ones: every hit pays this.
  for (const name in headers) {
    const first = name.charCodeAt(0)
    if (
      (first !== 120 /* x */ && first !== 102) /* f */ ||
      !GUARDED.has(name) ||
      headers[name] === undefined
    )
      continue
    if (policy.ignored.has(name) || policy.keyed.includes(name) || applied?.includes(name) === true)
      continue
    return name
  }
  return undefined
}

const GUARDED: ReadonlySet<string> = new Set(UNKEYED_REQUEST_HEADERS)

/**
 * Key material for the keyed headers: their names and values, JSON-encoded so no value can
 * imitate a separator; undefined when none is configured.
 *
 * @example
 * ```ts
 * keyedHeaderMaterial({ 'x-forwarded-host': 'a.example' }, ['x-forwarded-host'])
 * // 'headers:[["x-forwarded-host","a.example"]]'
 * ```
 */
export function keyedHeaderMaterial(
  headers: RequestHeaders,
  names: readonly string[]
): string | undefined {
  if (names.length === 0) return undefined
  const pairs = names.map((name) => {
    const value = headers[name]
    return [name, Array.isArray(value) ? value.join(', ') : (value ?? null)] as const
  })
  return `headers:${JSON.stringify(pairs)}`
}

/**
 * Whether a request carries a body (RFC 9112 §6.3: Transfer-Encoding, or Content-Length > 0).
 * A GET's body is not keyed, so a handler that reads it could poison the entry ("fat GET").
 *
 * @example
 * ```ts
 * hasRequestBody({ 'content-length': '12' }) // true
 * hasRequestBody({ 'content-length': '0' })  // false
 * ```
 */
export function hasRequestBody(headers: RequestHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true
  const length = headers['content-length']
  if (length === undefined) return false
  const text = Array.isArray(length) ? length.join(',') : length
  return !/^\s*0+\s*$/.test(text)
}

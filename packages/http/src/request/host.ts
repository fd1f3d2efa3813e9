/** A host as it goes into the key: lower-case, no trailing dot, no default port. */
export interface NormalisedHost {
  hostname: string
  /** hostname plus `:port` when the port is not the scheme's default. */
  authority: string
}

/** RFC 3986 §3.2.2 reg-name (plus `_`, common in container networks) or IPv4, then an optional port. */
const REG_NAME = /^([a-z0-9_-]+(?:\.[a-z0-9_-]+)*)\.?(?::(\d{1,5}))?$/
const IP_LITERAL = /^(\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/
const DEFAULT_PORTS: Readonly<Record<'http' | 'https', string>> = { http: '80', https: '443' }

/**
 * Normalises a Host value for the key, or undefined when it is malformed (such a request bypasses
 * the cache: a host we cannot parse must not share or create entries).
 *
 * @example
 * ```ts
 * normaliseHost('Example.COM.:443', 'https') // { hostname: 'example.com', authority: 'example.com' }
 * normaliseHost('a b', 'http')               // undefined
 * ```
 */
export function normaliseHost(
  host: string,
  protocol: 'http' | 'https'
): NormalisedHost | undefined {
  const memo = protocol === 'https' ? HTTPS_MEMO : HTTP_MEMO
  let found = memo.get(host)
  if (found === undefined) {
    // `null` remembers a malformed host; the memo is emptied when full, so random Hosts cannot grow it.
    const parsed = parseHost(host, protocol)
    found = parsed === undefined ? null : Object.freeze(parsed)
    if (memo.size >= HOST_MEMO_ENTRIES) memo.clear()
    memo.set(host, found)
  }
  return found ?? undefined
}

/** Distinct Host values remembered per scheme; a real site has a handful. */
const HOST_MEMO_ENTRIES = 256
const HTTP_MEMO = new Map<string, NormalisedHost | null>()
const HTTPS_MEMO = new Map<string, NormalisedHost | null>()

function parseHost(host: string, protocol: 'http' | 'https'): NormalisedHost | undefined {
  const lower = host.trim().toLowerCase()
  const match = REG_NAME.exec(lower) ?? IP_LITERAL.exec(lower)
  if (match === null) return undefined
  const hostname = match[1] as string
  const port = match[2]
  if (port !== undefined && Number(port) > 65535) return undefined
  const authority =
    port === undefined || port === DEFAULT_PORTS[protocol] ? hostname : `${hostname}:${port}`
  return { hostname, authority }
}

/**
 * Compiles a hosts allow-list into a predicate over normalised hostnames. `*.example.com` matches
 * any subdomain at any depth, not `example.com` itself. Returns undefined for a bad pattern, so
 * options can name it.
 *
 * @example
 * ```ts
 * const allowed = compileHostAllowList(['example.com', '*.example.org'])
 * allowed?.('api.example.org') // true
 * allowed?.('example.org')     // false
 * ```
 */
export function compileHostAllowList(
  patterns: readonly string[]
): ((hostname: string) => boolean) | undefined {
  const exact = new Set<string>()
  const suffixes: string[] = []
  for (const pattern of patterns) {
    const wildcard = pattern.startsWith('*.')
    const name = normaliseHost(wildcard ? pattern.slice(2) : pattern, 'http')
    // A port has no place in an allow-list entry: hosts are matched by name.
    if (name === undefined || /:\d+$/.test(pattern)) return undefined
    if (wildcard) suffixes.push(`.${name.hostname}`)
    else exact.add(name.hostname)
  }
  return (hostname) => exact.has(hostname) || suffixes.some((suffix) => hostname.endsWith(suffix))
}

import { urlTag } from '../request/cache-key.js'
import { normaliseHost } from '../request/host.js'
import { normaliseQuery, type QueryPolicy } from '../request/query.js'
import { headerValue } from '../semantics/headers.js'
import type { HeaderPairs } from '../types.js'

/** The request an unsafe method was sent to, already normalised. */
export interface InvalidationBase {
  protocol: 'http' | 'https'
  authority: string
  path: string
  /** Normalised query. */
  query: string
}

/**
 * RFC 9111 §4.4: the URL tags a response to an unsafe method invalidates. Only a non-error
 * status (2xx, 3xx) invalidates. The target URI always; the URIs in Location and
 * Content-Location too, when they are on the same host (the RFC forbids other hosts, since a
 * response could otherwise purge entries it has no authority over).
 *
 * @example
 * ```ts
 * invalidationTags(201, [['location', '/items/7']], base, policy) // [tag of base, tag of /items/7]
 * ```
 */
export function invalidationTags(
  status: number,
  headers: HeaderPairs,
  base: InvalidationBase,
  query: QueryPolicy
): string[] {
  return [
    ...new Set(
      invalidationTargets(status, headers, base, query).map((t) =>
        urlTag(t.authority, t.path, t.query)
      )
    ),
  ]
}

/**
 * The same targets as `invalidationTags`, as absolute URLs for a CDN purge hook.
 *
 * @example
 * ```ts
 * invalidationUrls(201, [['location', '/items/7']], base, policy) // ['https://shop.example/items', 'https://shop.example/items/7']
 * ```
 */
export function invalidationUrls(
  status: number,
  headers: HeaderPairs,
  base: InvalidationBase,
  query: QueryPolicy
): string[] {
  const urls = invalidationTargets(status, headers, base, query).map(
    (t) => `${base.protocol}://${t.authority}${t.path}${t.query === '' ? '' : `?${t.query}`}`
  )
  return [...new Set(urls)]
}

interface Target {
  authority: string
  path: string
  query: string
}

function invalidationTargets(
  status: number,
  headers: HeaderPairs,
  base: InvalidationBase,
  query: QueryPolicy
): Target[] {
  if (status < 200 || status > 399) return []
  const targets: Target[] = [{ authority: base.authority, path: base.path, query: base.query }]
  const origin = `${base.protocol}://${base.authority}`
  for (const name of ['location', 'content-location']) {
    const value = headerValue(headers, name)
    if (value === undefined) continue
    let url: URL
    try {
      url = new URL(value, `${origin}${base.path}`)
    } catch {
      continue
    }
    const scheme =
      url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : undefined
    const host = scheme === undefined ? undefined : normaliseHost(url.host, scheme)
    if (host?.authority !== base.authority) continue
    targets.push({
      authority: host.authority,
      path: url.pathname,
      query: normaliseQuery(url.search.slice(1), query),
    })
  }
  return targets
}

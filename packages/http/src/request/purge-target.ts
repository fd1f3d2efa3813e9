import { parseTarget, urlTag } from './cache-key.js'
import { normaliseHost } from './host.js'
import { normaliseQuery, type QueryPolicy } from './query.js'

/**
 * The URL tag for a purge: `url` absolute (`https://example.com/a?b=1`), or a path with `host`.
 * Normalised exactly like request keys, so `/a?b=1&c=2` purges what `/a?c=2&b=1` stored.
 * Returns why it cannot when the input is unusable.
 *
 * @example
 * ```ts
 * purgeTag('/a?b=1', 'example.com', policy) // { tag: 'http-url:…' }
 * purgeTag('/a', undefined, policy)         // { error: 'host' }
 * ```
 */
export function purgeTag(
  url: string,
  host: string | undefined,
  query: QueryPolicy
): { tag: string } | { error: 'url' | 'host' } {
  const target = parseTarget(url)
  if (target === undefined) return { error: 'url' }
  const absolute = /^(https?):\/\/([^/?#]*)/i.exec(url)
  const scheme = absolute?.[1]?.toLowerCase() === 'https' ? 'https' : 'http'
  const authority = normaliseHost(absolute?.[2] ?? host ?? '', scheme)
  if (authority === undefined) return { error: 'host' }
  return { tag: urlTag(authority.authority, target.path, normaliseQuery(target.query, query)) }
}

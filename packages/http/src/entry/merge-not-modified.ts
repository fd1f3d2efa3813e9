import { etagListMatches } from '../semantics/conditional.js'
import { headerValue, withoutHopByHop } from '../semantics/headers.js'
import type { HeaderPair, HeaderPairs, StoredResponse } from '../types.js'

/**
 * RFC 9111 §3.2: fields a 304 must not change in the stored response. Content-Length describes
 * the stored body, not the empty 304. Changes only with the RFC.
 */
const NOT_UPDATED: ReadonlySet<string> = new Set(['content-length'])

/**
 * Whether a 304 received while revalidating applies to this entry (RFC 9111 §4.3.4): when it
 * names an ETag, that must be the one the origin gave for the stored response (weak comparison);
 * without one it applies. An ETag the cache generated was never sent, so it is not compared.
 *
 * @example
 * ```ts
 * notModifiedApplies(entry, [['etag', 'W/"a"']]) // true when entry.etag is '"a"'
 * ```
 */
export function notModifiedApplies(entry: StoredResponse, pairs: HeaderPairs): boolean {
  const etag = headerValue(pairs, 'etag')
  if (etag === undefined || entry.etag === undefined || entry.etagGenerated) return true
  return etagListMatches(etag, entry.etag)
}

/**
 * The stored response's header lines updated from a 304 (RFC 9111 §3.2): each field in the 304
 * replaces that field's stored lines, in the place of the first one (new fields go at the end);
 * hop-by-hop fields and Content-Length are not taken. The result is a full response's headers,
 * to be analysed and stored again like any response; an ETag the cache generated is left out
 * (it is made again from the same body), so it never passes for the origin's.
 *
 * @example
 * ```ts
 * mergeNotModified(entry, [['cache-control', 'max-age=120'], ['date', 'Tue, 01 Jul 2025 10:00:00 GMT']])
 * ```
 */
export function mergeNotModified(entry: StoredResponse, pairs: HeaderPairs): HeaderPair[] {
  const updates = withoutHopByHop(pairs).filter(([name]) => !NOT_UPDATED.has(name))
  const base: HeaderPair[] = entry.etagGenerated
    ? entry.headers.filter(([name]) => name !== 'etag')
    : [...entry.headers]
  if (entry.upstreamCacheStatus !== undefined)
    base.push(['cache-status', entry.upstreamCacheStatus])
  const updatedNames = new Set(updates.map(([name]) => name))
  const merged: HeaderPair[] = []
  const placed = new Set<string>()
  for (const pair of base) {
    const name = pair[0]
    if (!updatedNames.has(name)) {
      merged.push(pair)
    } else if (!placed.has(name)) {
      placed.add(name)
      for (const update of updates) if (update[0] === name) merged.push(update)
    }
  }
  for (const update of updates) if (!placed.has(update[0])) merged.push(update)
  return merged
}

import type { LookupResult } from './diagnostics.js'

/** One route policy's share of the requests the engine answered. */
export interface RouteStats {
  /** The policy's `name`; `default` for requests no route met, `unnamed` for routes without a name. */
  route: string
  hit: number
  stale: number
  miss: number
  revalidated: number
  bypass: number
  /** (hit + stale) / (hit + stale + miss + revalidated); 0 before any lookup. */
  hitRate: number
}

/** Lookups by result, bypasses included. */
export type LookupCounts = Record<LookupResult | 'bypass', number>

/**
 * Adds `by` to one result's count. A property named in the code for each result: `counts[result]`
 * is one keyed access that meets all five names, so it turns megamorphic and each hit paid V8's
 * generic lookup, in the engine's totals and its route's row both.
 */
export function addCount(
  counts: LookupCounts,
  result: LookupResult | 'bypass',
  by: 1 | -1 = 1
): void {
  switch (result) {
    case 'hit':
      counts.hit += by
      return
    case 'stale':
      counts.stale += by
      return
    case 'miss':
      counts.miss += by
      return
    case 'revalidated':
      counts.revalidated += by
      return
    case 'bypass':
      counts.bypass += by
  }
}

/** Most route labels counted; names come from code, so this only guards against a name built per request. */
const MAX_ROUTES = 256
/** Where lookups of routes past the cap are counted. */
const OVERFLOW = 'other'

/**
 * Lookup counts per route label, bounded: past 256 labels, new ones are counted as `other`.
 *
 * @example
 * ```ts
 * const routes = new RouteCounts()
 * routes.add('products', 'hit')
 * routes.stats() // [{ route: 'products', hit: 1, ..., hitRate: 1 }]
 * ```
 */
export class RouteCounts {
  readonly #counts = new Map<string, LookupCounts>()

  add(route: string, result: keyof LookupCounts): void {
    addCount(this.#row(route), result)
  }

  /** Takes back one count (a pass a route took over, or a miss that moved to its route). */
  take(route: string, result: keyof LookupCounts): void {
    const row = this.#counts.get(route)
    if (row !== undefined && row[result] > 0) addCount(row, result, -1)
  }

  /** Every route's counts and hit rate, the busiest first. */
  stats(): RouteStats[] {
    const rows = [...this.#counts].map(([route, counts]) => {
      const reads = counts.hit + counts.stale + counts.miss + counts.revalidated
      return { route, ...counts, hitRate: reads === 0 ? 0 : (counts.hit + counts.stale) / reads }
    })
    const total = (row: RouteStats): number =>
      row.hit + row.stale + row.miss + row.revalidated + row.bypass
    return rows.sort((a, b) => total(b) - total(a) || a.route.localeCompare(b.route))
  }

  #row(route: string): LookupCounts {
    let row = this.#counts.get(route)
    if (row === undefined) {
      const label = this.#counts.size >= MAX_ROUTES ? OVERFLOW : route
      row = this.#counts.get(label)
      if (row === undefined) {
        row = { hit: 0, stale: 0, miss: 0, revalidated: 0, bypass: 0 }
        this.#counts.set(label, row)
      }
    }
    return row
  }
}

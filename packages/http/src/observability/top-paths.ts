/** One URL path's share of the traffic the cache answered. */
export interface PathStats {
  path: string
  hits: number
  /** Body bytes of the last stored response for this path. */
  bytes: number
}

/**
 * A bounded table of the busiest URL paths (paths only: never queries, keys or headers). When
 * full, a new path replaces the one with the fewest hits, so memory stays at `capacity` rows.
 *
 * @example
 * ```ts
 * const top = new TopPaths(256)
 * top.hit('/products', 512)
 * top.byHits(10)
 * ```
 */
export class TopPaths {
  readonly #capacity: number
  readonly #rows = new Map<string, PathStats>()
  /** Rows with no hit yet (added by a store): while there are none, 1 hit is the fewest. */
  #neverHit = 0
  /** The row added last: on a long tail it is the one with the fewest hits. */
  #newest: PathStats | undefined

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  hit(path: string, bytes: number): void {
    const row = this.#row(path)
    if (row.hits === 0) this.#neverHit--
    row.hits++
    row.bytes = bytes
  }

  stored(path: string, bytes: number): void {
    this.#row(path).bytes = bytes
  }

  byHits(limit: number): PathStats[] {
    return [...this.#rows.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, limit)
      .map((row) => ({ ...row }))
  }

  byBytes(limit: number): PathStats[] {
    return [...this.#rows.values()]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, limit)
      .map((row) => ({ ...row }))
  }

  #row(path: string): PathStats {
    let row = this.#rows.get(path)
    if (row !== undefined) return row
    if (this.#rows.size >= this.#capacity) this.#evict()
    row = { path, hits: 0, bytes: 0 }
    this.#rows.set(path, row)
    this.#neverHit++
    this.#newest = row
    return row
  }

  /**
   * Drops a row with the fewest hits, without scanning on the two common floods: new paths stored
   * (a never-hit row is the oldest such, found first) and a long tail of paths hit once (the
   * newest row, still at 1 hit while no row has 0). Otherwise one scan finds the coldest.
   */
  #evict(): void {
    const newest = this.#newest
    let coldest: PathStats | undefined
    if (this.#neverHit === 0 && newest !== undefined && newest.hits <= 1) coldest = newest
    else
      for (const candidate of this.#rows.values()) {
        if (coldest === undefined || candidate.hits < coldest.hits) coldest = candidate
        if (coldest.hits === 0) break
      }
    if (coldest === undefined) return
    this.#rows.delete(coldest.path)
    if (coldest.hits === 0) this.#neverHit--
    if (coldest === newest) this.#newest = undefined
  }
}

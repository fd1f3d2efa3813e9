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

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  hit(path: string, bytes: number): void {
    const row = this.#row(path)
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
    if (this.#rows.size >= this.#capacity) {
      let coldest: PathStats | undefined
      for (const candidate of this.#rows.values()) {
        if (coldest === undefined || candidate.hits < coldest.hits) coldest = candidate
        // Nothing is colder than a path never hit: a flood of new paths evicts in O(1), not O(capacity).
        if (coldest.hits === 0) break
      }
      if (coldest !== undefined) this.#rows.delete(coldest.path)
    }
    row = { path, hits: 0, bytes: 0 }
    this.#rows.set(path, row)
    return row
  }
}

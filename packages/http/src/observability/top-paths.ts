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
 * A full table takes a new path into one row kept outside its map (`#probe`), which the next new
 * path overwrites in place while it has one hit (and no row in the map has none), and which joins
 * the map on its second hit. A long tail of paths hit about once (10,000 keys under a Zipf law)
 * then costs no map writes: a delete and an insert per tail hit made V8 rebuild the map's table
 * every few hundred hits, each copy outliving a young-generation collection (bench/gc.mjs
 * cachewire-koa-zipf).
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
  /** The row of the newest path while the table is full; not in `#rows`. */
  #probe: PathStats | undefined
  /** Rows with no hit yet (added by a store): while there are none, 1 hit is the fewest. */
  #neverHit = 0

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  hit(path: string, bytes: number): void {
    const row = this.#row(path)
    if (row.hits === 0) this.#neverHit--
    row.hits++
    row.bytes = bytes
    if (row === this.#probe && row.hits > 1) {
      this.#rows.set(row.path, row)
      this.#probe = undefined
    }
  }

  stored(path: string, bytes: number): void {
    this.#row(path).bytes = bytes
  }

  byHits(limit: number): PathStats[] {
    return this.#all()
      .sort((a, b) => b.hits - a.hits)
      .slice(0, limit)
      .map((row) => ({ ...row }))
  }

  byBytes(limit: number): PathStats[] {
    return this.#all()
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, limit)
      .map((row) => ({ ...row }))
  }

  #all(): PathStats[] {
    const rows = [...this.#rows.values()]
    if (this.#probe !== undefined) rows.push(this.#probe)
    return rows
  }

  #row(path: string): PathStats {
    const probe = this.#probe
    if (probe !== undefined && probe.path === path) return probe
    let row = this.#rows.get(path)
    if (row !== undefined) return row
    this.#neverHit++
    if (this.#rows.size + (probe === undefined ? 0 : 1) < this.#capacity) {
      row = { path, hits: 0, bytes: 0 }
      this.#rows.set(path, row)
      return row
    }
    if (probe !== undefined && probe.hits === 1 && this.#neverHit === 1) {
      // The newest path, hit once, and no row in the map never hit: the probe is the coldest
      // row, and gives way in place.
      probe.path = path
      probe.hits = 0
      probe.bytes = 0
      return probe
    }
    if (probe !== undefined) this.#rows.set(probe.path, probe)
    this.#evict()
    return (this.#probe = { path, hits: 0, bytes: 0 })
  }

  /**
   * Drops a row with the fewest hits from the map; a never-hit row (the oldest such, found first
   * in a flood of new paths stored) ends the scan.
   */
  #evict(): void {
    let coldest: PathStats | undefined
    for (const candidate of this.#rows.values()) {
      if (coldest === undefined || candidate.hits < coldest.hits) coldest = candidate
      if (coldest.hits === 0) break
    }
    if (coldest === undefined) return
    this.#rows.delete(coldest.path)
    if (coldest.hits === 0) this.#neverHit--
  }
}

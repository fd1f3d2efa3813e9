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
  /**
   * The rows that entered `#rows` with no hit, in the order they entered it, from `#unhitFrom`
   * on; one that was hit since, or left the map, is skipped when reached. A flood of new paths
   * stored evicts the oldest never-hit row from its front, where a walk of the map from its front
   * passed the slots V8 leaves there for the rows deleted before it rehashes (callgrind,
   * cachewire-koa-miss: the table's part of a stored miss 3.8 k → 2.7 k instructions).
   */
  #unhit: PathStats[] = []
  #unhitFrom = 0

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
      this.#enter(row)
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
    if (probe !== undefined) this.#enter(probe)
    this.#evict()
    return (this.#probe = { path, hits: 0, bytes: 0 })
  }

  /** Puts a row in the map, and one with no hit in the queue of never-hit rows as well. */
  #enter(row: PathStats): void {
    this.#rows.set(row.path, row)
    if (row.hits === 0) this.#unhit.push(row)
  }

  /**
   * Drops a row with the fewest hits from the map: the oldest never-hit row when there is one,
   * else the first row with the fewest hits that a scan of the map finds (every row has one hit
   * at least then, so the first with one ends the scan).
   */
  #evict(): void {
    const oldest = this.#oldestUnhit()
    if (oldest !== undefined) {
      this.#rows.delete(oldest.path)
      this.#neverHit--
      return
    }
    let coldest: PathStats | undefined
    for (const candidate of this.#rows.values()) {
      if (coldest === undefined || candidate.hits < coldest.hits) coldest = candidate
      if (coldest.hits <= 1) break
    }
    if (coldest === undefined) return
    this.#rows.delete(coldest.path)
  }

  /** Takes the oldest row of the map that has no hit off the queue, if any. */
  #oldestUnhit(): PathStats | undefined {
    const queue = this.#unhit
    let from = this.#unhitFrom
    let found: PathStats | undefined
    while (from < queue.length) {
      const row = queue[from++] as PathStats
      if (row.hits === 0 && this.#rows.get(row.path) === row) {
        found = row
        break
      }
    }
    // The taken front is dropped once it is most of the array, so the queue stays within twice
    // the rows it holds.
    if (from > 64 && from * 2 > queue.length) {
      this.#unhit = queue.slice(from)
      from = 0
    }
    this.#unhitFrom = from
    return found
  }
}

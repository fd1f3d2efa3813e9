import { describe, expect, it } from 'vitest'
import { RouteCounts, addCount, type LookupCounts } from '../src/observability/route-counts.js'

const zero = (): LookupCounts => ({ hit: 0, stale: 0, miss: 0, revalidated: 0, bypass: 0 })

describe('lookup counts', () => {
  it('adds to and takes from the named result only, for each of the five', () => {
    const results = ['hit', 'stale', 'miss', 'revalidated', 'bypass'] as const
    for (const [place, result] of results.entries()) {
      const counts = zero()
      for (let i = 0; i <= place; i++) addCount(counts, result)
      expect(counts).toEqual({ ...zero(), [result]: place + 1 })
      addCount(counts, result, -1)
      expect(counts).toEqual({ ...zero(), [result]: place })
    }
  })

  it("keeps each route's row apart, takes back only what was counted, and sums hit rates over reads", () => {
    const routes = new RouteCounts()
    routes.add('products', 'hit')
    routes.add('products', 'hit')
    routes.add('products', 'stale')
    routes.add('products', 'miss')
    routes.add('products', 'revalidated')
    routes.add('search', 'bypass')
    routes.take('search', 'bypass')
    routes.take('search', 'bypass')
    routes.take('nowhere', 'miss')
    expect(routes.stats()).toEqual([
      { route: 'products', hit: 2, stale: 1, miss: 1, revalidated: 1, bypass: 0, hitRate: 3 / 5 },
      { route: 'search', hit: 0, stale: 0, miss: 0, revalidated: 0, bypass: 0, hitRate: 0 },
    ])
  })

  it('counts labels past the 256th under `other`', () => {
    const routes = new RouteCounts()
    for (let i = 0; i < 256; i++) routes.add(`r${i}`, 'hit')
    routes.add('late-a', 'miss')
    routes.add('late-b', 'stale')
    const other = routes.stats().find((row) => row.route === 'other')
    expect(other).toMatchObject({ hit: 0, stale: 1, miss: 1 })
    expect(routes.stats()).toHaveLength(257)
  })
})

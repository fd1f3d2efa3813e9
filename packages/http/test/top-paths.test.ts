import { describe, expect, test } from 'vitest'
import { TopPaths } from '../src/observability/top-paths.js'

/** The table's rows by hits: path and hits. */
function hitsByPath(top: TopPaths): [string, number][] {
  return top.byHits(10).map((row) => [row.path, row.hits])
}

describe('TopPaths', () => {
  test('when full, a new path replaces the one with the fewest hits', () => {
    const top = new TopPaths(3)
    top.hit('/a', 1)
    top.hit('/a', 1)
    top.hit('/b', 1)
    top.hit('/c', 1)
    top.hit('/c', 1)
    top.hit('/d', 1)
    expect(top.byHits(10).map((row) => row.path)).toEqual(['/a', '/c', '/d'])
  })

  test('a flood of stored, never-hit paths replaces the oldest of them and keeps every hit path', () => {
    const top = new TopPaths(4)
    top.hit('/hot', 10)
    top.hit('/warm', 10)
    for (let i = 0; i < 1000; i++) top.stored(`/new/${i}`, 10)
    const paths = top.byBytes(10).map((row) => row.path)
    expect(paths).toContain('/hot')
    expect(paths).toContain('/warm')
    expect(paths.filter((path) => path.startsWith('/new/')).sort()).toEqual([
      '/new/998',
      '/new/999',
    ])
  })

  test('a flood evicts the oldest path still never hit, past paths hit since they were stored', () => {
    const top = new TopPaths(4)
    top.hit('/hot', 10)
    for (let i = 0; i < 3; i++) top.stored(`/s/${i}`, 10)
    top.hit('/s/0', 10)
    top.hit('/s/1', 10)
    // /s/2 is the only row never hit: it goes, and the new path takes its place.
    top.stored('/n/0', 10)
    expect(top.byHits(10).map((row) => row.path)).toEqual(['/hot', '/s/0', '/s/1', '/n/0'])
    // Then the probe (/n/0, never hit) joins and goes first, oldest of the never-hit rows.
    for (let i = 1; i < 200; i++) top.stored(`/n/${i}`, 10)
    expect(hitsByPath(top)).toEqual([
      ['/hot', 1],
      ['/s/0', 1],
      ['/s/1', 1],
      ['/n/199', 0],
    ])
    // With no row left unhit but the probe, a new path replaces a row with one hit, the first.
    top.hit('/n/199', 10)
    top.hit('/n/199', 10)
    top.stored('/late', 10)
    expect(hitsByPath(top)).toEqual([
      ['/n/199', 2],
      ['/s/0', 1],
      ['/s/1', 1],
      ['/late', 0],
    ])
  })

  test('a long tail of paths hit once keeps the busy paths and the latest tail path', () => {
    const top = new TopPaths(3)
    for (let i = 0; i < 5; i++) top.hit('/a', 1)
    for (let i = 0; i < 3; i++) top.hit('/b', 1)
    for (let i = 0; i < 100; i++) top.hit(`/tail/${i}`, 1)
    expect(hitsByPath(top)).toEqual([
      ['/a', 5],
      ['/b', 3],
      ['/tail/99', 1],
    ])
    // Once the newest row has more than one hit, the coldest is found by a scan: still not /a or /b.
    top.hit('/tail/99', 1)
    top.hit('/tail/100', 1)
    expect(hitsByPath(top)).toEqual([
      ['/a', 5],
      ['/b', 3],
      ['/tail/100', 1],
    ])
  })

  test('a tail path hit a second time is kept over the tail paths hit once after it', () => {
    const top = new TopPaths(4)
    for (let i = 0; i < 5; i++) top.hit('/a', 1)
    for (let i = 0; i < 3; i++) top.hit('/b', 1)
    for (let i = 0; i < 50; i++) top.hit(`/tail/${i}`, 1)
    top.hit('/tail/49', 1)
    for (let i = 50; i < 100; i++) top.hit(`/tail/${i}`, 1)
    top.stored('/stored', 7)
    expect(hitsByPath(top)).toEqual([
      ['/a', 5],
      ['/b', 3],
      ['/tail/49', 2],
      ['/stored', 0],
    ])
    expect(top.byBytes(1)).toEqual([{ path: '/stored', hits: 0, bytes: 7 }])
  })
})

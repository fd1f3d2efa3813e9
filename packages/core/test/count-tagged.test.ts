import { describe, expect, it } from 'vitest'
import { Cache, MemoryStore, TieredStore } from '../src/index.js'

describe('cache.countTagged(tags)', () => {
  it('counts the live entries under any of the tags, once each, and removes nothing', async () => {
    const cache = new Cache({ store: new MemoryStore() })
    await cache.set('a', 1, { tags: ['x'] })
    await cache.set('b', 2, { tags: ['x', 'y'] })
    await cache.set('c', 3, { tags: ['z'] })
    expect(await cache.countTagged(['x', 'y'])).toBe(2)
    expect(await cache.countTagged(['nothing'])).toBe(0)
    expect(await cache.countTagged([])).toBe(0)
    expect(await cache.get('a')).toBe(1)
    expect(await cache.invalidateTags(['x', 'y'])).toEqual({ status: 'applied', removed: 2 })
    expect(await cache.countTagged(['x'])).toBe(0)
  })

  it('skips entries already deleted', async () => {
    const cache = new Cache({ store: new MemoryStore() })
    await cache.set('a', 1, { tags: ['x'] })
    await cache.delete('a')
    expect(await cache.countTagged(['x'])).toBe(0)
  })

  it('asks L2 on a tiered store', async () => {
    const l2 = new MemoryStore()
    const cache = new Cache({ store: new TieredStore({ l1: new MemoryStore(), l2 }) })
    await cache.set('a', 1, { tags: ['x'] })
    expect(await cache.countTagged(['x'])).toBe(1)
  })

  it('resolves undefined when the store cannot count', async () => {
    const inner = new MemoryStore()
    const store = {
      ...Object.fromEntries(
        [
          'get',
          'set',
          'delete',
          'has',
          'invalidateTags',
          'deletePattern',
          'increment',
          'clear',
        ].map((m) => [
          m,
          (inner as unknown as Record<string, (...args: unknown[]) => unknown>)[m]!.bind(inner),
        ])
      ),
      name: 'plain',
    }
    const cache = new Cache({ store: store as never })
    expect(await cache.countTagged(['x'])).toBeUndefined()
  })

  it('rejects a non-array', async () => {
    const cache = new Cache()
    await expect(cache.countTagged('x' as never)).rejects.toThrow(/tags/)
  })
})

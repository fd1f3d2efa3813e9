import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { InvalidArgumentError } from '../src/errors.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { TieredStore } from '../src/stores/tiered-store.js'
import { ChaosStore } from './chaos-store.js'

describe('cache.addToBoundedSet(key, member, { max, ttl })', () => {
  it('admits members up to max, then only the ones already in', async () => {
    const cache = new Cache()
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        cache.addToBoundedSet('variants', `v${i}`, { max: 4, ttl: '1m' })
      )
    )
    expect(results.filter((result) => result?.added)).toHaveLength(4)
    expect(await cache.addToBoundedSet('variants', 'v0', { max: 4 })).toEqual({
      added: false,
      member: true,
      size: 4,
    })
    expect(await cache.addToBoundedSet('variants', 'v9', { max: 4 })).toEqual({
      added: false,
      member: false,
      size: 4,
    })
  })

  it('lets a member expire on its own and frees its place', async () => {
    let now = 0
    const cache = new Cache({ store: new MemoryStore({ clock: () => now }) })
    await cache.addToBoundedSet('s', 'old', { max: 1, ttl: '1s' })
    now = 999
    expect(await cache.addToBoundedSet('s', 'new', { max: 1, ttl: '1s' })).toEqual({
      added: false,
      member: false,
      size: 1,
    })
    now = 1001
    expect(await cache.addToBoundedSet('s', 'new', { max: 1, ttl: '1s' })).toEqual({
      added: true,
      member: true,
      size: 1,
    })
  })

  it('keeps sets of namespaces apart, and drops a set with its key', async () => {
    const cache = new Cache()
    await cache.namespace('a').addToBoundedSet('s', 'x', { max: 1 })
    expect(await cache.namespace('b').addToBoundedSet('s', 'y', { max: 1 })).toMatchObject({
      added: true,
    })
    expect(await cache.get('s')).toBeUndefined()
    expect(await cache.namespace('a').get('s')).toEqual(['x'])
    await cache.namespace('a').delete('s')
    expect(await cache.namespace('a').addToBoundedSet('s', 'y', { max: 1 })).toMatchObject({
      added: true,
    })
  })

  it('lets L2 decide on a tiered store, so two processes share one cap', async () => {
    const l2 = new MemoryStore()
    const a = new Cache({ store: new TieredStore({ l2 }) })
    const b = new Cache({ store: new TieredStore({ l2 }) })
    await a.addToBoundedSet('s', 'from-a', { max: 1 })
    expect(await b.addToBoundedSet('s', 'from-b', { max: 1 })).toEqual({
      added: false,
      member: false,
      size: 1,
    })
  })

  it('resolves undefined when the store cannot be reached or has no bounded sets', async () => {
    const chaos = new ChaosStore(new MemoryStore())
    expect(await new Cache({ store: chaos }).addToBoundedSet('s', 'm', { max: 1 })).toBeUndefined()
  })

  it('refuses bad arguments by name', async () => {
    const cache = new Cache()
    await expect(cache.addToBoundedSet('s', '', { max: 1 })).rejects.toThrow(/member/)
    await expect(cache.addToBoundedSet('s', 'm', { max: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError
    )
    await expect(cache.addToBoundedSet('s', 'm', { max: 1, ttl: 60 })).rejects.toThrow(
      /options\.ttl/
    )
    await expect(cache.addToBoundedSet('s', 'm', { max: 1, tll: '1m' } as never)).rejects.toThrow(
      /did you mean "ttl"/
    )
  })
})

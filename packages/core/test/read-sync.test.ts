import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { TieredStore } from '../src/stores/tiered-store.js'
import { ChaosStore } from './chaos-store.js'
import { InvalidArgumentError } from '../src/errors.js'

describe('Cache.readSync', () => {
  it('answers a memory store hit and a definite miss without I/O', async () => {
    const cache = new Cache()
    expect(cache.readSync('k')).toEqual({ value: undefined })
    await cache.set('k', Buffer.from('bytes'))
    const first = cache.readSync<Buffer>('k')
    expect(first?.value?.toString()).toBe('bytes')
    // The same stored bytes give the same view, so callers can memoise per stored value.
    expect(cache.readSync<Buffer>('k')?.value).toBe(first?.value)
    expect(await cache.get('k')).toBe(first?.value)
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 1 })
  })

  it('keeps the view on the stored bytes out of sight, and in a weak map for bytes that take no property', async () => {
    const store = new MemoryStore()
    const cache = new Cache({ store })
    await cache.set('k', Buffer.from('bytes'))
    const view = cache.readSync<Buffer>('k')?.value
    const stored = store.getSync('k') as Uint8Array
    // Not enumerable: a copy of the stored bytes' own properties takes none of it.
    expect(Object.getOwnPropertySymbols({ ...stored })).toEqual([])
    expect(Object.keys(stored)).toEqual(Object.keys(Buffer.from(stored)))
    expect(cache.readSync<Buffer>('k')?.value).toBe(view)

    // Bytes made non-extensible (a store's own choice) cannot carry it: the same view all the same.
    class SealedBytesStore extends MemoryStore {
      override getSync(key: string): Uint8Array | undefined {
        const bytes = super.getSync(key)
        return bytes === undefined ? undefined : Object.preventExtensions(bytes)
      }
    }
    const sealed = new Cache({ store: new SealedBytesStore() })
    await sealed.set('k', Buffer.from('bytes'))
    const sealedView = sealed.readSync<Buffer>('k')?.value
    expect(sealedView?.toString()).toBe('bytes')
    expect(sealed.readSync<Buffer>('k')?.value).toBe(sealedView)
    expect(await sealed.get<Buffer>('k')).toBe(sealedView)
  })

  it('keeps no view of bytes from a store without synchronous reads: each read decodes afresh', async () => {
    // Such a store (Redis) reads new bytes each time: a view of them would never be looked up
    // again, and holding it kept each read's value past the next minor collection.
    const cache = new Cache({ store: new ChaosStore(new MemoryStore()) })
    await cache.set('k', Buffer.from('bytes'))
    const first = await cache.get<Buffer>('k')
    expect(first?.toString()).toBe('bytes')
    const second = await cache.get<Buffer>('k')
    expect(second?.toString()).toBe('bytes')
    expect(second).not.toBe(first)
    expect((await cache.getWithMeta<Buffer>('k'))?.value).not.toBe(first)
  })

  it('says "ask get" for a store without synchronous reads', async () => {
    const cache = new Cache({ store: new ChaosStore(new MemoryStore()) })
    await cache.set('k', 1)
    expect(cache.readSync('k')).toBeUndefined()
  })

  it('says "ask get" on a tiered L1 miss, and answers an L1 copy', async () => {
    const l2 = new MemoryStore()
    const cache = new Cache({ store: new TieredStore({ l2 }) })
    await new Cache({ store: l2 }).set('far', 'only in L2')
    expect(cache.readSync('far')).toBeUndefined()
    expect(await cache.get('far')).toBe('only in L2')
    expect(cache.readSync('far')).toEqual({ value: 'only in L2' })
  })

  it('reads inside a namespace once its version is known', async () => {
    const cache = new Cache()
    const ns = cache.namespace('n')
    expect(ns.readSync('k')).toBeUndefined()
    await ns.set('k', 'v')
    expect(ns.readSync('k')).toEqual({ value: 'v' })
    await ns.invalidate()
    expect(ns.readSync('k')).toEqual({ value: undefined })
  })

  it('returns JSON values fresh each time, so a caller mutating one cannot corrupt the cache', async () => {
    const cache = new Cache()
    await cache.set('k', { n: 1 })
    const first = cache.readSync<{ n: number }>('k')?.value as { n: number }
    first.n = 99
    expect(cache.readSync('k')).toEqual({ value: { n: 1 } })
  })

  it('lets await cache.get answer a memory hit at once, counted, emitted and rejecting bad input as before', async () => {
    const cache = new Cache()
    const heard: string[] = []
    cache
      .on('hit', ({ key }) => heard.push(`hit ${key}`))
      .on('miss', ({ key }) => heard.push(`miss ${key}`))
    await cache.set('k', { n: 1 })
    expect(await cache.get('k')).toEqual({ n: 1 })
    expect(await cache.get('absent')).toBeUndefined()
    expect(heard).toEqual(['hit k', 'miss absent'])
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 })
    // A bad key is a rejection, never a synchronous throw.
    const bad = cache.get('')
    expect(bad).toBeInstanceOf(Promise)
    await expect(bad).rejects.toThrow(InvalidArgumentError)
    await expect(cache.get('k', { strict: 'yes' as unknown as boolean })).rejects.toThrow(
      InvalidArgumentError
    )
  })
})

describe('Cache.retain', () => {
  it("charges the store for memory kept per value read, under the view's store key", async () => {
    const store = new MemoryStore()
    const cache = new Cache({ store }).namespace('pages')
    await cache.set('k', Buffer.from('bytes'))
    const before = store.size().bytes
    const value = cache.readSync<Buffer>('k')?.value
    cache.retain('k', value, 2_000)
    expect(store.size().bytes).toBe(before + 2_000)
    // The charge goes with the value: one written over it starts uncharged.
    await cache.set('k', Buffer.from('other'))
    expect(store.size().bytes).toBe(before)
  })

  it('leaves alone a value that is not what the store holds, or one decoded afresh', async () => {
    const store = new MemoryStore()
    const cache = new Cache({ store })
    await cache.set('bytes', Buffer.from('bytes'))
    await cache.set('object', { id: 1 })
    const before = store.size().bytes
    cache.retain('bytes', Buffer.from('bytes'), 2_000)
    cache.retain('object', cache.readSync('object')?.value, 2_000)
    cache.retain('absent', undefined, 2_000)
    expect(store.size().bytes).toBe(before)
  })

  it("charges a tiered store's L1, and does nothing on a store without it", async () => {
    const l1 = new MemoryStore()
    const cache = new Cache({ store: new TieredStore({ l1, l2: new MemoryStore() }) })
    await cache.set('k', Buffer.from('bytes'))
    const before = l1.size().bytes
    cache.retain('k', cache.readSync<Buffer>('k')?.value, 1_000)
    expect(l1.size().bytes).toBe(before + 1_000)
    const remote = new Cache({ store: new ChaosStore(new MemoryStore()) })
    await remote.set('k', Buffer.from('bytes'))
    expect(() => remote.retain('k', Buffer.from('bytes'), 1_000)).not.toThrow()
  })

  it('rejects a figure that is not a non-negative integer', () => {
    const cache = new Cache()
    expect(() => cache.retain('k', undefined, -1)).toThrow(InvalidArgumentError)
    expect(() => cache.retain('k', undefined, 1.5)).toThrow(InvalidArgumentError)
    expect(() => cache.retain('', undefined, 1)).toThrow()
  })
})

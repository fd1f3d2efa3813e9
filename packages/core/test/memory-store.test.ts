import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defineStoreContract } from '../src/testing.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { InvalidOptionError } from '../src/errors.js'

defineStoreContract({
  name: 'MemoryStore',
  create: () => new MemoryStore(),
  runner: { describe, it, beforeEach, afterEach },
  capabilities: {
    conditionalSet: true,
    rateWindows: true,
    ttl: true,
    measure: true,
    entryAges: true,
  },
})

describe('MemoryStore', () => {
  describe('when total bytes exceed maxBytes', () => {
    it('evicts the least recently used entries and stays within the bound', async () => {
      const store = new MemoryStore({ maxBytes: 10_000, maxEntryBytes: 2_000 })
      for (let i = 0; i < 100; i++) await store.set(`k${i}`, Buffer.alloc(500), { ttlMs: 60_000 })
      const size = store.size()
      expect(size.bytes).toBeLessThanOrEqual(10_000)
      expect(size.entries).toBeLessThan(100)
      expect(await store.get('k99')).toBeDefined()
      expect(await store.get('k0')).toBeUndefined()
    })
  })

  describe('when one value is larger than maxEntryBytes', () => {
    it('does not store it and keeps the previous value out too', async () => {
      const store = new MemoryStore({ maxBytes: 10_000, maxEntryBytes: 1_000 })
      await store.set('big', Buffer.alloc(10), { ttlMs: 60_000, tags: ['t'] })
      await store.set('big', Buffer.alloc(5_000), { ttlMs: 60_000, tags: ['t'] })
      expect(await store.get('big')).toBeUndefined()
      expect(await store.invalidateTags(['t'])).toBe(0)
    })
  })

  describe('when maxEntries is set', () => {
    it('caps the entry count as well as the bytes', async () => {
      const store = new MemoryStore({ maxEntries: 3 })
      for (let i = 0; i < 5; i++) await store.set(`k${i}`, Buffer.from('x'), { ttlMs: 60_000 })
      expect(store.size().entries).toBe(3)
    })
  })

  describe('when an evicted entry had tags', () => {
    it('drops it from the tag index, so the index stays bounded', async () => {
      const store = new MemoryStore({ maxBytes: 2_000, maxEntryBytes: 1_000 })
      for (let i = 0; i < 50; i++)
        await store.set(`k${i}`, Buffer.alloc(100), { ttlMs: 60_000, tags: ['all'] })
      const live = store.size().entries
      expect(await store.invalidateTags(['all'])).toBe(live)
    })
  })

  describe('when a reader retains memory for a value it read', () => {
    const ttlMs = 60_000

    it('charges the entry, once: a larger figure replaces a smaller one', async () => {
      const store = new MemoryStore()
      await store.set('k', Buffer.from('value'), { ttlMs, tags: ['t'] })
      const before = store.size().bytes
      const value = store.getSync('k') as Uint8Array
      store.retain('k', value, 1_000)
      expect(store.size().bytes).toBe(before + 1_000)
      store.retain('k', value, 400)
      store.retain('k', value, 1_000)
      expect(store.size().bytes).toBe(before + 1_000)
      store.retain('k', value, 1_500)
      expect(store.size().bytes).toBe(before + 1_500)
    })

    it('keeps the value, its lifetime and its tags', async () => {
      const store = new MemoryStore()
      await store.set('k', Buffer.from('value'), { ttlMs, tags: ['t'] })
      const ttlBefore = (await store.ttl('k')) as number
      const value = store.getSync('k') as Uint8Array
      store.retain('k', value, 2_000)
      expect(store.getSync('k')).toBe(value)
      expect(Buffer.from(value).toString()).toBe('value')
      expect(await store.ttl('k')).toBeLessThanOrEqual(ttlBefore)
      expect(await store.invalidateTags(['t'])).toBe(1)
      expect(store.size()).toMatchObject({ entries: 0, bytes: 0 })
    })

    it('ignores a key that holds another value now, or nothing', async () => {
      const store = new MemoryStore()
      await store.set('k', Buffer.from('one'), { ttlMs })
      const old = store.getSync('k') as Uint8Array
      await store.set('k', Buffer.from('two'), { ttlMs })
      const before = store.size().bytes
      store.retain('k', old, 1_000)
      store.retain('absent', old, 1_000)
      expect(store.size().bytes).toBe(before)
    })

    it('makes room by evicting the least recently used entries', async () => {
      const store = new MemoryStore({ maxBytes: 10_000, maxEntryBytes: 5_000 })
      for (let i = 0; i < 16; i++) await store.set(`k${i}`, Buffer.alloc(200), { ttlMs })
      const entries = store.size().entries
      store.retain('k15', store.getSync('k15') as Uint8Array, 3_000)
      expect(store.size().bytes).toBeLessThanOrEqual(10_000)
      expect(store.size().entries).toBeLessThan(entries)
      expect(store.getSync('k15')).toBeDefined()
      expect(store.getSync('k0')).toBeUndefined()
    })

    it('leaves the charge out rather than drop an entry past maxEntryBytes', async () => {
      const store = new MemoryStore({ maxBytes: 10_000, maxEntryBytes: 1_000 })
      await store.set('k', Buffer.alloc(200), { ttlMs })
      const before = store.size().bytes
      store.retain('k', store.getSync('k') as Uint8Array, 5_000)
      expect(store.getSync('k')).toBeDefined()
      expect(store.size().bytes).toBe(before)
    })

    it('keeps a charged value readable when slabs are compacted around it', async () => {
      const store = new MemoryStore({ maxBytes: 64 * 1024 * 1024 })
      const text = (i: number): string => `value ${i} `.padEnd(1_000, '.')
      for (let i = 0; i < 2_000; i++) await store.set(`k${i}`, Buffer.from(text(i)), { ttlMs })
      for (let i = 0; i < 2_000; i += 10)
        store.retain(`k${i}`, store.getSync(`k${i}`) as Uint8Array, 1_000)
      // Most values deleted: their slabs turn sparse and are compacted by the writes that follow.
      for (let i = 0; i < 2_000; i++) if (i % 10 !== 0) await store.delete(`k${i}`)
      for (let i = 0; i < 2_000; i++) await store.set(`n${i}`, Buffer.from(text(i)), { ttlMs })
      for (let i = 0; i < 2_000; i += 10)
        expect(Buffer.from(store.getSync(`k${i}`) as Uint8Array).toString()).toBe(text(i))
      expect(store.size().entries).toBe(2_200)
    })
  })

  describe('when a tag names one key, then more', () => {
    it('purges every key it named, and a key written again under other tags leaves it', async () => {
      const store = new MemoryStore()
      await store.set('a', Buffer.from('1'), { ttlMs: 60_000, tags: ['t', 'only-a'] })
      await store.set('b', Buffer.from('2'), { ttlMs: 60_000, tags: ['t'] })
      await store.set('c', Buffer.from('3'), { ttlMs: 60_000, tags: ['t'] })
      await store.set('c', Buffer.from('4'), { ttlMs: 60_000, tags: ['other'] })
      expect(await store.invalidateTagsReturningKeys(['only-a'])).toEqual(['a'])
      expect(await store.invalidateTagsReturningKeys(['t'])).toEqual(['b'])
      expect(await store.get('c')).toBeDefined()
      expect(await store.invalidateTagsReturningKeys(['other'])).toEqual(['c'])
    })
  })

  describe('when small values are packed into shared slabs', () => {
    it('keeps a copy, so the caller may reuse its buffer', async () => {
      const store = new MemoryStore()
      const buffer = Buffer.from('first')
      await store.set('k', buffer, { ttlMs: 60_000 })
      buffer.write('other')
      expect(Buffer.from((await store.get('k')) as Uint8Array).toString()).toBe('first')
    })

    it('keeps every live value intact when a slab left mostly empty is compacted', async () => {
      const store = new MemoryStore()
      const hot = Buffer.alloc(100, 7)
      await store.set('hot', hot, { ttlMs: 60_000, tags: ['hot'] })
      // Fill several slabs behind it, then empty them: the next writes compact them.
      for (let i = 0; i < 10_000; i++)
        await store.set(`cold:${i}`, Buffer.alloc(100, i % 250), { ttlMs: 60_000 })
      for (let i = 0; i < 10_000; i++) if (i % 10 !== 0) await store.delete(`cold:${i}`)
      for (let i = 0; i < 3_000; i++)
        await store.set(`next:${i}`, Buffer.alloc(100, 3), { ttlMs: 60_000 })
      expect(await store.get('hot')).toEqual(hot)
      for (let i = 0; i < 10_000; i += 10)
        expect(await store.get(`cold:${i}`)).toEqual(Buffer.alloc(100, i % 250))
      expect(await store.invalidateTags(['hot'])).toBe(1)
    })

    it('never rewrites the bytes of a value a reader was given, after the entry is gone', async () => {
      const store = new MemoryStore({ maxBytes: 4 * 1024 * 1024 })
      for (let i = 0; i < 100; i++)
        await store.set(`read:${i}`, Buffer.alloc(100, i), { ttlMs: 60_000 })
      const held = (await store.get('read:7')) as Uint8Array
      const heldWithTtl = (await store.getWithTtl('read:8'))?.value as Uint8Array
      // Empty their slab and write many slabs' worth after it: emptied slabs nobody read are reused.
      for (let i = 0; i < 100; i++) await store.delete(`read:${i}`)
      for (let round = 0; round < 3; round++)
        for (let i = 0; i < 20_000; i++)
          await store.set(`churn:${i}`, Buffer.alloc(100, 0xee), { ttlMs: 60_000 })
      expect(held).toEqual(Buffer.alloc(100, 7))
      expect(heldWithTtl).toEqual(Buffer.alloc(100, 8))
    })

    it('keeps every value intact while slabs nobody read are emptied and written again', async () => {
      const store = new MemoryStore({ maxBytes: 2 * 1024 * 1024 })
      const valueOf = (i: number): Buffer => Buffer.alloc(64 + (i % 50), i % 251)
      // Far more than the store holds: the oldest are evicted, their slabs empty and are reused.
      for (let i = 0; i < 60_000; i++) await store.set(`k:${i}`, valueOf(i), { ttlMs: 60_000 })
      const held = store.size().entries
      expect(held).toBeGreaterThan(1_000)
      const damaged: number[] = []
      for (let i = 60_000 - held; i < 60_000; i++)
        if (!Buffer.from(store.getSync(`k:${i}`) ?? []).equals(valueOf(i))) damaged.push(i)
      expect(damaged).toEqual([])
      expect(await store.increment('counter', 2, 60_000)).toBe(2)
      expect(await store.increment('counter', 3, 60_000)).toBe(5)
    })
  })

  describe('with an injected clock', () => {
    it('expires entries when the clock passes their TTL', async () => {
      let now = 1_000
      const store = new MemoryStore({ clock: () => now })
      await store.set('k', Buffer.from('x'), { ttlMs: 100 })
      now += 99
      expect(await store.get('k')).toBeDefined()
      now += 2
      expect(await store.get('k')).toBeUndefined()
    })
  })

  describe('options', () => {
    it.each([
      [{ maxBytes: 0 }, 'maxBytes'],
      [{ maxBytes: -1 }, 'maxBytes'],
      [{ maxBytes: 100, maxEntryBytes: 200 }, 'maxEntryBytes'],
      [{ maxEntries: 1.5 }, 'maxEntries'],
      [{ clock: 5 as unknown as () => number }, 'clock'],
    ])('rejects %j naming %s', (options, option) => {
      const build = (): MemoryStore => new MemoryStore(options)
      expect(build).toThrow(InvalidOptionError)
      try {
        build()
      } catch (error) {
        expect((error as InvalidOptionError).option).toBe(option)
      }
    })
  })
})

import { describe, expect, it } from 'vitest'
import { SLAB_BYTES, Slabs, type SlabHolder } from '../src/stores/memory-slabs.js'

const VALUE_BYTES = 100

function holderFor(): SlabHolder {
  return { value: undefined, slab: undefined, offset: 0, length: VALUE_BYTES }
}

/** Places `value` under `key` the way MemoryStore does, then lets the slabs compact one. */
function write(slabs: Slabs, held: Map<string, SlabHolder>, key: string, fill: number): void {
  const holder = { ...holderFor(), value: Buffer.alloc(VALUE_BYTES, fill) }
  slabs.place(key, holder.value, holder)
  held.set(key, holder)
  slabs.compact((name) => held.get(name))
}

function remove(slabs: Slabs, held: Map<string, SlabHolder>, key: string): void {
  const holder = held.get(key)
  if (holder === undefined) return
  slabs.release(holder)
  held.delete(key)
}

describe('Slabs', () => {
  describe('when values leave oldest first (an LRU of distinct keys)', () => {
    it('moves no value and holds the live bytes plus at most two slabs', () => {
      const slabs = new Slabs(64 * 1024 * 1024)
      const held = new Map<string, SlabHolder>()
      const liveCount = 20_000
      const places = new Map<string, { slab: unknown; offset: number }>()
      for (let i = 0; i < 100_000; i++) {
        write(slabs, held, `k:${i}`, i % 251)
        places.set(`k:${i}`, { slab: held.get(`k:${i}`)?.slab, offset: held.get(`k:${i}`)!.offset })
        if (i >= liveCount) {
          remove(slabs, held, `k:${i - liveCount}`)
          places.delete(`k:${i - liveCount}`)
        }
      }
      const moved = [...held].filter(
        ([key, holder]) =>
          holder.slab !== places.get(key)?.slab || holder.offset !== places.get(key)?.offset
      )
      expect(moved.map(([key]) => key)).toEqual([])
      expect(slabs.liveBytes).toBe(liveCount * VALUE_BYTES)
      expect(slabs.heldBytes).toBeLessThanOrEqual(slabs.liveBytes + 2 * SLAB_BYTES)
    })
  })

  describe('when a few long-lived values are scattered over many slabs', () => {
    it('compacts until dead space is at most a quarter of the live bytes, keeping every value', () => {
      const slabs = new Slabs(64 * 1024 * 1024)
      const held = new Map<string, SlabHolder>()
      for (let i = 0; i < 50_000; i++) write(slabs, held, `old:${i}`, i % 251)
      for (let i = 0; i < 50_000; i++) if (i % 20 !== 0) remove(slabs, held, `old:${i}`)
      const pinned = slabs.heldBytes
      expect(pinned).toBeGreaterThan(4 * slabs.liveBytes)
      // Each write compacts at most one slab; a few thousand writes are enough for all of them.
      for (let i = 0; i < 5_000; i++) write(slabs, held, `new:${i}`, 7)
      expect(slabs.heldBytes).toBeLessThan(pinned / 2)
      expect(slabs.heldBytes - slabs.liveBytes).toBeLessThanOrEqual(
        Math.max(2 * SLAB_BYTES, slabs.liveBytes / 4) + SLAB_BYTES
      )
      const damaged: number[] = []
      for (let i = 0; i < 50_000; i += 20)
        if (
          !Buffer.from(Slabs.peek(held.get(`old:${i}`)!)).equals(Buffer.alloc(VALUE_BYTES, i % 251))
        )
          damaged.push(i)
      expect(damaged).toEqual([])
    })
  })
})

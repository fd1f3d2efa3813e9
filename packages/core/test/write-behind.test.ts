import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { WriteBehind, type PendingWrite } from '../src/patterns/write-behind.js'
import { ClosedError, InvalidOptionError, QueueFullError } from '../src/errors.js'

type Batch = ReadonlyArray<PendingWrite<number>>

function recorder(): {
  batches: Batch[]
  persist: (batch: Batch) => Promise<void>
  latest: Map<string, number>
} {
  const batches: Batch[] = []
  const latest = new Map<string, number>()
  return {
    batches,
    latest,
    persist: async (batch) => {
      batches.push(batch)
      for (const write of batch) latest.set(write.key, write.value)
    },
  }
}

const base = { flushInterval: '60s', flushOnSignals: false, spillFile: false } as const

describe('WriteBehind', () => {
  it('updates the cache at once, before anything is persisted', async () => {
    const cache = new Cache()
    const { batches, persist } = recorder()
    const writer = new WriteBehind(cache, { ...base, persist })
    await writer.write('k', 1)
    expect(await cache.get('k')).toBe(1)
    expect(batches.length).toBe(0)
    await writer.close()
    expect(batches.length).toBe(1)
  })

  it('coalesces writes to one key into its latest value', async () => {
    const cache = new Cache()
    const { batches, persist } = recorder()
    const writer = new WriteBehind(cache, { ...base, persist })
    for (let i = 0; i < 10; i++) await writer.write('k', i)
    await writer.flush()
    expect(batches.flat()).toHaveLength(1)
    expect(batches[0]?.[0]?.value).toBe(9)
    await writer.close()
  })

  it('persists in batches of batchSize', async () => {
    const cache = new Cache()
    const { batches, persist } = recorder()
    const writer = new WriteBehind(cache, { ...base, persist, batchSize: 10 })
    for (let i = 0; i < 35; i++) await writer.write(`k${i}`, i)
    await writer.close()
    expect(batches.map((b) => b.length)).toEqual([10, 10, 10, 5])
  })

  it('flushes on its interval', async () => {
    const cache = new Cache()
    const { batches, persist } = recorder()
    const writer = new WriteBehind(cache, {
      persist,
      flushInterval: '10ms',
      flushOnSignals: false,
      spillFile: false,
    })
    await writer.write('k', 1)
    await new Promise((resolve) => setTimeout(resolve, 40))
    expect(batches.length).toBe(1)
    await writer.close()
  })

  it('retries a failed batch with backoff and counts the retries', async () => {
    const cache = new Cache()
    let failures = 2
    const persisted: number[] = []
    const writer = new WriteBehind<number>(cache, {
      ...base,
      retry: { attempts: 5, baseDelay: '1ms' },
      persist: async (batch) => {
        if (failures-- > 0) throw new Error('db busy')
        persisted.push(...batch.map((w) => w.value))
      },
    })
    await writer.write('k', 1)
    await writer.close()
    expect(persisted).toEqual([1])
    expect(writer.stats()).toMatchObject({ retried: 2, persisted: 1, failed: 0 })
  })

  it('keeps writes that fail every retry, counts them and emits failed', async () => {
    const cache = new Cache()
    const writer = new WriteBehind<number>(cache, {
      ...base,
      retry: { attempts: 2, baseDelay: '1ms' },
      persist: async () => Promise.reject(new Error('db gone')),
    })
    const failed: Batch[] = []
    writer.on('failed', (batch) => failed.push(batch))
    await writer.write('a', 1)
    await writer.write('b', 2)
    await writer.close()
    expect(writer.stats()).toMatchObject({ failed: 2, persisted: 0, queued: 0 })
    expect(writer.failedWrites().map((w) => w.key)).toEqual(['a', 'b'])
    expect(failed).toHaveLength(1)
  })

  it('never retries an older value over a newer queued one', async () => {
    const cache = new Cache()
    const applied: number[] = []
    let first = true
    const writer = new WriteBehind<number>(cache, {
      ...base,
      retry: { attempts: 3, baseDelay: '20ms' },
      persist: async (batch) => {
        if (first) {
          first = false
          throw new Error('transient')
        }
        applied.push(...batch.map((w) => w.value))
      },
    })
    await writer.write('k', 1)
    const flushing = writer.flush()
    await new Promise((resolve) => setTimeout(resolve, 5))
    await writer.write('k', 2)
    await flushing
    await writer.close()
    expect(applied).toEqual([2])
  })

  describe('when the queue is full', () => {
    it("rejects with QueueFullError under onFull: 'reject'", async () => {
      const cache = new Cache()
      const writer = new WriteBehind<number>(cache, {
        ...base,
        persist: async () => {},
        maxQueue: 2,
        onFull: 'reject',
      })
      await writer.write('a', 1)
      await writer.write('b', 2)
      await writer.write('a', 3)
      await expect(writer.write('c', 4)).rejects.toBeInstanceOf(QueueFullError)
      expect(await cache.get('c')).toBeUndefined()
      await writer.close()
    })

    it("persists the write itself under onFull: 'write-through'", async () => {
      const cache = new Cache()
      const { latest, persist } = recorder()
      const writer = new WriteBehind<number>(cache, { ...base, persist, maxQueue: 1 })
      await writer.write('a', 1)
      await writer.write('b', 2)
      expect(latest.get('b')).toBe(2)
      expect(await cache.get('b')).toBe(2)
      expect(writer.stats().writtenThrough).toBe(1)
      await writer.close()
      expect(latest.get('a')).toBe(1)
    })
  })

  it('rejects writes after close', async () => {
    const writer = new WriteBehind(new Cache(), { ...base, persist: async () => {} })
    await writer.close()
    await expect(writer.write('k', 1)).rejects.toBeInstanceOf(ClosedError)
  })

  it('validates its options by name', () => {
    const cache = new Cache()
    expect(() => new WriteBehind(cache, {} as never)).toThrow(/options\.persist/)
    expect(() => new WriteBehind(cache, { persist: async () => {}, batchSize: 0 })).toThrow(
      InvalidOptionError
    )
    expect(
      () => new WriteBehind(cache, { persist: async () => {}, onFull: 'drop' as never })
    ).toThrow(/options\.onFull/)
  })
})

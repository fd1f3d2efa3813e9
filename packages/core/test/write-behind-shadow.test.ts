import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { ChaosStore } from './chaos-store.js'
import type { PendingWrite } from '../src/patterns/write-behind.js'

/** A source of truth whose writes wait until the test lets them through. */
function gatedSource(): {
  rows: Map<string, string>
  persist: (batch: ReadonlyArray<PendingWrite<string>>) => Promise<void>
  open: () => void
} {
  const rows = new Map([['user:1', 'old row']])
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => (open = resolve))
  return {
    rows,
    persist: async (batch) => {
      await gate
      for (const { key, value } of batch) rows.set(key, value)
    },
    open: () => open(),
  }
}

describe('write-behind ordering: a pending write shadows the cache until persisted', () => {
  it('a cache-aside reader never re-caches the old row while the write is pending, even when the cache write failed', async () => {
    const store = new ChaosStore(new MemoryStore())
    const cache = new Cache({ store, breaker: false })
    const source = gatedSource()
    const writer = cache.writeBehind<string>({
      persist: source.persist,
      flushInterval: 20,
      flushOnSignals: false,
    })
    store.failing = true
    await writer.write('user:1', 'new row') // acknowledged; the cache write failed
    store.failing = false
    const load = async (): Promise<string> => source.rows.get('user:1') as string
    expect(await cache.wrap('user:1', load, { ttl: '1m' })).toBe('new row')
    expect(await cache.get('user:1')).toBe('new row')
    expect(await store.inner.get('user:1')).toBeUndefined()
    source.open()
    await writer.flush()
    // Persisted: the shadow is gone, and the writer wrote the value the first cache write lost.
    expect(source.rows.get('user:1')).toBe('new row')
    expect(await cache.get('user:1')).toBe('new row')
    expect(await store.inner.get('user:1')).toBeDefined()
    await writer.close()
  })

  it('a fill that read the old row before the write does not overwrite the pending value', async () => {
    const cache = new Cache()
    const source = gatedSource()
    const writer = cache.writeBehind<string>({
      persist: source.persist,
      flushInterval: 20,
      flushOnSignals: false,
    })
    let release: () => void = () => {}
    const slowRead = cache.wrap('user:1', async () => {
      const row = source.rows.get('user:1') as string // the old row, read before the write
      await new Promise<void>((resolve) => (release = resolve))
      return row
    })
    await new Promise((resolve) => setTimeout(resolve, 5))
    await writer.write('user:1', 'new row')
    release()
    expect(await slowRead).toBe('old row') // that caller asked before the write
    expect(await cache.get('user:1')).toBe('new row')
    source.open()
    await writer.close()
    expect(await cache.get('user:1')).toBe('new row')
  })

  it('shadows per namespace view', async () => {
    const cache = new Cache()
    const users = cache.namespace('users')
    const source = gatedSource()
    const writer = users.writeBehind<string>({ persist: source.persist, flushOnSignals: false })
    await writer.write('1', 'v')
    await users.delete('1')
    expect(await users.get('1')).toBe('v')
    expect(await cache.get('1')).toBeUndefined()
    source.open()
    await writer.close()
  })
})

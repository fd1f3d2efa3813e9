import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { warmEvery, type WarmProgress } from '../src/patterns/warm.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('warm', () => {
  it('loads every entry at most `concurrency` at a time, with progress events', async () => {
    const cache = new Cache()
    let running = 0
    let most = 0
    const entries = Array.from({ length: 20 }, (_, i) => ({
      key: `k${i}`,
      load: async () => {
        most = Math.max(most, ++running)
        await sleep(2)
        running--
        return i
      },
    }))
    const run = cache.warm(entries, { concurrency: 3 })
    const seen: WarmProgress[] = []
    run.on('progress', (progress) => seen.push(progress))
    const result = await run.result
    expect(result).toMatchObject({ done: 20, loaded: 20, skipped: 0, failed: 0, total: 20 })
    expect(most).toBe(3)
    expect(seen.map((p) => p.done)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(await cache.get('k7')).toBe(7)
  })

  it('skips keys already cached unless overwrite, and counts failures without throwing', async () => {
    const cache = new Cache()
    await cache.set('there', 'old')
    const failures: string[] = []
    const run = cache.warm([
      { key: 'there', load: () => 'new' },
      {
        key: 'broken',
        load: () => {
          throw new Error('source down')
        },
      },
    ])
    run.on('failed', ({ key }) => failures.push(key))
    expect(await run.result).toMatchObject({ loaded: 0, skipped: 1, failed: 1 })
    expect(failures).toEqual(['broken'])
    expect(await cache.get('there')).toBe('old')
    await cache.warm([{ key: 'there', load: () => 'new' }], { overwrite: true }).result
    expect(await cache.get('there')).toBe('new')
  })

  it('bounds the rate: perSecond spaces the loads', async () => {
    const cache = new Cache()
    const started: number[] = []
    const entries = Array.from({ length: 5 }, (_, i) => ({
      key: `r${i}`,
      load: () => (started.push(performance.now()), i),
    }))
    const before = performance.now()
    await cache.warm(entries, { concurrency: 5, perSecond: 50 }).result
    // 5 loads at 50 per second: the last starts at least 4 intervals (80 ms) after the run began,
    // less Node's whole-millisecond timer rounding. Measured from the run, not from the first
    // load: on a loaded machine the first load can itself start late, after its slot.
    expect(started).toHaveLength(5)
    expect((started[4] as number) - before).toBeGreaterThanOrEqual(75)
  })

  it('reads an async source one entry at a time', async () => {
    const cache = new Cache()
    async function* source() {
      for (let i = 0; i < 3; i++) yield { key: `a${i}`, load: () => i }
    }
    expect(await cache.warm(source()).result).toMatchObject({ loaded: 3, total: undefined })
  })

  it('warms on a schedule, never overlapping, until stopped', async () => {
    const cache = new Cache()
    let runs = 0
    const schedule = warmEvery(cache, () => (runs++, [{ key: 'config', load: () => runs }]), {
      every: 20,
      overwrite: true,
    })
    await sleep(120)
    await schedule.stop()
    const after = runs
    expect(after).toBeGreaterThanOrEqual(2)
    await sleep(50)
    expect(runs).toBe(after)
    expect(await cache.get('config')).toBe(after)
  })

  it('refuses bad options', () => {
    const cache = new Cache()
    expect(() => cache.warm([], { concurrency: 0 })).toThrow(/options\.concurrency/)
    expect(() => cache.warm([], { perSecond: -1 })).toThrow(/options\.perSecond/)
    expect(() => cache.warm(42 as never)).toThrow(/entries/)
  })
})

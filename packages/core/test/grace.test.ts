import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { InvalidOptionError } from '../src/errors.js'

function drivenCache(): { cache: Cache; clock: { now: number }; errors: Error[] } {
  const clock = { now: 1_000_000 }
  const cache = new Cache({
    store: new MemoryStore({ clock: () => clock.now }),
    clock: () => clock.now,
  })
  const errors: Error[] = []
  cache.on('error', (error) => errors.push(error))
  return { cache, clock, errors }
}

const never = (): Promise<number> => new Promise(() => {})
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
/** Lets the first fill land: until it does, a caller joins that fill's flight (and its value). */
const landed = (): Promise<void> => sleep(2)

describe('wrap with grace and timeout', () => {
  it('serves the stale value at once while one refresh runs, then the fresh one', async () => {
    const { cache, clock } = drivenCache()
    const options = { ttl: '10s', grace: '1m' } as const
    await cache.wrap('k', async () => 1, options)
    await landed()
    clock.now += 11_000
    let refreshes = 0
    let finish: (value: number) => void = () => {}
    const slow = (): Promise<number> => (
      refreshes++,
      new Promise<number>((resolve) => (finish = resolve))
    )
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => cache.wrap('k', slow, options))
    )
    expect(answers).toEqual([1, 1, 1, 1, 1])
    expect(await cache.wrap('k', slow, options)).toBe(1)
    expect(refreshes).toBe(1)
    expect(cache.stats().stale).toBeGreaterThanOrEqual(2)
    finish(2)
    await sleep(5)
    expect(await cache.wrap('k', slow, options)).toBe(2)
    expect(await cache.get('k')).toBe(2)
  })

  it('serves stale when the loader fails, and reports the error', async () => {
    const { cache, clock, errors } = drivenCache()
    await cache.wrap('k', async () => 'old', { ttl: '10s', grace: '1m' })
    await landed()
    clock.now += 20_000
    expect(
      await cache.wrap(
        'k',
        async () => {
          throw new Error('db down')
        },
        { ttl: '10s', grace: '1m', timeout: '1s' }
      )
    ).toBe('old')
    expect(errors.map((e) => e.message)).toContain('db down')
  })

  it('waits at most `timeout` for the refresh before serving stale; the refresh still lands', async () => {
    const { cache, clock } = drivenCache()
    await cache.wrap('k', async () => 'old', { ttl: '10s', grace: '1m' })
    await landed()
    clock.now += 20_000
    let finish: (value: string) => void = () => {}
    const started = performance.now()
    const answer = await cache.wrap(
      'k',
      () => new Promise<string>((resolve) => (finish = resolve)),
      { ttl: '10s', grace: '1m', timeout: 30 }
    )
    expect(answer).toBe('old')
    expect(performance.now() - started).toBeGreaterThanOrEqual(25)
    finish('new')
    await sleep(5)
    expect(await cache.get('k')).toBe('new')
  })

  it('takes a refresh that ends within `timeout`', async () => {
    const { cache, clock } = drivenCache()
    await cache.wrap('k', async () => 'old', { ttl: '10s', grace: '1m' })
    await landed()
    clock.now += 20_000
    expect(
      await cache.wrap('k', async () => 'new', { ttl: '10s', grace: '1m', timeout: '5s' })
    ).toBe('new')
  })

  it('caps stale serving at ttl + grace: past it, callers wait for the loader as on a cold miss', async () => {
    const { cache, clock } = drivenCache()
    await cache.wrap('k', async () => 'old', { ttl: '10s', grace: '30s' })
    await landed()
    clock.now += 41_000
    expect(await cache.getWithMeta('k')).toBeUndefined()
    await expect(
      cache.wrap(
        'k',
        async () => {
          throw new Error('db down')
        },
        { ttl: '10s', grace: '30s' }
      )
    ).rejects.toThrow('db down')
    const pending = cache.wrap('k', never, { ttl: '10s', grace: '30s', timeout: 10 })
    expect(await Promise.race([pending, sleep(50).then(() => 'still waiting')])).toBe(
      'still waiting'
    )
  })

  it('hides a stale value from get, and marks it in getWithMeta', async () => {
    const { cache, clock } = drivenCache()
    await cache.wrap('k', async () => 'v', { ttl: '10s', grace: '1m' })
    expect(await cache.getWithMeta('k')).toMatchObject({
      value: 'v',
      stale: false,
      expiresAt: clock.now + 10_000,
    })
    clock.now += 10_001
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.getWithMeta('k')).toMatchObject({ value: 'v', stale: true })
  })

  it('refuses a timeout without grace, and a bare grace number that reads as seconds', async () => {
    const { cache } = drivenCache()
    await expect(cache.wrap('k', async () => 1, { timeout: '1s' })).rejects.toBeInstanceOf(
      InvalidOptionError
    )
    await expect(cache.wrap('k', async () => 1, { grace: 60 })).rejects.toThrow(/options\.grace/)
  })
})

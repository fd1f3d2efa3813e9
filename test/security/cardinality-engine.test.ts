/**
 * The cardinality guard against a flood too large for HTTP in a test run: a million distinct
 * cache-busting URLs straight through the engine (the adapters add nothing to this decision), and
 * a path-busting flood. Entries must stay at the limit and every refused request be counted.
 */
import { Cache, MemoryStore } from '@cachewire/core'
import { createHttpCache, type CapturedResponse, type HttpRequest } from '@cachewire/http'
import { describe, expect, it } from 'vitest'

describe('cardinality guard through the engine (no HTTP), memory store', () => {
  const ok: CapturedResponse = {
    status: 200,
    headers: [
      ['content-type', 'text/plain'],
      ['cache-control', 'public, max-age=300'],
    ],
    body: Buffer.from('x'),
    complete: true,
  }
  const runHandler = (): Promise<CapturedResponse> => Promise.resolve(ok)

  async function drive(
    engine: ReturnType<typeof createHttpCache>,
    count: number,
    url: (i: number) => string
  ): Promise<void> {
    const request: HttpRequest = {
      method: 'GET',
      url: '',
      host: 'example.com',
      protocol: 'https',
      headers: {},
    }
    for (let i = 0; i < count; i++) {
      const outcome = await engine.respond({ ...request, url: url(i) }, runHandler)
      if (outcome.kind === 'miss' || outcome.kind === 'bypass')
        await outcome.finish(outcome.captureBody ? ok : undefined)
    }
    await engine.whenIdle()
  }

  it('1,000,000 distinct cache-busting URLs: entries stay at the limit, every other request trips the guard', async () => {
    const store = new MemoryStore()
    const engine = createHttpCache({
      storage: { cache: new Cache({ store }) },
      safety: { maxKeysPerWindow: { keys: 1000, window: '1h' } },
    })
    const heapBefore = process.memoryUsage().heapUsed
    await drive(engine, 1_000_000, (i) => `/search?q=${i}`)
    expect(engine.counters().cardinality).toBe(999_000)
    expect(store.size().entries).toBe(1000)
    // The guard remembers at most `keys` hashes per group: no per-request growth.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(200 * 1024 * 1024)
  }, 60_000)

  it('cache-busting paths (/p/1, /p/2, …) are bounded too: at most 10,000 groups per window', async () => {
    const store = new MemoryStore()
    const engine = createHttpCache({ storage: { cache: new Cache({ store }) } })
    await drive(engine, 30_000, (i) => `/p/${i}`)
    expect(store.size().entries).toBe(10_000)
    expect(engine.counters().cardinality).toBe(20_000)
  }, 60_000)
})

import { Cache, MemoryStore } from '@cachewire/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createHttpCache } from '../src/engine/http-cache.js'
import { resolveRoutePolicy } from '../src/options/resolve-route.js'
import type { ForwardOutcome, HttpRequest } from '../src/types.js'
import { setup } from './harness.js'

describe('one pass per request', () => {
  it("a user's key() runs exactly once per request, on a miss and on hits (3 requests, 3 calls)", async () => {
    let calls = 0
    const t = setup({ keys: { key: () => (calls++, 'tenant-a') } })
    expect((await t.send()).outcome.kind).toBe('miss')
    expect((await t.send()).outcome.kind).toBe('hit')
    expect((await t.send()).outcome.kind).toBe('hit')
    expect(calls).toBe(3)
  })

  it("refine() under a route reuses the app key() output; the route's key() runs once", async () => {
    let app = 0
    let route = 0
    const t = setup({ keys: { key: () => `app:${++app}` } })
    const policy = resolveRoutePolicy({ keys: { key: () => `route:${++route}` } })
    const prepared = t.engine.prepare(t.request())
    const refined = t.engine.refine(prepared, policy)
    expect(app).toBe(1)
    expect(route).toBe(1)
    expect(prepared.sameEntry(refined)).toBe(false)
    expect(refined.context?.primary).toContain('"key:app:1"')
    expect(refined.context?.primary).toContain('"route:route:1"')
  })
})

describe('a route key policy changes the primary key (one engine per app)', () => {
  const frontDoorFinds = async (policy: Parameters<typeof resolveRoutePolicy>[0], app = {}) => {
    const t = setup(app)
    const route = resolveRoutePolicy(policy)
    await t.send({ route })
    expect((await t.send({ route })).outcome.kind).toBe('hit')
    return (await t.frontDoor()) !== undefined
  }

  it('a key-neutral route (ttl, tags, stale) stores under the app key: the front door answers its entries', async () => {
    expect(await frontDoorFinds({ ttl: '10m', tags: ['route'], stale: { ifError: '1m' } })).toBe(
      true
    )
    expect(
      await frontDoorFinds({ keys: { keyedHeaders: ['x-a'] } }, { keys: { keyedHeaders: ['X-A'] } })
    ).toBe(true)
    expect(await frontDoorFinds({ cdn: false })).toBe(true)
  })

  it.each([
    ['a key function', { keys: { key: () => 'tenant' } }],
    ['a key function that gives no material', { keys: { key: () => undefined } }],
    ['keyed headers of its own', { keys: { keyedHeaders: ['x-a'] } }],
    ['private scope', { safety: { scope: 'private' as const, privateKey: () => 'user-1' } }],
    ['CDN fields of its own', { cdn: { surrogateKeys: true } }],
  ])(
    'a route with %s keeps entries the front door (the app policy) never finds',
    async (_, policy) => {
      expect(await frontDoorFinds(policy)).toBe(false)
    }
  )

  it('a route that refuses cookies the app allows marks its entries', async () => {
    expect(
      await frontDoorFinds({ safety: { allowCookies: false } }, { safety: { allowCookies: true } })
    ).toBe(false)
    expect(await frontDoorFinds({ safety: { allowCookies: true } })).toBe(true)
  })
})

describe('no freshness and no ttl (CACHEWIRE_NO_FRESHNESS)', () => {
  const warnings: Error[] = []
  const listen = (warning: Error): void => void warnings.push(warning)
  beforeAll(() => void process.on('warning', listen))
  afterAll(() => void process.off('warning', listen))
  afterEach(() => {
    warnings.length = 0
  })

  const noFreshness = (): Error[] =>
    warnings.filter(
      (warning) => (warning as Error & { code?: string }).code === 'CACHEWIRE_NO_FRESHNESS'
    )

  it('is not stored (its body not held), and the engine warns once', async () => {
    const t = setup()
    t.setApp(() => ({
      headers: { etag: '"a"', 'content-type': 'text/plain' },
      body: 'no freshness',
    }))
    const first = await t.send()
    expect(first.outcome.kind).toBe('miss')
    const patch = (first.outcome as ForwardOutcome).patch(200, { etag: '"a"' })
    expect(patch.captureBody).toBe(false)
    expect((await t.send()).outcome.kind).toBe('miss')
    expect((await t.send()).outcome.kind).toBe('miss')
    await new Promise((resolve) => setImmediate(resolve))
    expect(noFreshness()).toHaveLength(1)
    expect(noFreshness()[0]?.message).toMatch(/no ttl is set/)
  })

  it('explicit no-cache or max-age=0 with a validator is still stored, for revalidation, without a warning', async () => {
    for (const cacheControl of ['no-cache', 'max-age=0']) {
      const t = setup()
      t.setApp((request) =>
        request.headers['if-none-match'] === '"a"'
          ? { status: 304, headers: { etag: '"a"' } }
          : { headers: { etag: '"a"', 'cache-control': cacheControl }, body: 'x' }
      )
      await t.send()
      const second = await t.send()
      expect(second.header('cache-status')).toMatch(/fwd-status=304/)
    }
    await new Promise((resolve) => setImmediate(resolve))
    expect(noFreshness()).toHaveLength(0)
  })

  it('a heuristic lifetime counts as freshness: stored, no warning', async () => {
    const t = setup({ freshness: { heuristic: {} } })
    t.setApp(() => ({
      headers: {
        date: new Date(t.now()).toUTCString(),
        'last-modified': new Date(t.now() - 86_400_000).toUTCString(),
      },
      body: 'x',
    }))
    await t.send()
    expect((await t.send()).outcome.kind).toBe('hit')
    await new Promise((resolve) => setImmediate(resolve))
    expect(noFreshness()).toHaveLength(0)
  })

  it('with a ttl, the same response is stored', async () => {
    const t = setup({ ttl: '1m' })
    t.setApp(() => ({ headers: { etag: '"a"' }, body: 'x' }))
    await t.send()
    expect((await t.send()).outcome.kind).toBe('hit')
    await new Promise((resolve) => setImmediate(resolve))
    expect(noFreshness()).toHaveLength(0)
  })
})

describe('engine.close()', () => {
  it('removes the listeners it added: 12 engines on one cache, each closed in turn, warn nothing and hear nothing after', async () => {
    const warnings: Error[] = []
    const listen = (warning: Error): void => void warnings.push(warning)
    process.on('warning', listen)
    try {
      const cache = new Cache({ store: new MemoryStore() })
      const engines = []
      for (let i = 0; i < 12; i++) {
        const engine = createHttpCache({ storage: { cache } })
        engines.push(engine)
        await engine.close()
      }
      await cache.invalidateTags(['any'])
      expect(engines.every((engine) => engine.observer.stats().invalidations === 0)).toBe(true)
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual(
        []
      )
    } finally {
      process.off('warning', listen)
    }
  })

  it('closes a store it made, never a given cache or store', async () => {
    let closed = 0
    const store = Object.assign(new MemoryStore(), { close: async () => void closed++ })
    await createHttpCache({ storage: { store } }).close()
    await createHttpCache({ storage: { cache: new Cache({ store }) } }).close()
    expect(closed).toBe(0)
    const own = createHttpCache()
    await own.close()
    await own.close()
  })
})

describe('adopt and release (a route of the engine met downstream)', () => {
  it('adopt: the route policy applies to what the live miss stores', async () => {
    const t = setup()
    t.setApp(() => ({ headers: { 'content-type': 'text/plain' }, body: 'x' }))
    const request: HttpRequest = t.request()
    const outcome = (await t.engine.respond(request, t.run)) as ForwardOutcome
    outcome.adopt(resolveRoutePolicy({ ttl: '5m' }))
    const patch = outcome.patch(200, { 'content-type': 'text/plain' })
    expect(patch.set[0]?.[1]).toBe('cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=300')
    await outcome.finish({
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from('x'),
      complete: true,
    })
    expect((await t.send()).outcome.kind).toBe('hit')
  })

  it('release: nothing is stored or counted, and the finish that follows is a no-op', async () => {
    const t = setup()
    const outcome = (await t.engine.respond(t.request(), t.run)) as ForwardOutcome
    expect(t.engine.observer.stats().lookups.miss).toBe(1)
    outcome.release()
    expect(t.engine.observer.stats().lookups.miss).toBe(0)
    await outcome.finish({
      status: 200,
      headers: { 'cache-control': 'max-age=60' },
      body: Buffer.from('hello'),
      complete: true,
    })
    expect((await t.send()).outcome.kind).toBe('miss')
  })

  it('a released leader frees the requests waiting for it', async () => {
    const t = setup()
    const leader = (await t.engine.respond(t.request(), t.run)) as ForwardOutcome
    const waiter = t.engine.respond(t.request(), t.run)
    leader.release()
    expect((await waiter).kind).toBe('miss')
  })
})

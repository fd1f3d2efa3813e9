import { describe, expect, it } from 'vitest'
import { Cache, MemoryStore } from '@cachewire/core'
import { T0, setup } from './harness.js'

describe('engine.answer (front door)', () => {
  it('answers nothing before the entry exists, and records nothing', async () => {
    const t = setup()
    expect(await t.frontDoor(t.request())).toBeUndefined()
    expect(t.calls).toHaveLength(0)
    expect((await t.send()).outcome.kind).toBe('miss')
  })

  it('answers a fresh hit with the same bytes, Age and Cache-Status as handle', async () => {
    const t = setup()
    await t.send()
    t.advance(5_000)
    const reply = await t.frontDoor(t.request())
    expect(reply?.kind).toBe('hit')
    expect(reply?.body.toString()).toBe('hello')
    expect(reply?.headers).toContainEqual(['age', '5'])
    expect(reply?.headers).toContainEqual(['cache-status', 'cachewire; hit; ttl=55'])
  })

  it('answers a matching If-None-Match with a 304', async () => {
    const t = setup()
    await t.send()
    const etag = (await t.frontDoor(t.request()))?.headers.find(
      ([name]) => name === 'etag'
    )?.[1] as string
    const reply = await t.frontDoor(t.request({ headers: { 'if-none-match': etag } }))
    expect(reply?.kind).toBe('not-modified')
    expect(reply?.status).toBe(304)
  })

  it('leaves stale entries, bypassed requests and unsafe methods to the app', async () => {
    const t = setup()
    await t.send()
    expect(await t.frontDoor(t.request({ method: 'POST' }))).toBeUndefined()
    expect(await t.frontDoor(t.request({ headers: { cookie: 'a=1' } }))).toBeUndefined()
    // RFC 9111 §5.2.1: request directives are ignored by default, honoured on request.
    expect(
      await t.frontDoor(t.request({ headers: { 'cache-control': 'no-cache' } }))
    ).toMatchObject({ kind: 'hit' })
    const honour = setup({ freshness: { requestDirectives: 'honour' } })
    await honour.send()
    expect(
      await honour.frontDoor(honour.request({ headers: { 'cache-control': 'no-cache' } }))
    ).toBeUndefined()
    t.advance(61_000)
    expect(await t.frontDoor(t.request())).toBeUndefined()
  })
})

describe('engine.lookup on a store that reads asynchronously', () => {
  it('judges the entry by the clock when the read answers, not when it was sent', async () => {
    let duringRead = (): void => {}
    const memory = new MemoryStore({ clock: () => T0 })
    // The memory store without its synchronous reads, and with a read that takes 61 s.
    const slow = new Proxy(memory, {
      get(target, name) {
        if (name === 'syncReads') return undefined
        if (name === 'get')
          return async (key: string) => {
            const value = await target.get(key)
            duringRead()
            return value
          }
        const value: unknown = Reflect.get(target, name, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const t = setup({ storage: { store: slow } })
    await t.send()
    const prepared = t.engine.prepare(t.request())
    const found = t.engine.lookup(prepared)
    expect(found).toBeInstanceOf(Promise)
    expect(t.engine.answer(prepared, await found)).toMatchObject({ kind: 'hit' })
    duringRead = () => t.advance(61_000)
    const later = t.engine.prepare(t.request())
    // Unexpired when the read was sent (max-age=60), stale when it answered: not a hit.
    expect(t.engine.answer(later, await t.engine.lookup(later))).toBeUndefined()
  })
})

describe('engine.lookup on a memory store', () => {
  it("answers without a promise, so a hit is handled in the request's own tick", async () => {
    const t = setup()
    const first = t.engine.prepare(t.request())
    const miss = t.engine.lookup(first)
    expect(miss).not.toBeInstanceOf(Promise)
    await t.send()
    const prepared = t.engine.prepare(t.request())
    const found = t.engine.lookup(prepared)
    expect(found).not.toBeInstanceOf(Promise)
    const outcome = t.engine.handle(
      prepared,
      found as Exclude<typeof found, Promise<unknown>>,
      t.run
    )
    expect(outcome).not.toBeInstanceOf(Promise)
    expect((outcome as { kind: string }).kind).toBe('hit')
  })
})

describe('what a served entry keeps, counted in the memory store', () => {
  it("charges the store for an entry's decoding on its first hit, and only then", async () => {
    const t = setup()
    await t.send()
    const stored = t.store.size().bytes
    expect((await t.send()).outcome.kind).toBe('hit')
    const served = t.store.size().bytes
    // About 900 bytes plus its key, tags and header lines (see retainedBytes in entry-store.ts).
    expect(served - stored).toBeGreaterThan(1_000)
    expect(served - stored).toBeLessThan(3_000)
    expect((await t.send()).outcome.kind).toBe('hit')
    expect(t.store.size().bytes).toBe(served)
  })

  it('decodes an entry once, whether or not its stored bytes can carry the decoding', async () => {
    class NonExtensibleValues extends MemoryStore {
      override getSync(key: string): Uint8Array | undefined {
        const value = super.getSync(key)
        return value === undefined ? undefined : Object.preventExtensions(value)
      }
    }
    for (const store of [new MemoryStore(), new NonExtensibleValues()]) {
      const t = setup({ storage: { store } })
      await t.send()
      const first = t.engine.lookup(t.engine.prepare(t.request()))
      const charged = store.size().bytes
      const second = t.engine.lookup(t.engine.prepare(t.request()))
      expect(first).not.toBeInstanceOf(Promise)
      const entry = (first as { entry: unknown }).entry
      expect(entry).toMatchObject({ status: 200 })
      expect((second as { entry: unknown }).entry).toBe(entry)
      expect(charged).toBeGreaterThan(0)
      expect(store.size().bytes).toBe(charged)
      expect(t.errors).toEqual([])
    }
  })

  it('serves hits from a cache that cannot take the charge (a Cache from an older core)', async () => {
    const cache = new Cache({ store: new MemoryStore() })
    Object.defineProperty(cache, 'retain', { value: undefined })
    const t = setup({ storage: { cache } })
    await t.send()
    expect((await t.send()).outcome.kind).toBe('hit')
    expect((await t.send()).outcome.kind).toBe('hit')
    expect(t.errors).toEqual([])
  })
})

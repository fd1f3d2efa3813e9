import diagnosticsChannel from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { CoreTracingChannel, InvalidOptionError, MemoryStore, type Store } from '@cachewire/core'
import {
  HttpTracingChannel,
  type LookupTraceContext,
  type RevalidateTraceContext,
} from '../src/observability/tracing.js'
import { resolveRoutePolicy } from '../src/options/resolve-route.js'
import { decodeValue, encodeEntry } from '../src/entry/entry-codec.js'
import { setup } from './harness.js'

interface Seen {
  event: 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'
  context: Record<string, unknown>
}

const stops: Array<() => void> = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
})

function record(name: string): Seen[] {
  const seen: Seen[] = []
  const handler = (event: Seen['event']) => (context: object) =>
    void seen.push({ event, context: { ...context } })
  const subscribers = {
    start: handler('start'),
    end: handler('end'),
    asyncStart: handler('asyncStart'),
    asyncEnd: handler('asyncEnd'),
    error: handler('error'),
  }
  const channel = diagnosticsChannel.tracingChannel(name)
  channel.subscribe(subscribers)
  stops.push(() => channel.unsubscribe(subscribers))
  return seen
}

/** The context each call was closed with: `end` with a result (synchronous) or `asyncEnd`. */
function closed<T>(seen: Seen[]): T[] {
  return seen
    .filter(
      (entry) => entry.event === 'asyncEnd' || (entry.event === 'end' && 'result' in entry.context)
    )
    .map((entry) => entry.context as T)
}

describe('cachewire:http.lookup', () => {
  it('traces a memory miss and hit synchronously (end with a result, no async events), with path, method and route', async () => {
    const t = setup()
    const seen = record(HttpTracingChannel.Lookup)
    const route = resolveRoutePolicy({ name: 'greeting' })
    await t.send({ route })
    await t.engine.whenIdle()
    await t.send({ route })
    expect(seen.map((entry) => entry.event)).toEqual(['start', 'end', 'start', 'end'])
    expect(
      closed<LookupTraceContext>(seen).map(({ method, path, route: name, outcome }) => ({
        method,
        path,
        route: name,
        outcome,
      }))
    ).toEqual([
      { method: 'GET', path: '/a', route: 'greeting', outcome: 'miss' },
      { method: 'GET', path: '/a', route: 'greeting', outcome: 'hit' },
    ])
  })

  it('traces a stale entry as stale, and a bypass with its reason (never the query)', async () => {
    const t = setup()
    await t.send()
    t.advance(61_000)
    const seen = record(HttpTracingChannel.Lookup)
    await t.send()
    await t.send({ url: '/a?secret=1', headers: { cookie: 'a=1' } })
    const contexts = closed<LookupTraceContext>(seen)
    expect(contexts.map(({ outcome, reason, route }) => ({ outcome, reason, route }))).toEqual([
      { outcome: 'stale', reason: undefined, route: 'default' },
      { outcome: 'bypass', reason: 'cookie', route: 'default' },
    ])
    expect(JSON.stringify(seen)).not.toContain('secret')
  })

  it('nests the core get and store calls of a lookup that has to wait for the store', async () => {
    // A memory store without its synchronous reads: the lookup goes through cache.get.
    const memory = new MemoryStore()
    const asyncOnly = new Proxy(memory, {
      get(target, property) {
        if (property === 'getSync' || property === 'syncReads') return undefined
        const value: unknown = Reflect.get(target, property, target)
        return typeof value === 'function'
          ? (value as (...args: unknown[]) => unknown).bind(target)
          : value
      },
    }) as Store
    const t = setup({ storage: { store: asyncOnly } })
    await t.send()
    await t.engine.whenIdle()
    const order: string[] = []
    const listen = (name: string, label: string): void => {
      const channel = diagnosticsChannel.tracingChannel(name)
      const subscribers = {
        start: () => void order.push(`${label}:start`),
        end() {},
        asyncEnd: () => void order.push(`${label}:end`),
        asyncStart() {},
        error() {},
      }
      channel.subscribe(subscribers)
      stops.push(() => channel.unsubscribe(subscribers))
    }
    listen(HttpTracingChannel.Lookup, 'lookup')
    listen(CoreTracingChannel.Get, 'get')
    listen(CoreTracingChannel.Store, 'store')
    const found = t.engine.lookup(t.engine.prepare(t.request()))
    expect(found).toBeInstanceOf(Promise)
    expect((await found).entry).toBeDefined()
    expect(order).toEqual([
      'lookup:start',
      'get:start',
      'store:start',
      'store:end',
      'get:end',
      'lookup:end',
    ])
  })
})

describe('cachewire:http.store and cachewire:http.revalidate', () => {
  it('trace an entry write with status, size, freshness and the number of tags', async () => {
    const t = setup({ tags: ['a', 'b'] })
    const seen = record(HttpTracingChannel.Store)
    await t.send()
    await t.engine.whenIdle()
    const [write] = closed<Record<string, unknown>>(seen)
    expect(write).toMatchObject({
      method: 'GET',
      path: '/a',
      route: 'default',
      status: 200,
      bytes: 5,
      freshMs: 60_000,
    })
    // The app's tags and the URL's own.
    expect(write?.tags).toBe(3)
  })

  it('trace a foreground revalidation answered 304 as updated, and a background refresh', async () => {
    const t = setup()
    const seen = record(HttpTracingChannel.Revalidate)
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=10', etag: '"v1"' }, body: 'b' }))
    await t.send()
    t.advance(15_000)
    t.setApp(() => ({ status: 304, headers: { 'cache-control': 'max-age=10', etag: '"v1"' } }))
    await t.send()
    await t.engine.whenIdle()
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=10, stale-while-revalidate=60' },
      body: 'c',
    }))
    t.advance(15_000)
    await t.send()
    await t.engine.whenIdle()
    t.advance(15_000)
    await t.send()
    await t.engine.whenIdle()
    const contexts = closed<RevalidateTraceContext>(seen)
    expect(contexts.map(({ mode, outcome, status }) => ({ mode, outcome, status }))).toEqual([
      { mode: 'foreground', outcome: 'updated', status: 304 },
      { mode: 'foreground', outcome: 'updated', status: 200 },
      { mode: 'background', outcome: 'updated', status: 200 },
    ])
  })

  it('trace a revalidation answered from the stale entry when the origin fails', async () => {
    const t = setup()
    const seen = record(HttpTracingChannel.Revalidate)
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=10, stale-if-error=60' },
      body: 'good',
    }))
    await t.send()
    t.advance(15_000)
    t.setApp(() => ({ status: 503, body: 'down' }))
    expect((await t.send()).body).toBe('good')
    expect(closed<RevalidateTraceContext>(seen)[0]).toMatchObject({
      mode: 'foreground',
      outcome: 'stale-if-error',
      status: 503,
    })
  })
})

describe('route names', () => {
  it('are counted per route, hits of a route entry found without the route included', async () => {
    const t = setup()
    const products = resolveRoutePolicy({ name: 'products' })
    await t.send({ route: products })
    await t.engine.whenIdle()
    await t.send({ route: products })
    // The same entry, found by a lookup no route met (an app-wide layer, a front door).
    await t.send()
    await t.frontDoor()
    await t.send({ url: '/other' })
    await t.send({ url: '/x', method: 'POST' })
    const routes = t.engine.observer.stats().routes
    expect(routes).toEqual([
      { route: 'products', hit: 3, stale: 0, miss: 1, revalidated: 0, bypass: 0, hitRate: 0.75 },
      { route: 'default', hit: 0, stale: 0, miss: 1, revalidated: 0, bypass: 1, hitRate: 0 },
    ])
  })

  it('are kept in the stored entry, and an entry without one decodes as before', () => {
    const base = {
      key: 'k',
      status: 200,
      headers: [],
      notModifiedHeaders: [],
      body: Buffer.from('x'),
      storedAt: 0,
      initialAgeMs: 0,
      staleAt: 1,
      staleWhileRevalidateUntil: 1,
      staleIfErrorUntil: 1,
      expiresAt: 1,
      etag: undefined,
      etagGenerated: false,
      lastModified: undefined,
      vary: [],
      tags: [],
      upstreamCacheStatus: undefined,
      allowMaxStale: true,
      sharedWithAuthorization: false,
    }
    const named = decodeValue(encodeEntry({ ...base, route: 'products' }))
    expect(named?.kind === 'entry' && named.entry.route).toBe('products')
    const plain = decodeValue(encodeEntry(base))
    expect(plain?.kind === 'entry' && 'route' in plain.entry).toBe(false)
  })

  it('are refused when not a short plain name, naming the option', () => {
    expect(resolveRoutePolicy({ name: 'user:profile/v2' }).name).toBe('user:profile/v2')
    for (const bad of ['', 'has space', 'x'.repeat(65), 42]) {
      expect(() => resolveRoutePolicy({ name: bad as string })).toThrow(InvalidOptionError)
      expect(() => resolveRoutePolicy({ name: bad as string })).toThrow(/options\.name/)
    }
  })
})

import diagnosticsChannel from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { Cache, CoreTracingChannel, MemoryStore, StoreTimeoutError } from '../src/index.js'
import type {
  GetTraceContext,
  InvalidateTraceContext,
  SetTraceContext,
  StoreObserver,
  StoreTraceContext,
  WrapTraceContext,
} from '../src/index.js'
import { ChaosStore } from './chaos-store.js'

interface Seen {
  event: 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'
  context: Record<string, unknown>
}

const stops: Array<() => void> = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
})

/** Every event of one tracing channel, with a copy of the context as it was at that event. */
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

/** The context each traced call ended with (asyncEnd), in order. */
function ended<T>(seen: Seen[]): T[] {
  return seen.filter((entry) => entry.event === 'asyncEnd').map((entry) => entry.context as T)
}

describe('core tracing channels', () => {
  it('trace get with its key, namespace, store and whether it hit', async () => {
    const store = new MemoryStore()
    const cache = new Cache({ store })
    await cache.set('a', 1)
    const seen = record(CoreTracingChannel.Get)
    await cache.get('a')
    await cache.namespace('users').get('b')
    expect(seen.map((entry) => entry.event)).toEqual([
      'start',
      'end',
      'asyncStart',
      'asyncEnd',
      'start',
      'end',
      'asyncStart',
      'asyncEnd',
    ])
    const [hit, miss] = ended<GetTraceContext>(seen)
    expect(hit).toMatchObject({ key: 'a', namespace: undefined, hit: true, result: 1 })
    expect(hit?.store).toBe(store)
    expect(miss).toMatchObject({ key: 'b', namespace: 'users', hit: false })
    // Nothing is decided before the call ends.
    expect(seen[0]?.context).not.toHaveProperty('hit')
  })

  it('trace set with its size, lifetime, tags and whether it was stored', async () => {
    const cache = new Cache()
    const seen = record(CoreTracingChannel.Set)
    await cache.set('a', { name: 'Ada' }, { ttl: '1m', tags: ['users'] })
    const [set] = ended<SetTraceContext>(seen)
    expect(set).toMatchObject({ key: 'a', ttlMs: 60_000, tags: ['users'], stored: true })
    expect(set?.bytes).toBeGreaterThan(0)
  })

  it('trace wrap as a miss that runs the loader, then a hit, and a joined caller', async () => {
    const cache = new Cache()
    const seen = record(CoreTracingChannel.Wrap)
    let release: (value: number) => void = () => {}
    const slow = new Promise<number>((resolve) => (release = resolve))
    const first = cache.wrap('k', () => slow)
    const second = cache.wrap('k', () => 2)
    release(1)
    expect(await Promise.all([first, second])).toEqual([1, 1])
    // The key stays claimed until the loaded value is written; a caller before that joins.
    await new Promise((resolve) => setImmediate(resolve))
    await cache.wrap('k', () => 3)
    const outcomes = ended<WrapTraceContext>(seen).map((context) => context.outcome)
    // The two concurrent calls end in the same turn, in no promised order.
    expect([...outcomes.slice(0, 2)].sort()).toEqual(['joined', 'miss'])
    expect(outcomes[2]).toBe('hit')
  })

  it('trace invalidations of every kind with what they removed', async () => {
    const cache = new Cache()
    await cache.set('a', 1, { tags: ['t'] })
    await cache.set('b', 2)
    const seen = record(CoreTracingChannel.Invalidate)
    await cache.invalidateTags(['t'])
    await cache.delete('b')
    await cache.deletePattern('*')
    await cache.namespace('n').invalidate()
    await cache.clear()
    const contexts = ended<InvalidateTraceContext>(seen)
    expect(contexts.map(({ kind, removed }) => ({ kind, removed }))).toEqual([
      { kind: 'tags', removed: 1 },
      { kind: 'delete', removed: 1 },
      { kind: 'pattern', removed: 0 },
      { kind: 'namespace', removed: 0 },
      { kind: 'clear', removed: 0 },
    ])
    expect(contexts[0]?.tags).toEqual(['t'])
    expect(contexts[3]?.namespace).toBe('n')
  })

  it('trace every store call, and a store failure on the error event while the cache fails open', async () => {
    const chaos = new ChaosStore(new MemoryStore())
    const cache = new Cache({ store: chaos, breaker: false })
    const seen = record(CoreTracingChannel.Store)
    await cache.set('a', 1)
    chaos.failing = true
    expect(await cache.get('a')).toBeUndefined()
    const operations = seen
      .filter((entry) => entry.event === 'start')
      .map((entry) => (entry.context as unknown as StoreTraceContext).operation)
    expect(operations).toEqual(['set', 'get'])
    const errors = seen.filter((entry) => entry.event === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]?.context).toMatchObject({ operation: 'get' })
    expect((errors[0]?.context.error as Error).message).toMatch(/chaos/)
    expect(errors[0]?.context.store).toBe(chaos)
  })

  it('nest store calls inside the call that made them (same async context)', async () => {
    const cache = new Cache({ store: new ChaosStore(new MemoryStore()) })
    const order: string[] = []
    const get = diagnosticsChannel.tracingChannel(CoreTracingChannel.Get)
    const store = diagnosticsChannel.tracingChannel(CoreTracingChannel.Store)
    const onGet = {
      start: () => void order.push('get:start'),
      asyncEnd: () => void order.push('get:end'),
      end() {},
      asyncStart() {},
      error() {},
    }
    const onStore = {
      start: () => void order.push('store:start'),
      asyncEnd: () => void order.push('store:end'),
      end() {},
      asyncStart() {},
      error() {},
    }
    get.subscribe(onGet)
    store.subscribe(onStore)
    stops.push(
      () => get.unsubscribe(onGet),
      () => store.unsubscribe(onStore)
    )
    await cache.get('x')
    expect(order).toEqual(['get:start', 'store:start', 'store:end', 'get:end'])
  })

  it('publish nothing once the last subscriber has gone', async () => {
    const cache = new Cache()
    const seen = record(CoreTracingChannel.Set)
    stops.pop()?.()
    expect(diagnosticsChannel.tracingChannel(CoreTracingChannel.Set).start.hasSubscribers).toBe(
      false
    )
    await cache.set('a', 1)
    expect(await cache.get('a')).toBe(1)
    expect(seen).toEqual([])
  })

  it('report a timeout as the store call error', async () => {
    const chaos = new ChaosStore(new MemoryStore())
    const cache = new Cache({ store: chaos, breaker: false })
    const seen = record(CoreTracingChannel.Store)
    chaos.throwing = new StoreTimeoutError('get', 50)
    await cache.get('a')
    expect(seen.find((entry) => entry.event === 'error')?.context.error).toBeInstanceOf(
      StoreTimeoutError
    )
  })
})

describe('breaker events', () => {
  it("forward a store's breaker transitions, with the node and direction", async () => {
    // Breakers live in the stores that need them (RedisStore: test/integration/redis-breakers);
    // a store tells the cache of each transition through its observer.
    let observer: StoreObserver | undefined
    const store = Object.assign(new MemoryStore(), {
      observe: (watching: StoreObserver) => {
        observer = watching
        return () => (observer = undefined)
      },
    })
    const cache = new Cache({ store })
    const transitions: string[] = []
    cache.on(
      'breaker',
      ({ from, to, node, direction }) =>
        void transitions.push(`${node}/${direction}: ${from}->${to}`)
    )
    observer?.transition?.({
      from: 'closed',
      to: 'open',
      node: '127.0.0.1:7001',
      direction: 'read',
    })
    observer?.transition?.({
      from: 'open',
      to: 'half-open',
      node: '127.0.0.1:7001',
      direction: 'read',
    })
    observer?.transition?.({
      from: 'half-open',
      to: 'closed',
      node: '127.0.0.1:7001',
      direction: 'read',
    })
    expect(transitions).toEqual([
      '127.0.0.1:7001/read: closed->open',
      '127.0.0.1:7001/read: open->half-open',
      '127.0.0.1:7001/read: half-open->closed',
    ])
    await cache.close()
    expect(observer).toBeUndefined()
  })
})

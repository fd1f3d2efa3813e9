import { EventEmitter } from 'node:events'
import v8 from 'node:v8'
import type { Express, Request } from 'express'
import { describe, expect, it } from 'vitest'
import { cachedRoute, cacheMiddleware, MemoryStore } from '../src/index.js'
import { shareHiddenClasses, shareHiddenClassesAtEntry } from '../src/hidden-classes.js'
import { EXPRESS_VERSIONS, listen, request } from './helpers.js'

// V8's own view of an object's mode: what the normalization is for, checked where it happens.
v8.setFlagsFromString('--allow-natives-syntax')
// `%` syntax only parses once the flag is set, so the function is built from text.
const hasFastProperties = new Function('object', 'return %HasFastProperties(object)') as (
  object: object
) => boolean

type Emitter = EventEmitter & Record<string, unknown>

describe('shareHiddenClasses', () => {
  it('puts both objects in dictionary mode and keeps every property as it was', () => {
    const req = new EventEmitter() as Emitter
    const res = new EventEmitter() as Emitter
    req.url = '/a'
    res.statusCode = 201
    res.setMaxListeners(42)
    const before = [req, res].map((object) => Object.getOwnPropertyDescriptors(object))
    expect(hasFastProperties(req)).toBe(true)

    shareHiddenClasses(req as never, res as never)

    expect(hasFastProperties(req)).toBe(false)
    expect(hasFastProperties(res)).toBe(false)
    expect([req, res].map((object) => Object.getOwnPropertyDescriptors(object))).toEqual(before)
    expect(res.getMaxListeners()).toBe(42)
    expect(req.getMaxListeners()).toBe(EventEmitter.defaultMaxListeners)
  })

  it('leaves alone what it cannot move as it was: a locked field, a frozen object, no field, an accessor', () => {
    const locked = new EventEmitter() as Emitter
    Object.defineProperty(locked, '_maxListeners', {
      value: 3,
      configurable: false,
      writable: true,
    })
    const frozen = Object.freeze(new EventEmitter())
    const bare = {}
    const accessor = Object.defineProperty({}, '_maxListeners', {
      get: () => 5,
      configurable: true,
      enumerable: true,
    })

    for (const object of [locked, frozen, bare, accessor])
      expect(() => shareHiddenClasses(object as never, undefined)).not.toThrow()

    expect(locked.getMaxListeners()).toBe(3)
    expect(hasFastProperties(locked)).toBe(true)
    expect(Object.isFrozen(frozen)).toBe(true)
    expect(Object.getOwnPropertyDescriptor(accessor, '_maxListeners')?.get?.()).toBe(5)
  })
})

describe.each(EXPRESS_VERSIONS)('on $express', ({ create }) => {
  async function modesSeenByTheHandler(mount: 'none' | 'middleware' | 'route') {
    const app = create()
    const seen: boolean[][] = []
    const handler = (req: Request, res: { json(body: unknown): void }) => {
      seen.push([hasFastProperties(req), hasFastProperties(res)])
      res.json({ ok: true })
    }
    if (mount === 'middleware') {
      app.use(cacheMiddleware({ ttl: '1m', storage: { store: new MemoryStore() } }))
      app.get('/a', handler)
    } else if (mount === 'route') {
      app.get('/a', cachedRoute({ ttl: '1m' }), handler)
    } else app.get('/a', handler)
    const server = await listen(app)
    const reply = await request(server.url, '/a')
    await server.close()
    return { seen, reply }
  }

  it('Express alone leaves each request a hidden class of its own (fast mode)', async () => {
    const { seen } = await modesSeenByTheHandler('none')
    expect(seen).toEqual([[true, true]])
  })

  it.each(['middleware', 'route'] as const)(
    'behind the cache %s, the handler gets both objects in dictionary mode and answers as before',
    async (mount) => {
      const { seen, reply } = await modesSeenByTheHandler(mount)
      expect(seen).toEqual([[false, false]])
      expect(reply.status).toBe(200)
      expect(JSON.parse(reply.text)).toEqual({ ok: true })
      expect(reply.headers['cache-status']).toContain('stored')
    }
  )
})

describe('shareHiddenClassesAtEntry', () => {
  /** Modes seen by a middleware that runs before the cache, one row per request. */
  async function modesBeforeTheCache(
    create: () => Express,
    paths: string[],
    mounted: boolean
  ): Promise<{ seen: boolean[][]; statuses: number[] }> {
    const app = create()
    const seen: boolean[][] = []
    app.use((req: Request, res: object, next: () => void) => {
      seen.push([hasFastProperties(req), hasFastProperties(res)])
      next()
    })
    // The cache in the app itself, or in a sub-app mounted under /sub.
    const inner = mounted ? create() : app
    inner.use(cacheMiddleware({ ttl: '1m', storage: { store: new MemoryStore() } }))
    inner.get('/a', (req: Request, res: { json(body: unknown): void }) => res.json({ ok: true }))
    if (mounted) app.use('/sub', inner)
    const server = await listen(app)
    const statuses: number[] = []
    for (const path of paths) statuses.push((await request(server.url, path)).status)
    await server.close()
    return { seen, statuses }
  }

  const [express5, express4] = EXPRESS_VERSIONS

  it('on express 5, once the cache has met the app, what comes before it gets both objects in dictionary mode', async () => {
    const { seen, statuses } = await modesBeforeTheCache(
      express5!.create,
      ['/a', '/a', '/x'],
      false
    )
    expect(statuses).toEqual([200, 200, 404])
    // The first request met the cache after the middleware before it had run.
    expect(seen).toEqual([
      [true, true],
      [false, false],
      [false, false],
    ])
  })

  it('on express 5, an app the cache is mounted in is covered too', async () => {
    const { seen, statuses } = await modesBeforeTheCache(
      express5!.create,
      ['/sub/a', '/sub/a'],
      true
    )
    expect(statuses).toEqual([200, 200])
    expect(seen).toEqual([
      [true, true],
      [false, false],
    ])
  })

  it('on express 4, leaves the app as it was (its app.router throws) and serves as before', async () => {
    const { seen, statuses } = await modesBeforeTheCache(express4!.create, ['/a', '/a'], false)
    expect(statuses).toEqual([200, 200])
    expect(seen).toEqual([
      [true, true],
      [true, true],
    ])
  })

  it('looks at an app once, and leaves alone an app or a router it cannot change', () => {
    let reads = 0
    const handle = () => 'handled'
    const app = Object.defineProperty(() => undefined, 'router', {
      get: () => {
        reads++
        return { handle }
      },
    })
    // The first call wraps; only from the next one on has the router done it for the request.
    expect(shareHiddenClassesAtEntry(app as never)).toBe(false)
    expect(shareHiddenClassesAtEntry(app as never)).toBe(true)
    expect(reads).toBe(1)

    const frozenRouter = Object.freeze({ handle })
    const withFrozenRouter = Object.defineProperty(() => undefined, 'router', {
      value: frozenRouter,
    })
    expect(shareHiddenClassesAtEntry(withFrozenRouter as never)).toBe(false)
    expect(shareHiddenClassesAtEntry(withFrozenRouter as never)).toBe(false)
    expect(frozenRouter.handle).toBe(handle)

    const frozenApp = Object.freeze(() => undefined)
    expect(() => shareHiddenClassesAtEntry(frozenApp as never)).not.toThrow()
    expect(() => shareHiddenClassesAtEntry(undefined)).not.toThrow()
  })
})

describe.each(EXPRESS_VERSIONS)('on $express, request after request', ({ create }) => {
  it('what runs after the cache gets both objects in dictionary mode every time, in the app and after a sub-app', async () => {
    const app = create()
    const sub = create()
    const seen: string[] = []
    const record = (where: string) => (req: Request, res: object, next: () => void) => {
      seen.push(`${where} ${hasFastProperties(req)} ${hasFastProperties(res)}`)
      next()
    }
    // The cache in a sub-app; what the sub-app does not answer goes back to the app, whose
    // prototypes Express puts back on the way out.
    sub.use(cacheMiddleware({ ttl: '1m', storage: { store: new MemoryStore() } }))
    sub.use(record('sub'))
    app.use('/sub', sub)
    app.use(record('app'))
    app.use((req: Request, res: { status(code: number): { json(body: unknown): void } }) =>
      res.status(200).json({ ok: true })
    )
    const server = await listen(app)
    for (const path of ['/sub/a', '/sub/b', '/sub/c']) await request(server.url, path)
    await server.close()
    expect(seen).toEqual([
      'sub false false',
      'app false false',
      'sub false false',
      'app false false',
      'sub false false',
      'app false false',
    ])
  })
})

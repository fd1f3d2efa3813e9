import { EventEmitter } from 'node:events'
import v8 from 'node:v8'
import type { Request } from 'express'
import { describe, expect, it } from 'vitest'
import { cachedRoute, cacheMiddleware, MemoryStore } from '../src/index.js'
import { shareHiddenClasses } from '../src/hidden-classes.js'
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

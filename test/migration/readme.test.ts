/**
 * The README's migration guides, run: each "before" snippet on the library it migrates from
 * (apicache, koa-cash, cache-manager, devDependencies here), each "after" snippet on cachewire,
 * with the same requests and the same checks; then the behaviour the guides say changes.
 */
import type { Express } from 'express'
import express from 'express'
import apicache from 'apicache'
import type Koa from 'koa'
import { createCache } from 'cache-manager'
import { Keyv } from 'keyv'
import { Cache, InvalidOptionError } from '@cachewire/core'
import { responseCache as expressCache } from '@cachewire/express'
import { responseCache as koaCache } from '@cachewire/koa'
import { afterAll, describe, expect, it } from 'vitest'
import { listen, request } from '../helpers/servers.js'
import { runSnippet, typecheckSnippets } from './readme-snippets.js'

afterAll(() => {
  apicache.clear()
})

type Product = { id: number; name: string }
interface AppSnippet {
  app: Express | Koa
  products: Product[]
}

/**
 * What every app snippet must do: cache GET /products (a change behind the cache's back is not
 * seen), and show the change once PUT /products/1 cleared it.
 */
async function checkProducts(
  app: AppSnippet['app'],
  products: Product[],
  cached: (headers: Record<string, unknown>) => boolean
): Promise<void> {
  const { url } = await listen(app as Parameters<typeof listen>[0])
  const first = await request(`${url}/products`)
  expect(JSON.parse(first.text)).toEqual([{ id: 1, name: 'Keyboard' }])
  await new Promise((resolve) => setTimeout(resolve, 20)) // stores never delay a response
  products[0] = { id: 1, name: 'changed behind the cache' }
  const second = await request(`${url}/products`)
  expect(JSON.parse(second.text)).toEqual([{ id: 1, name: 'Keyboard' }])
  expect(cached(second.headers)).toBe(true)
  expect((await request(`${url}/products/1`, { method: 'PUT' })).status).toBe(204)
  const third = await request(`${url}/products`)
  expect(JSON.parse(third.text)).toEqual([{ id: 1, name: 'Mechanical keyboard' }])
}

describe('from apicache', () => {
  it('before (apicache): GET /products is cached for 5 minutes; PUT clears its group', async () => {
    const { app, products } = await runSnippet<AppSnippet>('apicache-before', ['app', 'products'])
    await checkProducts(app, products, (headers) => headers['apicache-store'] === 'memory')
  })

  it('after (@cachewire/express): the same, with a tag and invalidateTags', async () => {
    const { app, products, cache } = await runSnippet<
      AppSnippet & { cache: ReturnType<typeof expressCache> }
    >('apicache-after', ['app', 'products', 'cache'])
    await checkProducts(app, products, (headers) =>
      /^cachewire; hit; ttl=(300|299)$/.test(String(headers['cache-status']))
    )
    await cache.close()
  })

  it("'5 minutes' is a cachewire duration; a bare 60 is refused, not taken as 60 ms", () => {
    expect(expressCache({ ttl: '5 minutes' }).engine.options.ttlMs).toBe(300_000)
    expect(() => expressCache({ ttl: 60 })).toThrow(/write '60s'/)
  })

  it('apicache caches a 500 and replays Set-Cookie to the next visitor; cachewire does neither', async () => {
    const cached = apicache.newInstance()
    const cache = expressCache({ ttl: '5 minutes' })
    const results: Record<string, { errors: string[]; cookies: string[] }> = {}
    for (const [name, middleware] of [
      ['apicache', cached.middleware('5 minutes')],
      ['cachewire', cache.route()],
    ] as const) {
      const app = express()
      let failures = 0
      let visitors = 0
      app.get('/flaky', middleware, (_req, res) => void res.status(500).send(`error ${++failures}`))
      app.get(
        '/welcome',
        middleware,
        (_req, res) => void res.cookie('session', `visitor-${++visitors}`).send('welcome')
      )
      const { url } = await listen(app)
      const errors: string[] = []
      const cookies: string[] = []
      for (let i = 0; i < 2; i++) {
        errors.push((await request(`${url}/flaky`)).text)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      for (let i = 0; i < 2; i++) {
        cookies.push(String((await request(`${url}/welcome`)).headers['set-cookie']))
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      results[name] = { errors, cookies }
    }
    cached.clear()
    await cache.close()
    expect(results['apicache']).toEqual({
      errors: ['error 1', 'error 1'],
      cookies: ['session=visitor-1; Path=/', 'session=visitor-1; Path=/'],
    })
    expect(results['cachewire']).toEqual({
      errors: ['error 1', 'error 2'],
      cookies: ['session=visitor-1; Path=/', 'session=visitor-2; Path=/'],
    })
  })
})

describe('from koa-cash', () => {
  it('before (koa-cash): ctx.cashed() caches GET /products; ctx.cashClear clears it', async () => {
    const { app, products } = await runSnippet<AppSnippet>('koa-cash-before', ['app', 'products'])
    await checkProducts(app, products, () => true)
  })

  it('after (@cachewire/koa): the middleware caches it; ctx.cache.purgeUrl clears it', async () => {
    const { app, products, cache } = await runSnippet<
      AppSnippet & { cache: ReturnType<typeof koaCache> }
    >('koa-cash-after', ['app', 'products', 'cache'])
    await checkProducts(app, products, (headers) =>
      /^cachewire; hit; ttl=(300|299)$/.test(String(headers['cache-status']))
    )
    await cache.close()
  })

  it("koa-cash's maxAge in milliseconds is a valid ttl; a number under 1000 is refused", () => {
    expect(koaCache({ ttl: 5 * 60 * 1000 }).engine.options.ttlMs).toBe(300_000)
    expect(() => koaCache({ ttl: 300 })).toThrow(InvalidOptionError)
  })
})

describe('from cache-manager', () => {
  type DataSnippet = { cache: { get(key: string): Promise<unknown> }; user: unknown }

  for (const name of ['cache-manager-before', 'cache-manager-after']) {
    it(`${name === 'cache-manager-before' ? 'before (cache-manager)' : 'after (@cachewire/core)'}: set, set with a ttl, wrap, delete`, async () => {
      const { cache, user } = await runSnippet<DataSnippet>(name, ['cache', 'user'])
      expect(user).toEqual({ id: 2, name: 'Grace' })
      expect(await cache.get('user:2')).toEqual({ id: 2, name: 'Grace' })
      expect(await cache.get('session:abc')).toEqual({ user: 1 })
      expect(await cache.get('user:1')).toBeUndefined()
    })
  }

  it('ttl: 60 is 60 ms in cache-manager (gone almost at once); cachewire refuses it', async () => {
    const manager = createCache({ stores: [new Keyv()], ttl: 60 })
    await manager.set('report', 'data')
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect(await manager.get('report')).toBeUndefined()
    expect(() => new Cache({ defaultTtl: 60 })).toThrow(/write '60s'/)
    await expect(new Cache().set('report', 'data', { ttl: 60 })).rejects.toThrow(InvalidOptionError)
  })
})

it("the cachewire snippets (and the TypeScript cache-manager one) typecheck under the repo's strict settings", async () => {
  expect(
    await typecheckSnippets([
      'apicache-after',
      'koa-cash-after',
      'cache-manager-after',
      'cache-manager-before',
    ])
  ).toBe('')
}, 60_000)

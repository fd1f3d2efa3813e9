/**
 * Hit ratios per route policy name, as an app is usually built: the app-wide middleware in front
 * (it answers hits before routing) and named routes behind it. A route's misses and hits must
 * both count for the route, on Express and Koa.
 */
import Router from '@koa/router'
import express from 'express'
import Koa from 'koa'
import { describe, expect, it } from 'vitest'
import * as expressCache from '@cachewire/express'
import * as koaCache from '@cachewire/koa'
import { listen, request } from '../helpers/servers.js'

async function traffic(url: string, whenIdle: () => Promise<void>): Promise<void> {
  await request(`${url}/users/1`)
  await whenIdle()
  await request(`${url}/users/1`)
  await request(`${url}/users/1`)
  await request(`${url}/users/2`)
  await whenIdle()
  await request(`${url}/about`)
  await whenIdle()
  await request(`${url}/about`)
  await request(`${url}/plain`)
}

const EXPECTED = [
  { route: 'user', hit: 2, stale: 0, miss: 2, revalidated: 0, bypass: 0, hitRate: 0.5 },
  { route: 'about', hit: 1, stale: 0, miss: 1, revalidated: 0, bypass: 0, hitRate: 0.5 },
  { route: 'default', hit: 0, stale: 0, miss: 1, revalidated: 0, bypass: 0, hitRate: 0 },
]

describe('hit ratio per route behind app-wide middleware', () => {
  it('Express: cache.middleware() in front, cache.route({ name }) behind', async () => {
    const cache = expressCache.responseCache({ ttl: '1m' })
    const app = express()
    app.use(cache.middleware())
    app.get(
      '/users/:id',
      cache.route({ name: 'user', tags: (req) => [`user:${req.params.id}`] }),
      (req, res) => res.json({ id: req.params.id })
    )
    app.get('/about', cache.route({ name: 'about' }), (_req, res) => res.send('about'))
    app.get('/plain', (_req, res) => res.send('plain'))
    const { url } = await listen(app)
    await traffic(url, () => cache.whenIdle())
    expect(cache.engine.observer.stats().routes).toEqual(EXPECTED)
    await cache.close()
  })

  it('Koa: cache.middleware() in front, cache.route({ name }) on the router', async () => {
    const cache = koaCache.responseCache({ ttl: '1m' })
    const app = new Koa()
    const router = new Router()
    router.get(
      '/users/:id',
      cache.route({ name: 'user', tags: (ctx) => [`user:${String(ctx.params['id'])}`] }),
      (ctx) => {
        ctx.body = { id: ctx.params['id'] }
      }
    )
    router.get('/about', cache.route({ name: 'about' }), (ctx) => {
      ctx.body = 'about'
    })
    router.get('/plain', (ctx) => {
      ctx.body = 'plain'
    })
    app.use(cache.middleware())
    app.use(router.routes())
    const { url } = await listen(app)
    await traffic(url, () => cache.whenIdle())
    expect(cache.engine.observer.stats().routes).toEqual(EXPECTED)
    await cache.close()
  })
})

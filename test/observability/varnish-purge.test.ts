/**
 * CDN integration against a real Varnish (Debian's varnish 7.x, no vmods) on loopback in front of
 * an Express app: cachewire tells Varnish the tags (Surrogate-Key) and how long to keep objects
 * (CDN-Cache-Control), and its purge hook bans / purges them at Varnish when cachewire
 * invalidates. "Miss at Varnish" is read from Varnish's own headers: X-Varnish carries one
 * transaction id on a miss and two on a hit, and our VCL adds X-Cache.
 */
import express from 'express'
import { beforeAll, describe, expect, it } from 'vitest'
import { cacheMiddleware, varnishPurger } from '@cachewire/express'
import { listen, request, type Listening, type TestResponse } from '../helpers/servers.js'
import { startVarnish, type RunningVarnish } from '../helpers/varnish.js'
import { describeWithBinary, VARNISHD } from '../setup/binaries.js'

function varnishHit(response: TestResponse): boolean {
  const ids = String(response.headers['x-varnish'] ?? '')
    .trim()
    .split(/\s+/)
  const hit = ids.length === 2
  // Our VCL says the same thing in words; the two must agree.
  expect(response.headers['x-cache']).toBe(hit ? 'HIT' : 'MISS')
  return hit
}

describeWithBinary(VARNISHD, 'Varnish in front of an Express app with cachewire', (varnishd) => {
  let varnish: RunningVarnish
  let app: Listening
  let cache: ReturnType<typeof cacheMiddleware>
  const runs = new Map<string, number>()
  const errors: Error[] = []

  beforeAll(async () => {
    // The purger needs Varnish's address, Varnish needs the app's: listen first, start Varnish,
    // then build the middleware the app's first request will use.
    const web = express()
    web.set('etag', false)
    web.use((req, res, next) => cache(req, res, next))
    web.get('/products/:id', (req, res) => {
      runs.set(req.path, (runs.get(req.path) ?? 0) + 1)
      res
        .set('surrogate-key', `products product-${req.params.id}`)
        .json({ id: req.params.id, run: runs.get(req.path) })
    })
    web.get('/about', (req, res) => {
      runs.set(req.path, (runs.get(req.path) ?? 0) + 1)
      res
        .set('surrogate-key', 'pages')
        .type('text/plain')
        .send(`about, run ${runs.get(req.path)}`)
    })
    web.post('/products/:id', (_req, res) => {
      res.status(204).end()
    })
    app = await listen(web)
    varnish = await startVarnish(varnishd, app.port)
    cache = cacheMiddleware({
      ttl: '10m',
      cdn: {
        surrogateKeys: true,
        cdnCacheControl: { maxAge: '10m' },
        purgeHooks: [varnishPurger({ url: varnish.url })],
      },
      observability: { onError: (error) => errors.push(error) },
    })
  })

  it('caches the app through Varnish, which sees the tags and the CDN lifetime', async () => {
    const first = await request(`${varnish.url}/products/1`)
    expect(first.status).toBe(200)
    expect(varnishHit(first)).toBe(false)
    // Varnish keeps the tags on the object and strips them from what clients see.
    expect(first.headers['surrogate-key']).toBeUndefined()
    expect(first.headers['cdn-cache-control']).toBe('max-age=600')
    // Straight to the app, with the Host Varnish passes on: cachewire's own hit carries them.
    const direct = await request(`${app.url}/products/1`, {
      headers: { host: `127.0.0.1:${varnish.port}` },
    })
    expect(direct.headers['cache-status']).toMatch(/; hit/)
    expect(direct.headers['surrogate-key']).toBe('products product-1')
    expect(direct.headers['cdn-cache-control']).toBe('max-age=600')
    const second = await request(`${varnish.url}/products/1`)
    expect(varnishHit(second)).toBe(true)
    expect(second.headers['age']).toBeDefined()
    expect(JSON.parse(second.text)).toEqual({ id: '1', run: 1 })
    expect(runs.get('/products/1')).toBe(1)
    expect(errors).toEqual([])
  })

  it('removes the objects from Varnish when cachewire invalidates their tag', async () => {
    for (const path of ['/products/2', '/products/3', '/about']) {
      await request(`${varnish.url}${path}`)
      await cache.whenIdle()
      expect(varnishHit(await request(`${varnish.url}${path}`)), path).toBe(true)
    }
    const { status, removed } = await cache.invalidateTags(['products'])
    expect(status).toBe('applied')
    expect(removed).toBeGreaterThanOrEqual(2) // cachewire's own entries for /products/2 and /3

    const after = await request(`${varnish.url}/products/2`)
    expect(varnishHit(after)).toBe(false)
    // And cachewire's copy went too: the handler ran again.
    expect(JSON.parse(after.text)).toEqual({ id: '2', run: 2 })
    expect(varnishHit(await request(`${varnish.url}/products/3`))).toBe(false)
    // Another tag, untouched.
    expect(varnishHit(await request(`${varnish.url}/about`))).toBe(true)
    expect(errors).toEqual([])
  })

  it('bans only the tag named, not tags it is a prefix or suffix of', async () => {
    await request(`${varnish.url}/products/10`)
    await request(`${varnish.url}/products/1`)
    await cache.whenIdle()
    expect(varnishHit(await request(`${varnish.url}/products/10`))).toBe(true)
    await cache.invalidateTags(['product-1'])
    expect(varnishHit(await request(`${varnish.url}/products/1`))).toBe(false)
    expect(varnishHit(await request(`${varnish.url}/products/10`))).toBe(true)
  })

  it('purges a URL at Varnish on purgeUrl', async () => {
    await request(`${varnish.url}/about`)
    expect(varnishHit(await request(`${varnish.url}/about`))).toBe(true)
    // The host the app (and Varnish's hash) saw: Varnish passes the client's Host through.
    expect(await cache.purgeUrl('/about', `127.0.0.1:${varnish.port}`)).toEqual({
      status: 'applied',
      removed: 1,
    })
    const after = await request(`${varnish.url}/about`)
    expect(varnishHit(after)).toBe(false)
    expect(after.text).toMatch(/^about, run \d+$/)
  })

  it('purges a URL at Varnish when an unsafe request through it succeeds', async () => {
    await request(`${varnish.url}/products/5`)
    await cache.whenIdle()
    expect(varnishHit(await request(`${varnish.url}/products/5`))).toBe(true)
    const post = await request(`${varnish.url}/products/5`, { method: 'POST' })
    expect(post.status).toBe(204)
    const after = await request(`${varnish.url}/products/5`)
    expect(varnishHit(after)).toBe(false)
    expect(JSON.parse(after.text)).toEqual({ id: '5', run: 2 })
    expect(errors).toEqual([])
  })
})

describe('a purge hook that fails', () => {
  it('is reported through onError and never fails the invalidation or a request', async () => {
    const errors: Error[] = []
    // Nothing listens on port 9 (discard) on loopback: the BAN is refused.
    const middleware = cacheMiddleware({
      ttl: '1m',
      cdn: {
        purgeHooks: [
          varnishPurger({ url: 'http://127.0.0.1:9', timeout: 500 }),
          {
            name: 'throws',
            purge: () => {
              throw new Error('boom')
            },
          },
        ],
      },
      observability: { onError: (error) => errors.push(error) },
    })
    const app = express()
    app.use(middleware)
    app.get('/a', (_req, res) => res.set('surrogate-key', 'a').send('a'))
    app.post('/a', (_req, res) => res.send('done'))
    const { url } = await listen(app)
    await request(`${url}/a`)
    await middleware.whenIdle()
    expect(await middleware.invalidateTags(['a'])).toEqual({ status: 'applied', removed: 1 })
    const post = await request(`${url}/a`, { method: 'POST' })
    expect(post.status).toBe(200)
    expect(post.text).toBe('done')
    expect((await request(`${url}/a`)).status).toBe(200)
    const messages = errors.map((error) => error.message)
    expect(messages.filter((m) => m.startsWith('purge hook varnish failed:'))).toHaveLength(2)
    expect(messages.filter((m) => m === 'purge hook throws failed: boom')).toHaveLength(2)
    expect(errors.every((error) => error.cause !== undefined)).toBe(true)
  })
})

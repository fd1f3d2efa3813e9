import { Cache, MemoryStore } from '@cachewire/core'
import { describe, expect, it } from 'vitest'
import { hashKey, primaryKey } from '../src/request/cache-key.js'
import { resolveRoutePolicy } from '../src/options/resolve-route.js'
import type { HttpRequest } from '../src/types.js'
import { setup } from './harness.js'

const KEY_A = primaryKey({
  scheme: 'https',
  authority: 'example.com',
  path: '/a',
  query: '',
  extra: [],
})

describe('engine: invalidation (RFC 9111 §4.4) and tags', () => {
  it('a successful unsafe method invalidates its URL, and Location / Content-Location on the same host', async () => {
    const t = setup()
    await t.send({ url: '/a' })
    await t.send({ url: '/items/7' })
    await t.send({ url: '/other' })
    t.setApp(() => ({
      status: 201,
      headers: { location: '/items/7', 'content-location': 'https://evil.com/other' },
    }))
    const post = await t.send({ method: 'POST', url: '/a' })
    expect(post.outcome).toMatchObject({ kind: 'bypass', reason: 'method' })
    expect(post.header('cache-status')).toBe('cachewire; fwd=method; fwd-status=201')
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60' }, body: 'x' }))
    expect((await t.send({ url: '/a' })).outcome.kind).toBe('miss')
    expect((await t.send({ url: '/items/7' })).outcome.kind).toBe('miss')
    expect((await t.send({ url: '/other' })).outcome.kind).toBe('hit')
  })

  it('invalidates every variant and scheme of the URL', async () => {
    const t = setup()
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60', vary: 'accept' }, body: 'x' }))
    await t.send({ headers: { accept: 'a' } })
    await t.send({ headers: { accept: 'b' } })
    await t.send({ protocol: 'http' })
    t.setApp(() => ({ status: 204 }))
    await t.send({ method: 'DELETE' })
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60', vary: 'accept' }, body: 'x' }))
    expect((await t.send({ headers: { accept: 'a' } })).outcome.kind).toBe('miss')
    expect((await t.send({ headers: { accept: 'b' } })).outcome.kind).toBe('miss')
    expect((await t.send({ protocol: 'http' })).outcome.kind).toBe('miss')
  })

  it('an unsafe method that fails invalidates nothing', async () => {
    const t = setup()
    await t.send()
    t.setApp(() => ({ status: 500 }))
    await t.send({ method: 'PUT' })
    expect((await t.send()).outcome.kind).toBe('hit')
  })

  it('tags come from the Surrogate-Key field (stripped before the response leaves), options and the route', async () => {
    const t = setup({ tags: ['site'] })
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=60', 'surrogate-key': 'product-1  list' },
      body: 'x',
    }))
    const route = resolveRoutePolicy({ tags: (request: HttpRequest) => [`path:${request.url}`] })
    const miss = await t.send({ route })
    expect(miss.header('surrogate-key')).toBeUndefined()
    const hit = await t.send({ route })
    expect(hit.header('surrogate-key')).toBeUndefined()
    for (const tag of ['product-1', 'list', 'site', 'path:/a']) {
      await t.send({ route })
      expect((await t.engine.invalidateTags([tag])).removed).toBeGreaterThan(0)
      expect((await t.send({ route })).outcome.kind).toBe('miss')
    }
  })

  it('the surrogate-key field name is configurable', async () => {
    const t = setup({ cdn: { surrogateKeyHeader: 'X-Tags' } })
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=60', 'x-tags': 'a' }, body: 'x' }))
    const miss = await t.send()
    expect(miss.header('x-tags')).toBeUndefined()
    await t.engine.invalidateTags(['a'])
    expect((await t.send()).outcome.kind).toBe('miss')
  })

  it('purgeUrl removes a URL given as an absolute URL or a path and host', async () => {
    const t = setup()
    await t.send({ url: '/p?b=2&a=1' })
    expect(await t.engine.purgeUrl('https://example.com/p?a=1&b=2')).toEqual({
      status: 'applied',
      removed: 1,
    })
    expect((await t.send({ url: '/p?b=2&a=1' })).outcome.kind).toBe('miss')
    expect(await t.engine.purgeUrl('/p?a=1&b=2', 'EXAMPLE.com')).toEqual({
      status: 'applied',
      removed: 1,
    })
    await expect(t.engine.purgeUrl('/p')).rejects.toThrow(/host/)
  })
})

describe('engine: faults never break a request (DESIGN rule 3)', () => {
  it('a corrupt entry is a miss and is deleted', async () => {
    const t = setup()
    const hash = hashKey(KEY_A)
    await t.engine.cache.set(hash, Buffer.from('garbage'), { ttl: 60_000 })
    const result = await t.send()
    expect(result.outcome.kind).toBe('miss')
    expect(t.errors[0]?.name).toBe('DecodeError')
    expect(t.errors[0]?.message).not.toContain('/a')
    // The miss stored a good entry in its place.
    expect((await t.send()).outcome.kind).toBe('hit')
  })

  it('a corrupt value with no replacement is deleted', async () => {
    const t = setup()
    const hash = hashKey(KEY_A)
    await t.engine.cache.set(hash, Buffer.from('garbage'), { ttl: 60_000 })
    t.setApp(() => ({ headers: { 'cache-control': 'no-store' } }))
    await t.send()
    expect(await t.engine.cache.has(hash)).toBe(false)
  })

  it("an entry whose full key differs from the request's is a miss", async () => {
    const t = setup()
    await t.send({ url: '/b' })
    const stored = await t.engine.cache.get<Buffer>(
      hashKey(
        primaryKey({ scheme: 'https', authority: 'example.com', path: '/b', query: '', extra: [] })
      )
    )
    await t.engine.cache.set(hashKey(KEY_A), Buffer.from(stored as Buffer), { ttl: 60_000 })
    const result = await t.send({ url: '/a' })
    expect(result.outcome.kind).toBe('miss')
  })

  it('a store that fails turns every request into a miss, never an error', async () => {
    const broken = new MemoryStore()
    broken.get = () => Promise.reject(new Error('store down'))
    broken.set = () => Promise.reject(new Error('store down'))
    const cache = new Cache({ store: broken, breaker: false })
    cache.on('error', () => {})
    const t = setup({ storage: { cache } })
    expect((await t.send()).outcome.kind).toBe('miss')
    expect((await t.send()).outcome.kind).toBe('miss')
  })

  it('an entry expired by the injected clock is not served even if the store still holds it', async () => {
    const t = setup({ etag: false })
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=10' }, body: 'x' }))
    await t.send()
    t.advance(10_001)
    expect((await t.send()).outcome.kind).toBe('miss')
  })
})

describe('engine: Cache-Status (RFC 9211)', () => {
  it('appends to an upstream Cache-Status on misses and hits', async () => {
    const t = setup()
    t.setApp(() => ({
      headers: { 'cache-control': 'max-age=60', 'cache-status': 'Origin; hit' },
      body: 'x',
    }))
    expect((await t.send()).header('cache-status')).toBe(
      'Origin; hit, cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60'
    )
    expect((await t.send()).header('cache-status')).toBe('Origin; hit, cachewire; hit; ttl=60')
  })

  it('uses the configured name, adds detail only in debug mode, never the key', async () => {
    const t = setup({ observability: { cacheStatusName: 'edge' } })
    const miss = await t.send({ url: '/secret-path?token=abc', headers: { cookie: 'a' } })
    expect(miss.header('cache-status')).toBe('edge; fwd=bypass; fwd-status=200')
    const d = setup({ observability: { debug: true } })
    const all = [
      await d.send({ url: '/secret-path?token=abc' }),
      await d.send({ url: '/secret-path?token=abc' }),
    ]
    for (const result of all) {
      expect(result.header('cache-status')).not.toMatch(/secret|token|abc|example/)
    }
  })

  it('reports the collapsed, stored and ttl parameters as documented', async () => {
    const t = setup()
    t.setApp(() => ({ headers: { 'cache-control': 'max-age=30', age: '10' }, body: 'x' }))
    expect((await t.send()).header('cache-status')).toBe(
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=20'
    )
    expect((await t.send()).header('age')).toBe('10')
  })
})

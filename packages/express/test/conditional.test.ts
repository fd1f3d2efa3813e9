import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { cacheMiddleware, conditional, InvalidOptionError, MemoryStore } from '../src/index.js'
import { EXPRESS_VERSIONS, listen, request, settle } from './helpers.js'

describe.each(EXPRESS_VERSIONS)('conditional on $express', ({ create }) => {
  async function serve() {
    const app = create()
    app.use(conditional())
    app.get('/json', (_req, res) => void res.json({ a: 1 }))
    app.get('/stream', (_req, res) => {
      res.type('text/plain')
      Readable.from(['x', 'y']).pipe(res)
    })
    app.get(
      '/dated',
      (_req, res) =>
        void res.set('last-modified', new Date(Date.now() - 60_000).toUTCString()).end('dated')
    )
    app.get('/created', (_req, res) => void res.status(201).end('made'))
    app.get('/error', (_req, res) => void res.status(500).end('fail'))
    return listen(app)
  }

  it('gives a strong ETag (upgrading Express’s weak one) and answers a match with a 304', async () => {
    const { url } = await serve()
    const first = await request(url, '/json')
    const etag = first.headers.etag as string
    expect(etag).toMatch(/^"[^"]+"$/)
    const again = await request(url, '/json', { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(again.raw.length).toBe(0)
    expect(again.headers['content-type']).toBeUndefined()
    expect(again.headers.etag).toBe(etag)
  })

  it('hashes streamed bodies too', async () => {
    const { url } = await serve()
    const first = await request(url, '/stream')
    expect(first.text).toBe('xy')
    const etag = first.headers.etag as string
    expect(etag).toMatch(/^"2-/)
    expect(
      (await request(url, '/stream', { headers: { 'if-none-match': `W/${etag}, "other"` } })).status
    ).toBe(304)
    expect(
      (await request(url, '/stream', { headers: { 'if-none-match': '"other"' } })).status
    ).toBe(200)
  })

  it('answers If-Modified-Since from the handler’s Last-Modified', async () => {
    const { url } = await serve()
    expect(
      (await request(url, '/dated', { headers: { 'if-modified-since': new Date().toUTCString() } }))
        .status
    ).toBe(304)
    const old = await request(url, '/dated', {
      headers: { 'if-modified-since': new Date(Date.now() - 3_600_000).toUTCString() },
    })
    expect(old.status).toBe(200)
    expect(old.text).toBe('dated')
  })

  it('leaves non-2xx responses alone', async () => {
    const { url } = await serve()
    const failed = await request(url, '/error', { headers: { 'if-none-match': '*' } })
    expect(failed.status).toBe(500)
    expect(failed.headers.etag).toBeUndefined()
  })

  it('streams a body over maxBodyBytes through without an ETag', async () => {
    const app = create()
    app.use(conditional({ maxBodyBytes: 4 }))
    app.get('/big', (_req, res) => {
      res.write('12345')
      res.write('678')
      res.end('9')
    })
    const { url } = await listen(app)
    const reply = await request(url, '/big')
    expect(reply.text).toBe('123456789')
    expect(reply.headers.etag).toBeUndefined()
  })

  it('a file over maxBodyBytes still gets a 304 on the validators res.sendFile set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cachewire-conditional-'))
    const file = join(dir, 'big.txt')
    writeFileSync(file, 'z'.repeat(10_000))
    const app = create()
    app.use(conditional({ maxBodyBytes: 100 }))
    app.get('/file', (_req, res) => void res.sendFile(file))
    const { url } = await listen(app)
    const first = await request(url, '/file')
    expect(first.text.length).toBe(10_000)
    const etag = first.headers.etag as string
    expect(etag).toBeDefined()
    const again = await request(url, '/file', { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(again.raw.length).toBe(0)
  })

  it('in front of the server cache: hits get 304s too', async () => {
    const app = create()
    let calls = 0
    const cache = cacheMiddleware({ storage: { store: new MemoryStore() }, ttl: '1m' })
    app.use(conditional(), cache)
    app.get('/c', (_req, res) => {
      calls++
      res.type('text/plain').end('cached body')
    })
    const { url } = await listen(app)
    const first = await request(url, '/c')
    await settle(cache)
    const etag = first.headers.etag as string
    const hit = await request(url, '/c', { headers: { 'if-none-match': etag } })
    expect(hit.status).toBe(304)
    expect(calls).toBe(1)
  })
})

describe('conditional options', () => {
  it('throws InvalidOptionError naming the option', () => {
    expect(() => conditional({ etag: 'medium' as never })).toThrow(InvalidOptionError)
    expect(() => conditional({ maxBodyBytes: -1 })).toThrow(/options\.maxBodyBytes/)
  })
})

import { describe, expect, it } from 'vitest'
import { listen, rawRequest, request } from './servers.js'

/** Echoes what the server received, so tests can see what went over the wire. */
const echo = (
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse
) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    res.setHeader('content-type', 'application/json')
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        host: req.headers.host ?? null,
        body: Buffer.concat(chunks).toString(),
      })
    )
  })
}

describe('listen(app) + request(url, options)', () => {
  it('serves a raw node handler on 127.0.0.1 and sends the path verbatim', async () => {
    const { url } = await listen(echo)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await request(`${url}/a/..%2Fb/../c?x=1&x=2`)
    expect(res.status).toBe(200)
    expect(JSON.parse(res.text)).toMatchObject({ url: '/a/..%2Fb/../c?x=1&x=2' })
  })

  it('sends a chosen Host, an absolute-form target, a method and a body', async () => {
    const { url } = await listen(echo)
    const res = await request(url, {
      method: 'POST',
      target: 'http://evil.example/x',
      headers: { host: 'evil.example' },
      body: 'hi',
    })
    expect(JSON.parse(res.text)).toEqual({
      method: 'POST',
      url: 'http://evil.example/x',
      host: 'evil.example',
      body: 'hi',
    })
  })

  it('serves an Express app and a Koa app', async () => {
    const express = (await import('express')).default
    const Koa = (await import('koa')).default
    const expressApp = express().get('/', (_req, res) => {
      res.send('express')
    })
    const koaApp = new Koa().use((ctx) => {
      ctx.body = 'koa'
    })
    expect((await request((await listen(expressApp)).url)).text).toBe('express')
    expect((await request((await listen(koaApp)).url)).text).toBe('koa')
  })

  it('close() ends keep-alive sockets too, and can be called twice', async () => {
    let answered = (): void => {}
    const answeredOnce = new Promise<void>((resolve) => (answered = resolve))
    const server = await listen((_req, res) => {
      res.end('ok')
      res.on('finish', answered)
    })
    const raw = rawRequest(server.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { halfClose: false })
    // The socket is open and idle (keep-alive) once the answer is out; a fixed 50 ms wait was
    // not always enough for the request to arrive at load 12+.
    await answeredOnce
    await Promise.all([server.close(), server.close()])
    const res = await raw
    expect(res.status).toBe(200)
    expect(res.timedOut).toBe(false)
  })
})

describe('rawRequest(port, rawText)', () => {
  it('sends malformed HTTP and returns what the server answered', async () => {
    const { port } = await listen(echo)
    const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n')
    expect(res.status).toBe(400)
  })

  it('gets a full answer from a keep-alive server by half-closing', async () => {
    const { port } = await listen(echo)
    const res = await rawRequest(port, 'GET /x HTTP/1.1\r\nHost: h\r\n\r\n')
    expect(res.status).toBe(200)
    expect(res.text).toContain('"url":"/x"')
  })
})

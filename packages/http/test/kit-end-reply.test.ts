import { randomBytes } from 'node:crypto'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PreparedWire } from '../src/flows/wire-lines.js'
import { endReply } from '../src/kit/front-door.js'

/** Every byte value, four times: what a text encoding would change if one were involved. */
const EVERY_BYTE = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256))
/** Past the size sent as a string: the Buffer itself goes out. */
const LARGE = randomBytes(64 * 1024)
const BODIES: Record<string, Buffer> = {
  '/every-byte': EVERY_BYTE,
  '/large': LARGE,
  '/empty': Buffer.alloc(0),
  '/held': EVERY_BYTE,
  '/held-for-another': Buffer.from('not the held one'),
}

/** Shared lines of a busy entry, holding the text of EVERY_BYTE (see `holdBodyText`). */
const HELD = new PreparedWire([], false, undefined, false, true)
HELD.keepBodyText(EVERY_BYTE)

let server: Server
let base: string
const sockets = new Set<Socket>()

beforeAll(async () => {
  server = createServer((req, res) => {
    const [path, query] = (req.url ?? '/').split('?')
    const body = BODIES[path as string] ?? Buffer.alloc(0)
    // `?chunked`: no Content-Length, so Node frames the body in chunks it sizes itself.
    res.writeHead(
      200,
      query === 'chunked'
        ? { 'content-type': 'application/octet-stream' }
        : { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }
    )
    endReply(res, body, path === '/held' || path === '/held-for-another' ? HELD : undefined)
  })
  server.on('connection', (socket: Socket) => sockets.add(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => server.close(resolve))
})

function get(
  path: string,
  method = 'GET',
  agent: import('node:http').Agent | false = false
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(`${base}${path}`, { method, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })
      )
      res.on('error', reject)
    })
      .on('error', reject)
      .end()
  })
}

describe('endReply', () => {
  it('sends a small body byte for byte, every byte value included', async () => {
    const reply = await get('/every-byte')
    expect(reply.headers['content-length']).toBe('1024')
    expect(reply.body.equals(EVERY_BYTE)).toBe(true)
  })

  it("sends the text a busy entry's lines hold, and only for the body it was made of", async () => {
    const held = await get('/held')
    expect(held.body.equals(EVERY_BYTE)).toBe(true)
    const other = await get('/held-for-another')
    expect(other.body.toString()).toBe('not the held one')
  })

  it('sends a large body byte for byte', async () => {
    const reply = await get('/large')
    expect(reply.body.equals(LARGE)).toBe(true)
  })

  it('frames a body it sizes itself by bytes, without a Content-Length', async () => {
    for (const path of ['/every-byte?chunked', '/large?chunked']) {
      const reply = await get(path)
      expect(reply.headers['transfer-encoding']).toBe('chunked')
      expect(reply.body.equals(BODIES[path.split('?')[0] as string] as Buffer)).toBe(true)
    }
  })

  it('keeps the connection usable: replies in a row on one keep-alive socket', async () => {
    const { Agent } = await import('node:http')
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      for (const path of ['/every-byte', '/large', '/empty', '/every-byte']) {
        const reply = await get(path, 'GET', agent)
        expect(reply.body.equals(BODIES[path] as Buffer)).toBe(true)
      }
    } finally {
      agent.destroy()
    }
  })

  it('sends no body for HEAD and an empty body as none, with the length set in the head', async () => {
    const head = await get('/every-byte', 'HEAD')
    expect(head.headers['content-length']).toBe('1024')
    expect(head.body.length).toBe(0)
    const empty = await get('/empty')
    expect(empty.headers['content-length']).toBe('0')
    expect(empty.body.length).toBe(0)
  })
})

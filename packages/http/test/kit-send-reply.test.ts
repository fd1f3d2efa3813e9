import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { analyseResponse, buildStoredResponse } from '../src/entry/entry.js'
import { serveStored } from '../src/flows/serve-stored.js'
import { PreparedWire, wireLines } from '../src/flows/wire-lines.js'
import { sendReply, writeReply } from '../src/kit/front-door.js'
import type { HeaderPair, HeaderPairs, ReplyOutcome } from '../src/types.js'
import { PLAIN_POLICY } from './harness.js'

/** What a reader watching the response finish sees through Node's header API. */
interface SeenAtFinish {
  names: string[]
  rawNames: string[]
  all: Record<string, unknown>
  cacheStatus: unknown
  link: unknown
  hasEtag: boolean
  hasCookie: boolean
}

const servers: http.Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))))
})

/**
 * A real server whose every response is `sendReply(res, reply)` after `before` ran on it; answers
 * what the client got (raw header lines, body) and what `finish` listeners read.
 */
async function exchange(
  headers: HeaderPairs | (() => ReplyOutcome),
  options: {
    method?: string
    before?: (res: http.ServerResponse) => void
    send?: (res: http.ServerResponse, reply: ReplyOutcome) => void
  } = {}
) {
  const seen: SeenAtFinish[] = []
  const server = http.createServer((_req, res) => {
    options.before?.(res)
    res.on('finish', () =>
      seen.push({
        names: res.getHeaderNames(),
        rawNames: (res as unknown as { getRawHeaderNames(): string[] }).getRawHeaderNames(),
        all: { ...res.getHeaders() },
        cacheStatus: res.getHeader('Cache-Status'),
        link: res.getHeader('link'),
        hasEtag: res.hasHeader('ETag'),
        hasCookie: res.hasHeader('set-cookie'),
      })
    )
    const reply =
      typeof headers === 'function'
        ? headers()
        : { kind: 'response' as const, status: 200, headers, body: Buffer.from('hello') }
    ;(options.send ?? sendReply)(res, reply)
  })
  servers.push(server)
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  const { port } = server.address() as AddressInfo
  const got = await new Promise<{ rawHeaders: string[]; body: string }>((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: '/' },
      (response) => {
        let body = ''
        response.setEncoding('latin1')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () => resolve({ rawHeaders: response.rawHeaders, body }))
      }
    )
    request.on('error', reject)
    request.end()
  })
  // `finish` runs once the last byte is handed to the socket, which may be after the client read it.
  while (seen.length === 0) await new Promise((tick) => setImmediate(tick))
  return { ...got, seen: seen[0] as SeenAtFinish }
}

function lines(rawHeaders: string[]): [string, string][] {
  const pairs: [string, string][] = []
  for (let i = 0; i < rawHeaders.length; i += 2)
    pairs.push([rawHeaders[i] as string, rawHeaders[i + 1] as string])
  return pairs.filter(([name]) => !['Date', 'Connection', 'Keep-Alive'].includes(name))
}

const REPLY: HeaderPairs = [
  ['content-type', 'text/plain'],
  ['content-length', '5'],
  ['etag', '"v1"'],
  ['link', '</a.css>; rel=preload'],
  ['link', '</b.js>; rel=preload'],
  ['cache-status', 'cachewire; hit'],
]

describe('sendReply', () => {
  it('on a response nothing was set on: sends the lines as they are, and the header API reads each', async () => {
    const setHeader = vi.spyOn(http.OutgoingMessage.prototype, 'setHeader')
    const { rawHeaders, body, seen } = await exchange(REPLY)
    // Given to Node whole with the head, not line by line.
    expect(setHeader.mock.contexts.filter((on) => on instanceof http.ServerResponse)).toEqual([])
    setHeader.mockRestore()
    expect(lines(rawHeaders)).toEqual(REPLY)
    expect(body).toBe('hello')
    expect(seen.names).toEqual(['content-type', 'content-length', 'etag', 'link', 'cache-status'])
    expect(seen.rawNames).toEqual([
      'content-type',
      'content-length',
      'etag',
      'link',
      'cache-status',
    ])
    expect(seen.cacheStatus).toBe('cachewire; hit')
    expect(seen.link).toEqual(['</a.css>; rel=preload', '</b.js>; rel=preload'])
    expect(seen.all['content-length']).toBe('5')
    expect([seen.hasEtag, seen.hasCookie]).toEqual([true, false])
  })

  it('keeps what was set before unless the reply has the name, and the header API reads both', async () => {
    const { rawHeaders, seen } = await exchange(REPLY, {
      before: (res) => {
        res.setHeader('x-request-id', '7')
        res.setHeader('etag', '"old"')
      },
    })
    const sent = lines(rawHeaders)
    expect(sent).toContainEqual(['x-request-id', '7'])
    expect(sent.filter(([name]) => name === 'etag')).toEqual([['etag', '"v1"']])
    expect(sent.filter(([name]) => name === 'link')).toHaveLength(2)
    expect(seen.names).toContain('x-request-id')
    expect(seen.cacheStatus).toBe('cachewire; hit')
  })

  it('on a response whose head is watched, sends every line through setHeader', async () => {
    // As on-headers before 1.1 (under morgan, compression, response-time) wraps `writeHead`: it
    // applies header arguments itself, reading an array as pairs, and passes on the status alone.
    const watched: number[] = []
    const { rawHeaders, seen } = await exchange(REPLY, {
      before: (res) => {
        const writeHead = res.writeHead
        res.writeHead = function (this: http.ServerResponse, status: number) {
          watched.push(this.getHeaderNames().length)
          return writeHead.call(this, status)
        } as typeof res.writeHead
      },
    })
    expect(lines(rawHeaders)).toEqual(REPLY)
    expect(watched).toEqual([5])
    expect(seen.link).toEqual(['</a.css>; rel=preload', '</b.js>; rel=preload'])
  })

  it('answers a HEAD with the head alone, Content-Length the stored one', async () => {
    const { rawHeaders, body, seen } = await exchange(REPLY, { method: 'HEAD' })
    expect(body).toBe('')
    expect(lines(rawHeaders)).toContainEqual(['content-length', '5'])
    expect(seen.all['content-length']).toBe('5')
  })

  it('refuses a line Node would refuse from setHeader, with nothing sent and nothing recorded', async () => {
    const res = new http.ServerResponse(new http.IncomingMessage(null as never))
    expect(() =>
      sendReply(res, {
        kind: 'response',
        status: 200,
        headers: [['x-bad', 'a\r\nset-cookie: b=c']],
        body: Buffer.from('x'),
      })
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CHAR' }))
    expect(res.headersSent).toBe(false)
    expect(res.getHeaderNames()).toEqual([])
  })
})

const NOW = Date.now()
const POLICY = PLAIN_POLICY

/** A stored entry as the engine keeps it, with `extra` lines put in as bytes from a store could hold them. */
function entryWith(extra: HeaderPair[] = []) {
  const pairs: HeaderPair[] = [
    ['content-type', 'text/plain'],
    ['cache-control', 'max-age=60'],
    ['link', '</a.css>; rel=preload'],
    ['link', '</b.js>; rel=preload'],
  ]
  const entry = storedEntry(pairs)
  ;(entry.headers as HeaderPair[]).push(...extra)
  return entry
}

/** The entry the engine stores for a 200 with `pairs` and the body `hello`. */
function storedEntry(pairs: HeaderPair[]) {
  return buildStoredResponse(
    {
      key: 'k',
      status: 200,
      pairs,
      body: Buffer.from('hello'),
      facts: analyseResponse(pairs, POLICY, NOW, 200),
      requestTime: NOW,
      responseTime: NOW,
      tags: [],
    },
    POLICY
  )
}

/** An entry whose names are distinct, with the origin's Date line among them. */
function distinctEntry() {
  return storedEntry([
    ['content-type', 'text/plain'],
    ['date', new Date(NOW).toUTCString()],
    ['cache-control', 'max-age=60'],
    ['x-origin', 'one'],
    ['x-trace', 'two'],
  ])
}

/** A hit whose lines the entry's hits share (served often enough within the second). */
function sharedHit(entry: ReturnType<typeof distinctEntry>): ReplyOutcome {
  for (let i = 0; i < 16; i++) hit(entry)
  const reply = hit(entry)
  const wire = wireLines(reply.headers)
  // The packed record applies: shared lines that passed Node's checks, no name twice.
  expect(wire).toBeInstanceOf(PreparedWire)
  expect((wire as PreparedWire).headRecord).not.toBe(wire.record)
  return reply
}

/** The raw response to a request written by hand (`request`), once the server closes the socket. */
async function rawExchange(send: (res: http.ServerResponse) => void, request: string) {
  const server = http.createServer((_req, res) => send(res))
  servers.push(server)
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  const { port } = server.address() as AddressInfo
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(request))
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
  })
}

const hit = (entry: ReturnType<typeof entryWith>): ReplyOutcome =>
  serveStored(entry, { method: 'GET', headers: {} }, NOW, 'cachewire; hit', 'hit')

describe.each([
  ['sendReply', sendReply],
  ['writeReply (the front door)', writeReply],
])('%s, a full response from an entry', (_name, send) => {
  it('gives Node the lines as headers set on the response, and the head is written from them', async () => {
    const writeHead = vi.spyOn(http.ServerResponse.prototype, 'writeHead')
    const setHeader = vi.spyOn(http.OutgoingMessage.prototype, 'setHeader')
    const entry = entryWith()
    const { rawHeaders, body, seen } = await exchange(() => hit(entry), { send })
    // Responses on a connection: the front door tries packed heads once on one never sent.
    const onResponses = <T>(mock: { contexts: unknown[]; calls: T[] }) =>
      mock.calls.filter((_call, i) => {
        const res = mock.contexts[i]
        return res instanceof http.ServerResponse && res.req.socket !== null
      })
    // The status alone: Node writes the head from its record of set headers, which it does not
    // check again, and no line went through setHeader.
    expect(onResponses(writeHead.mock)).toEqual([[200]])
    expect(onResponses(setHeader.mock)).toEqual([])
    writeHead.mockRestore()
    setHeader.mockRestore()
    expect(lines(rawHeaders)).toEqual(hit(entry).headers)
    expect(body).toBe('hello')
    expect(seen.link).toEqual(['</a.css>; rel=preload', '</b.js>; rel=preload'])
    expect(seen.cacheStatus).toBe('cachewire; hit')
  })

  it('writes the same head from the packed record of shared lines, and the header API reads each line', async () => {
    const entry = distinctEntry()
    const reply = sharedHit(entry)
    const { rawHeaders, body, seen } = await exchange(() => reply, { send })
    // Line for line, in order, the origin's Date among them and no Date of Node's own.
    expect(lines(rawHeaders)).toEqual(reply.headers)
    expect(rawHeaders.filter((name) => name.toLowerCase() === 'date')).toEqual(['date'])
    expect(rawHeaders).toContain('keep-alive')
    expect(body).toBe('hello')
    expect(seen.names).toEqual(reply.headers.map(([name]) => name))
    expect(seen.rawNames).toEqual(reply.headers.map(([name]) => name))
    expect(seen.all).toEqual(Object.fromEntries(reply.headers))
    expect(seen.cacheStatus).toBe('cachewire; hit')
    expect(seen.hasEtag).toBe(true)

    const head = await exchange(() => reply, { send, method: 'HEAD' })
    expect(lines(head.rawHeaders)).toEqual(reply.headers)
    expect(head.body).toBe('')
  })

  it('from a packed record still leaves keep-alive to Node: an HTTP/1.0 request gets its connection closed', async () => {
    const reply = sharedHit(distinctEntry())
    const text = await rawExchange((res) => send(res, reply), 'GET / HTTP/1.0\r\n\r\n')
    const [head, body] = text.split('\r\n\r\n')
    const wireLines = (head as string).split('\r\n').slice(1)
    expect(wireLines).toEqual([
      ...reply.headers.map(([name, value]) => `${name}: ${value}`),
      'Connection: close',
    ])
    expect(body).toBe('hello')
  })

  it('leaves Node to check and refuse a stored line it would refuse, with nothing sent and nothing recorded', () => {
    for (const bad of [
      ['x-split', 'a\r\nset-cookie: b=c'],
      ['bad name', 'v'],
    ] as HeaderPair[]) {
      const res = new http.ServerResponse(new http.IncomingMessage(null as never))
      expect(() => send(res, hit(entryWith([bad])))).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^ERR_INVALID_(CHAR|HTTP_TOKEN)$/) })
      )
      expect(res.headersSent).toBe(false)
      expect(res.getHeaderNames()).toEqual([])
    }
  })

  it('on a response whose head was written already: throws as Node does, leaving nothing recorded', () => {
    const res = new http.ServerResponse(new http.IncomingMessage(null as never))
    res.writeHead(204)
    expect(() => send(res, hit(entryWith()))).toThrow(
      expect.objectContaining({ code: 'ERR_HTTP_HEADERS_SENT' })
    )
    expect(res.getHeaderNames()).toEqual([])
  })
})

describe('PreparedWire.headRecord', () => {
  const pairs: HeaderPairs = [
    ['content-type', 'text/plain'],
    ['content-length', '5'],
    ['etag', '"v1"'],
    ['age', '3'],
    ['date', 'Mon, 07 Dec 2026 05:00:00 GMT'],
    ['cache-status', 'cachewire; hit'],
  ]

  it("joins each run of lines Node does not read into its first entry, and keeps Node's own lines apart", () => {
    const wire = new PreparedWire(pairs, false, '5', true, true)
    expect({ ...wire.headRecord }).toEqual({
      'content-type': ['content-type', 'text/plain'],
      'content-length': ['content-length', '5'],
      etag: ['etag', '"v1"\r\nage: 3'],
      date: ['date', 'Mon, 07 Dec 2026 05:00:00 GMT'],
      'cache-status': ['cache-status', 'cachewire; hit'],
    })
    expect(Object.isFrozen(wire.headRecord)).toBe(true)
    expect(wire.headRecord).toBe(wire.headRecord)
  })

  it("is the readable record for one reply's lines, unchecked lines and lines that repeat a name", () => {
    for (const wire of [
      new PreparedWire(pairs, false, '5', true, false),
      new PreparedWire(pairs, false, '5', false, true),
      new PreparedWire([...pairs, ['etag', '"v2"']], true, '5', true, true),
    ])
      expect(wire.headRecord).toBe(wire.record)
  })
})

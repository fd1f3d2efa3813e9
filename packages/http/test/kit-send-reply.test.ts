import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { sendReply } from '../src/kit/front-door.js'
import type { HeaderPairs } from '../src/types.js'

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
  headers: HeaderPairs,
  options: { method?: string; before?: (res: http.ServerResponse) => void } = {}
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
    sendReply(res, { kind: 'response', status: 200, headers, body: Buffer.from('hello') })
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

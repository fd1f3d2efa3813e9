/**
 * Real loopback servers and a client that sends exactly what a test says.
 *
 * `request()` is on node:http rather than fetch because fetch (undici) rewrites what security
 * tests need to send as-is: it normalises `/a/../b`, forbids setting Host, and cannot send an
 * absolute-form target. `rawRequest()` goes one level lower, for bytes that are not valid HTTP.
 */
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { registerCleanup } from '../setup/cleanup.js'

/** Anything we can serve: a node handler, an Express app (itself a handler) or a Koa app. */
export type Listenable = http.RequestListener | { callback(): http.RequestListener }

export interface Listening {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string
  port: number
  server: http.Server
  /** Closes the server and every socket on it, keep-alive ones included. Idempotent. */
  close(): Promise<void>
}

/**
 * Serves `app` on 127.0.0.1 on a free port. Closed automatically when the test (or, outside a
 * test, the file) ends; call `close()` to close earlier.
 *
 * @example
 * ```ts
 * const { url } = await listen(expressApp)         // or koaApp, or (req, res) => res.end('ok')
 * const res = await request(`${url}/a/..%2Fb`)
 * ```
 */
export async function listen(app: Listenable): Promise<Listening> {
  const handler = typeof app === 'function' ? app : app.callback()
  const server = http.createServer(handler)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      // close() alone waits for idle keep-alive sockets to time out; drop them now.
      server.close(() => resolve())
      server.closeAllConnections()
    }))
  registerCleanup(close)
  return { url: `http://127.0.0.1:${port}`, port, server, close }
}

export interface RequestOptions {
  /** @default 'GET' */
  method?: string
  /** Sent as given; a `host` here replaces the default Host header. Arrays repeat the header. */
  headers?: http.OutgoingHttpHeaders
  body?: string | Buffer
  /**
   * The request target, verbatim: a raw path (`/a/..%2Fb`) or absolute-form (`http://x/y`).
   * Defaults to everything after the authority in `url`, also verbatim (no URL parsing).
   */
  target?: string
  /** false: send no Host header at all. @default true */
  setHost?: boolean
  /** @default 10_000 */
  timeoutMs?: number
}

export interface TestResponse {
  status: number
  headers: http.IncomingHttpHeaders
  /** Name/value pairs in wire order, duplicates kept. */
  rawHeaders: string[]
  body: Buffer
  text: string
}

/** One request on a fresh connection (no agent, so no keep-alive state leaks between tests). */
export function request(url: string, options: RequestOptions = {}): Promise<TestResponse> {
  // Split by hand: new URL() would resolve dot segments and re-encode the path.
  const match = /^http:\/\/(\[[^\]]+\]|[^/?#:]+)(?::(\d+))?(.*)$/.exec(url)
  if (!match) throw new TypeError(`expected url to be http://host[:port][target], got ${url}`)
  const [, host = '', port = '80', rest = ''] = match
  const target = options.target ?? (rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`)
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: host.replace(/^\[|\]$/g, ''),
        port: Number(port),
        method: options.method ?? 'GET',
        path: target,
        headers: options.headers,
        setHost: options.setHost ?? true,
        agent: false,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const body = Buffer.concat(chunks)
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body,
            text: body.toString('utf8'),
          })
        })
      }
    )
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)))
    req.on('error', reject)
    req.end(options.body)
  })
}

export interface RawResponse {
  /** Everything the server sent before it closed the connection (or the timeout hit). */
  raw: Buffer
  text: string
  /** The status code of the first status line, if there is one. */
  status: number | undefined
  /** True when the server had not closed the connection by `timeoutMs`. */
  timedOut: boolean
}

/**
 * Writes `rawText` byte for byte to 127.0.0.1:`port`, then half-closes (so a server that keeps
 * connections alive still answers and closes), and collects the reply until the server closes.
 *
 * @example
 * ```ts
 * const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')
 * expect(res.status).toBe(400)
 * ```
 */
export function rawRequest(
  port: number,
  rawText: string | Buffer,
  options: { timeoutMs?: number; halfClose?: boolean } = {}
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let timedOut = false
    const socket = net.connect(port, '127.0.0.1')
    const timer = setTimeout(() => {
      timedOut = true
      socket.destroy()
    }, options.timeoutMs ?? 5_000)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    // A server may reset a connection it finds malformed: that is an answer, not a test error.
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const raw = Buffer.concat(chunks)
      const text = raw.toString('latin1')
      const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(text)?.[1]
      resolve({ raw, text, status: status ? Number(status) : undefined, timedOut })
    })
    if (options.halfClose ?? true) socket.end(rawText)
    else socket.write(rawText)
  })
}

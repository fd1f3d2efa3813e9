/**
 * Real loopback servers for the Koa adapter's tests, and a client on node:http that sends what
 * a test says (fetch would add Accept-Encoding and forbid some fields).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { onTestFinished } from 'vitest'
import Koa3 from 'koa'
import Koa2 from 'koa2'

/** Both supported majors, for `describe.each`. */
export const KOAS = [
  { name: 'koa 3', Koa: Koa3 },
  { name: 'koa 2', Koa: Koa2 },
] as const

export interface TestResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  text: string
}

export interface Served {
  url: string
  request(path: string, options?: RequestOptions): Promise<TestResponse>
}

/** Serves a Koa app on 127.0.0.1:0 until the test ends. */
export async function serve(app: { callback(): http.RequestListener }): Promise<Served> {
  const server = http.createServer(app.callback())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  )
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return { url, request: (path, options = {}) => request(`${url}${path}`, options) }
}

export interface RequestOptions {
  method?: string
  headers?: http.OutgoingHttpHeaders
  body?: string
  /** Give up (reject) after this long. @default 10_000 */
  timeoutMs?: number
}

/** One request on a fresh connection. */
export function request(url: string, options: RequestOptions = {}): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const init = {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
      timeout: options.timeoutMs ?? 10_000,
    }
    const req = http.request(url, init, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          text: body.toString('utf8'),
        })
      })
    })
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)))
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2025, 0, 1)): {
  now: () => number
  advance(ms: number): void
} {
  let now = start
  return { now: () => now, advance: (ms) => void (now += ms) }
}

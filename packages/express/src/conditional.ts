import type { ServerResponse } from 'node:http'
import type { NextFunction, Request, Response } from 'express'
import { generateEtag, InvalidOptionError, isNotModified, notModifiedHeaders } from '@cachewire/http'
import type { Middleware } from './cache-handler.js'
import { foldWriteHeadArguments, snapshotHeaders, toBuffer } from './capture.js'

/** Options of {@link conditional}. */
export interface ConditionalOptions {
  /** ETag made for 2xx bodies that have none; Express's own weak ETag is upgraded when 'strong'. @default 'strong' */
  etag?: 'strong' | 'weak' | false | undefined
  /**
   * Largest body held to compute an ETag, in bytes. A larger body streams through as it comes,
   * answered 304 only on validators the handler set itself. @default 1_048_576
   */
  maxBodySize?: number | undefined
}

/**
 * ETags and 304s for GET and HEAD, with or without the server-side cache: the response body is
 * held until it ends (up to `maxBodySize`), an ETag is added when it has none (strong by
 * default, over the exact bytes sent), and a matching If-None-Match or If-Modified-Since on a
 * 2xx answer is turned into a 304 with the RFC 9110 §15.4.5 fields. The rules are the http
 * package's (`isNotModified`), the same the cache uses for its hits.
 *
 * Put it where the bytes it should hash are: after `compression()` it sees identity bytes,
 * before it the compressed ones. Before `cacheMiddleware`, the cache stores the handler's full
 * response (with the ETag made here) and hits get their 304s from it too. HEAD responses carry
 * no body to hash: their ETag can only come from the handler (or the cache).
 *
 * @example
 * ```ts
 * import { conditional } from '@cachewire/express'
 *
 * app.use(conditional())
 * app.get('/report', (req, res) => { res.write('a,b\n'); res.end('1,2\n') }) // ETag + 304s
 * ```
 */
export function conditional(options: ConditionalOptions = {}): Middleware {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  const mode = options.etag ?? 'strong'
  if (mode !== 'strong' && mode !== 'weak' && mode !== false) throw new InvalidOptionError('etag', '"strong", "weak" or false', mode)
  const maxBodySize = options.maxBodySize ?? 1_048_576
  if (!Number.isSafeInteger(maxBodySize) || maxBodySize < 0) {
    throw new InvalidOptionError('maxBodySize', 'a non-negative integer', options.maxBodySize)
  }

  return function conditional(req: Request<unknown>, response: Response, next: NextFunction): void {
    const res: ServerResponse = response
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next()
      return
    }
    // Express (res.send, res.sendFile) would answer these itself, keeping its own weak ETag:
    // the handler runs unconditionally and the decision is made here, on the final response.
    const clientHeaders = req.headers
    if (clientHeaders['if-none-match'] !== undefined || clientHeaders['if-modified-since'] !== undefined) {
      const { 'if-none-match': _inm, 'if-modified-since': _ims, ...rest } = clientHeaders
      req.headers = rest
    }
    const writeHead = res.writeHead
    const write = res.write as (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean
    const end = res.end as (chunk?: unknown, encoding?: unknown, callback?: unknown) => ServerResponse
    /** holding: collect; heading: the next writeHead carries our decision; passing: stay out of the way. */
    let state: 'holding' | 'heading' | 'passing' = 'holding'
    let notModified = false
    let chunks: Buffer[] = []
    let bytes = 0

    /**
     * Decides on the held response, then writes its head through the outermost `writeHead`, so
     * wrappers installed after this middleware (a cache behind it) see the handler's status and
     * take their snapshot before the 304 is applied in our own `writeHead`.
     */
    const release = (body: Buffer | undefined): void => {
      if (body !== undefined && mode !== false && req.method === 'GET') setEtag(res, body, mode)
      notModified = isNotModified(clientHeaders, {
        status: res.statusCode,
        etag: headerString(res, 'etag'),
        lastModified: headerString(res, 'last-modified'),
      })
      state = 'heading'
      res.writeHead(res.statusCode)
      state = 'passing'
    }

    res.writeHead = function (this: ServerResponse, ...args: unknown[]): ServerResponse {
      if (state === 'passing' || this.headersSent) return Reflect.apply(writeHead, this, args) as ServerResponse
      const { status, reason } = foldWriteHeadArguments(this, args)
      this.statusCode = status
      if (state === 'holding') return this
      if (notModified) {
        const keep = new Set(notModifiedHeaders(snapshotHeaders(this)).map(([name]) => name))
        for (const name of this.getHeaderNames()) if (!keep.has(name)) this.removeHeader(name)
        this.statusCode = 304
      }
      const passed = notModified || reason === undefined ? [this.statusCode] : [this.statusCode, reason]
      return Reflect.apply(writeHead, this, passed) as ServerResponse
    } as ServerResponse['writeHead']

    res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
      if (state === 'passing') return notModified ? skip(encoding, callback) : write.call(this, chunk, encoding, callback)
      const buffer = toBuffer(chunk, encoding) ?? Buffer.alloc(0)
      if (bytes + buffer.length <= maxBodySize) {
        chunks.push(buffer)
        bytes += buffer.length
        return skip(encoding, callback)
      }
      // Too large to hash: decide on the handler's own validators, send what we hold, stream the rest.
      release(undefined)
      const held = Buffer.concat(chunks, bytes)
      chunks = []
      if (notModified) return skip(encoding, callback)
      if (held.length > 0) write.call(this, held)
      return write.call(this, buffer, callback ?? (typeof encoding === 'function' ? encoding : undefined))
    } as ServerResponse['write']

    res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse {
      const cb = [chunk, encoding, callback].find((arg) => typeof arg === 'function')
      if (state === 'passing') {
        return notModified ? end.call(this, cb) : end.call(this, chunk, encoding, callback)
      }
      const last = typeof chunk === 'function' ? undefined : toBuffer(chunk, encoding)
      if (last !== undefined) chunks.push(last)
      const body = Buffer.concat(chunks)
      chunks = []
      release(body)
      if (notModified || body.length === 0) return end.call(this, cb)
      return end.call(this, body, cb)
    } as ServerResponse['end']
    next()
  }
}

/** A write the client must not see (held, or a 304's body): report success, call the callback. */
function skip(encoding: unknown, callback: unknown): boolean {
  const cb = typeof encoding === 'function' ? encoding : callback
  if (typeof cb === 'function') process.nextTick(cb as () => void)
  return true
}

/** Adds an ETag for the body unless the handler set one; turns Express's weak ETag of these bytes into a strong one. */
function setEtag(res: ServerResponse, body: Buffer, mode: 'strong' | 'weak'): void {
  const status = res.statusCode
  if (status < 200 || status > 299 || status === 204 || status === 206) return
  const existing = headerString(res, 'etag')
  const etag = generateEtag(body, mode)
  if (existing === undefined) res.setHeader('etag', etag)
  else if (mode === 'strong' && existing === `W/${etag}`) res.setHeader('etag', etag)
}

function headerString(res: ServerResponse, name: string): string | undefined {
  const value = res.getHeader(name)
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

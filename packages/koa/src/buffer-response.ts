import type { ServerResponse } from 'node:http'
import type { HeaderPair } from '@cachewire/http'
import { snapshotHeaders } from './capture.js'

/** A response a handler wrote to `ctx.res` itself (`ctx.respond = false`), held in memory. */
export interface BufferedResponse {
  status: number
  headers: HeaderPair[]
  body: Buffer
}

/** A buffering in progress: `result` settles when the handler ends the response; `restore` undoes the wrapping. */
export interface ResponseBuffer {
  /** Resolves at `res.end()`; rejects when the client goes away first. */
  readonly result: Promise<BufferedResponse>
  /** Puts back the original `writeHead`, `write` and `end`. */
  restore(): void
}

const WRAPPED = ['writeHead', 'write', 'end'] as const

/**
 * Holds what a handler writes to `ctx.res` directly while the engine runs it buffered
 * (revalidation, stale-if-error, a background refresh), so that nothing reaches the client
 * before the engine has decided. Koa's own `respond` runs later, after `restore()`.
 *
 * @example
 * ```ts
 * const buffer = bufferResponse(ctx.res)
 * await next()
 * if (ctx.respond === false) console.log((await buffer.result).status)
 * buffer.restore()
 * ```
 */
export function bufferResponse(res: ServerResponse): ResponseBuffer {
  const own = WRAPPED.map((name) => [name, Object.getOwnPropertyDescriptor(res, name)] as const)
  const chunks: Buffer[] = []
  let settled = false
  let resolve!: (value: BufferedResponse) => void
  let reject!: (error: Error) => void
  const result = new Promise<BufferedResponse>((done, fail) => {
    resolve = done
    reject = fail
  })
  // Nobody may be waiting for it (the handler did not write): never an unhandled rejection.
  result.catch(() => {})
  const onClose = (): void => {
    if (settled) return
    settled = true
    reject(new Error('the client closed the connection before the handler answered'))
  }
  const collect = (chunk: unknown, encoding: unknown): void => {
    if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8'))
    else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  }
  const callbackOf = (...args: unknown[]): void => {
    const cb = args.find((arg) => typeof arg === 'function')
    if (cb !== undefined) process.nextTick(cb as () => void)
  }

  res.writeHead = function writeHead(this: ServerResponse, status: number, ...rest: unknown[]): ServerResponse {
    this.statusCode = status
    const headers = typeof rest[0] === 'string' ? rest[1] : rest[0]
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) this.appendHeader(String(headers[i]), headers[i + 1] as string)
    } else if (typeof headers === 'object' && headers !== null) {
      for (const [name, value] of Object.entries(headers)) if (value !== undefined) this.setHeader(name, value as string)
    }
    return this
  } as ServerResponse['writeHead']
  res.write = function write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    collect(chunk, encoding)
    callbackOf(encoding, callback)
    return true
  } as ServerResponse['write']
  res.end = function end(this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse {
    if (typeof chunk !== 'function') collect(chunk, encoding)
    callbackOf(chunk, encoding, callback)
    if (!settled) {
      settled = true
      res.off('close', onClose)
      resolve({ status: this.statusCode, headers: snapshotHeaders(this), body: Buffer.concat(chunks) })
    }
    return this
  } as ServerResponse['end']
  res.once('close', onClose)

  return {
    result,
    restore(): void {
      res.off('close', onClose)
      for (const [name, descriptor] of own) {
        if (descriptor === undefined) delete (res as unknown as Record<string, unknown>)[name]
        else Object.defineProperty(res, name, descriptor)
      }
    },
  }
}

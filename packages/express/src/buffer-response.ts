import type { ServerResponse } from 'node:http'
import type { HeaderPair } from '@cachewire/http'
import { foldWriteHeadArguments, snapshotHeaders, toBuffer } from './capture.js'

/** A response the handler wrote into the buffer instead of the socket. */
export interface BufferedResponse {
  status: number
  /** Snapshot at the head moment, wire order, lower-case. */
  headers: HeaderPair[]
  body: Buffer
}

/** A buffering in progress: `result` settles when the handler ends; `restore` undoes the wrapping. */
export interface ResponseBuffer {
  readonly result: Promise<BufferedResponse>
  /** Rejects `result` with the handler's error (when the adapter invoked the handler itself). */
  fail(error: unknown): void
  /** Puts back the original methods, status and headers, so the real answer starts clean. */
  restore(): void
}

const WRAPPED = ['writeHead', 'write', 'end'] as const

/**
 * Runs the rest of a response into memory: `writeHead`, `write` and `end` are collected instead
 * of sent, so the engine can decide (revalidation, stale-if-error) before anything reaches the
 * client. The promise rejects when the client goes away first. Call `restore()` once it settled,
 * then write the real answer with the original methods.
 *
 * @example
 * ```ts
 * const buffer = bufferResponse(res)
 * next()
 * const { status, headers, body } = await buffer.result
 * buffer.restore()
 * ```
 */
export function bufferResponse(res: ServerResponse): ResponseBuffer {
  const own = WRAPPED.map((name) => [name, Object.getOwnPropertyDescriptor(res, name)] as const)
  const savedStatus = res.statusCode
  const savedMessage = res.statusMessage
  const savedHeaders = res.getHeaderNames().map((name) => [name, res.getHeader(name)] as const)
  let head: { status: number; headers: HeaderPair[] } | undefined
  const chunks: Buffer[] = []
  let settled = false
  let resolve!: (value: BufferedResponse) => void
  let reject!: (error: unknown) => void
  const result = new Promise<BufferedResponse>((res, rej) => {
    resolve = res
    reject = rej
  })
  const onClose = (): void => {
    if (settled) return
    settled = true
    reject(new Error('the client closed the connection before the handler answered'))
  }

  const takeHead = (args: readonly unknown[] | undefined): void => {
    if (head !== undefined) return
    const status = args === undefined ? res.statusCode : foldWriteHeadArguments(res, args).status
    res.statusCode = status
    head = { status, headers: snapshotHeaders(res) }
  }
  const collect = (chunk: unknown, encoding: unknown, callback: unknown): void => {
    takeHead(undefined)
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') {
      const buffer = toBuffer(chunk, encoding)
      if (buffer !== undefined && buffer.length > 0) chunks.push(buffer)
    }
    const cb = typeof chunk === 'function' ? chunk : typeof encoding === 'function' ? encoding : callback
    if (typeof cb === 'function') process.nextTick(cb as () => void)
  }

  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]): ServerResponse {
    takeHead(args)
    return this
  } as ServerResponse['writeHead']
  res.write = function write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    collect(chunk, encoding, callback)
    return true
  } as ServerResponse['write']
  res.end = function end(this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse {
    collect(chunk, encoding, callback)
    if (!settled) {
      settled = true
      res.off('close', onClose)
      const { status, headers } = head as { status: number; headers: HeaderPair[] }
      resolve({ status, headers, body: Buffer.concat(chunks) })
    }
    return this
  } as ServerResponse['end']
  res.once('close', onClose)

  return {
    result,
    fail(error: unknown): void {
      if (settled) return
      settled = true
      reject(error as Error)
    },
    restore(): void {
      res.off('close', onClose)
      for (const [name, descriptor] of own) {
        if (descriptor === undefined) delete (res as unknown as Record<string, unknown>)[name]
        else Object.defineProperty(res, name, descriptor)
      }
      if (res.headersSent) return
      for (const name of res.getHeaderNames()) res.removeHeader(name)
      for (const [name, value] of savedHeaders) if (value !== undefined) res.setHeader(name, value)
      res.statusCode = savedStatus
      res.statusMessage = savedMessage
    },
  }
}

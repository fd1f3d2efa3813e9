import type { ServerResponse } from 'node:http'
import type { HeaderPair } from '../types.js'
import { intercept, snapshotHeaders } from './intercept.js'

/** A response the handler wrote into memory instead of the socket. */
export interface BufferedResponse {
  status: number
  /** Snapshot at the head moment, wire order, lower-case. */
  headers: HeaderPair[]
  body: Buffer
}

/** A buffering in progress: `result` settles when the handler ends; `restore` undoes the wrapping. */
export interface ResponseBuffer {
  /** Resolves at `res.end()`; rejects when the client goes away first (or on `fail`). */
  readonly result: Promise<BufferedResponse>
  /** Rejects `result` with the handler's error (when the adapter invoked the handler itself). */
  fail(error: unknown): void
  /**
   * Puts back the original methods; with `resetHead`, also the status and headers as they were,
   * so the real answer starts clean.
   */
  restore(): void
}

/**
 * Runs the rest of a response into memory: `writeHead`, `write` and `end` are collected instead
 * of sent, so the engine can decide (revalidation, stale-if-error, a refresh) before anything
 * reaches the client. Call `restore()` once it settled, then write the real answer.
 *
 * @example
 * ```ts
 * const buffer = bufferResponse(res, { resetHead: true })
 * next()
 * const { status, headers, body } = await buffer.result
 * buffer.restore()
 * ```
 */
export function bufferResponse(
  res: ServerResponse,
  options: { resetHead: boolean }
): ResponseBuffer {
  const savedStatus = res.statusCode
  const savedMessage = res.statusMessage
  const savedHeaders = res.getHeaderNames().map((name) => [name, res.getHeader(name)] as const)
  let head: { status: number; headers: HeaderPair[] } | undefined
  const chunks: Buffer[] = []
  let settled = false
  let resolve!: (value: BufferedResponse) => void
  let reject!: (error: unknown) => void
  const result = new Promise<BufferedResponse>((done, fail) => {
    resolve = done
    reject = fail
  })
  // Nobody may be waiting for it (the handler never wrote): never an unhandled rejection.
  result.catch(() => {})
  const onClose = (): void => {
    if (settled) return
    settled = true
    reject(new Error('the client closed the connection before the handler answered'))
  }
  const takeHead = (): { status: number; headers: HeaderPair[] } =>
    (head ??= { status: res.statusCode, headers: snapshotHeaders(res) })
  /**
   * The head moment of a write or an end with no head yet: Node would call `this.writeHead`
   * there (its implicit header), so wrappers installed after this one (a route's capture inside a
   * buffered run) see it; that call ends in our own `head`.
   */
  const ensureHead = (): { status: number; headers: HeaderPair[] } => {
    if (head === undefined) res.writeHead(res.statusCode)
    return takeHead()
  }

  const interception = intercept(res, {
    head: () => {
      takeHead()
      return 'defer'
    },
    body(chunk) {
      ensureHead()
      chunks.push(chunk)
      return false
    },
    end() {
      const { status, headers } = ensureHead()
      if (settled) return
      settled = true
      res.off('close', onClose)
      resolve({ status, headers, body: Buffer.concat(chunks) })
    },
  })
  res.once('close', onClose)

  return {
    result,
    fail(error) {
      if (settled) return
      settled = true
      reject(error)
    },
    restore() {
      res.off('close', onClose)
      interception.restore()
      if (!options.resetHead || res.headersSent) return
      for (const name of res.getHeaderNames()) res.removeHeader(name)
      for (const [name, value] of savedHeaders) if (value !== undefined) res.setHeader(name, value)
      res.statusCode = savedStatus
      res.statusMessage = savedMessage
    },
  }
}

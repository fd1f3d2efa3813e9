import type { ServerResponse } from 'node:http'
import type { CapturedResponse, HeaderPair, HeaderPairs, ResponsePatch } from '@cachewire/http'

/** What a live capture does at the head moment and when the response is over. */
export interface LiveCaptureOptions {
  /**
   * Called once, when the head is about to be written, with the status and the headers as they
   * will go out; the returned patch is applied before the head is written.
   */
  onHead?: ((status: number, headers: HeaderPairs) => ResponsePatch) | undefined
  /** Collect the body bytes for `onDone`. */
  captureBody: boolean
  /** Past this many bytes, drop what was collected and report `complete: false`. */
  maxBodyBytes: number
  /** Called once: with the response when it finished, with undefined when it failed or was aborted. */
  onDone: (captured: CapturedResponse | undefined) => void
  /**
   * Called instead of the original `end` when set, so the caller can hold the end of the
   * response until some work is done (read-your-writes after an unsafe request).
   */
  holdEnd?: ((head: { status: number; headers: HeaderPairs }, end: () => void) => void) | undefined
}

type WriteHead = ServerResponse['writeHead']
type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean
type End = (chunk?: unknown, encoding?: unknown, callback?: unknown) => ServerResponse

/**
 * Wraps `res.writeHead`, `res.write` and `res.end` of a live response so the handler streams to
 * the client as usual while the cache sees its status, headers and body.
 *
 * The head moment is the call of our `writeHead`: Node's `write`/`end`/`flushHeaders` reach it
 * through `this.writeHead`, so wrappers installed after us (compression after the cache,
 * on-headers listeners) have already run, and wrappers installed before us (compression before
 * the cache) run after we took the snapshot. That is what makes the stored bytes and headers
 * always agree: identity bytes with identity headers, or gzip bytes with `Content-Encoding`.
 *
 * @example
 * ```ts
 * captureLive(res, { captureBody: true, maxBodyBytes: 1 << 20, onDone: (captured) => console.log(captured?.status) })
 * ```
 */
export function captureLive(res: ServerResponse, options: LiveCaptureOptions): void {
  const originalWriteHead = res.writeHead
  const originalWrite = res.write as Write
  const originalEnd = res.end as End
  let head: { status: number; headers: HeaderPair[] } | undefined
  let omitBody = false
  let chunks: Buffer[] | undefined = options.captureBody ? [] : undefined
  let bytes = 0
  let complete = true
  let done = false

  const collect = (chunk: unknown, encoding: unknown): void => {
    if (chunks === undefined || chunk === undefined || chunk === null || typeof chunk === 'function') return
    const buffer = toBuffer(chunk, encoding)
    if (buffer === undefined) return
    if (bytes + buffer.length > options.maxBodyBytes) {
      // Over the cap: keep streaming to the client, but hold no more bytes than the cap.
      chunks = undefined
      complete = false
      return
    }
    bytes += buffer.length
    chunks.push(buffer)
  }

  const finish = (captured: CapturedResponse | undefined): void => {
    if (done) return
    done = true
    options.onDone(captured)
  }

  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]): ServerResponse {
    if (head !== undefined || this.headersSent) return Reflect.apply(originalWriteHead, this, args) as ServerResponse
    const { status, reason } = foldWriteHeadArguments(this, args)
    head = { status, headers: snapshotHeaders(this) }
    let sentStatus = status
    let sentReason = reason
    if (options.onHead !== undefined) {
      const patch = options.onHead(status, head.headers)
      applyPatch(this, patch)
      if (patch.status !== status) {
        sentStatus = patch.status
        sentReason = undefined
      }
      omitBody = patch.omitBody
    }
    this.statusCode = sentStatus
    const inner = sentReason === undefined ? [sentStatus] : [sentStatus, sentReason]
    return Reflect.apply(originalWriteHead, this, inner) as ServerResponse
  } as WriteHead

  res.write = function write(this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    collect(chunk, encoding)
    if (omitBody) return skipBody(encoding, callback)
    return originalWrite.call(this, chunk, encoding, callback)
  } as ServerResponse['write']

  res.end = function end(this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse {
    collect(chunk, encoding)
    const endNow = (): ServerResponse =>
      omitBody
        ? originalEnd.call(this, typeof chunk === 'function' ? chunk : typeof encoding === 'function' ? encoding : callback)
        : originalEnd.call(this, chunk, encoding, callback)
    if (options.holdEnd === undefined || this.writableEnded) return endNow()
    const snapshot = head ?? { status: this.statusCode, headers: snapshotHeaders(this) }
    options.holdEnd(snapshot, () => void endNow())
    return this
  } as ServerResponse['end']

  res.once('finish', () => {
    const status = head?.status ?? res.statusCode
    const body = chunks === undefined ? Buffer.alloc(0) : Buffer.concat(chunks, bytes)
    finish({ status, headers: head?.headers ?? snapshotHeaders(res), body, complete })
  })
  // Aborted by the client, or destroyed on an error: 'close' without 'finish', never complete.
  res.once('close', () => finish(undefined))
}

/**
 * Headers of a response as they go on the wire, in the order they were set, lower-case.
 *
 * @example
 * ```ts
 * res.setHeader('Link', ['<a>', '<b>'])
 * snapshotHeaders(res) // [['link', '<a>'], ['link', '<b>']]
 * ```
 */
export function snapshotHeaders(res: ServerResponse): HeaderPair[] {
  const pairs: HeaderPair[] = []
  for (const name of res.getHeaderNames()) {
    const value = res.getHeader(name)
    if (value === undefined) continue
    if (Array.isArray(value)) for (const item of value) pairs.push([name, String(item)])
    else pairs.push([name, String(value)])
  }
  return pairs
}

/**
 * Moves the headers passed to `res.writeHead(status, [reason], headers)` onto the response, the
 * way Node does (an object sets, a flat `[name, value, …]` array replaces then appends), so the
 * head snapshot sees them. Returns the status and reason phrase left to pass on.
 */
export function foldWriteHeadArguments(res: ServerResponse, args: readonly unknown[]): { status: number; reason: string | undefined } {
  const status = Number(args[0])
  const reason = typeof args[1] === 'string' ? args[1] : undefined
  const headers = reason === undefined ? args[1] : args[2]
  if (reason !== undefined) res.statusMessage = reason
  if (Array.isArray(headers)) {
    const pairs: Array<[string, unknown]> = []
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as Array<[string, unknown]>) pairs.push([pair[0], pair[1]])
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([String(headers[i]), headers[i + 1]])
    }
    for (const [name] of pairs) res.removeHeader(name)
    for (const [name, value] of pairs) if (name !== '') res.appendHeader(name, value as string | string[])
  } else if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (name !== '' && value !== undefined) res.setHeader(name, value as string | number | readonly string[])
    }
  }
  return { status, reason }
}

/** Applies an engine patch to a response whose head is not yet written. */
function applyPatch(res: ServerResponse, patch: ResponsePatch): void {
  for (const name of patch.remove) res.removeHeader(name)
  const grouped = new Map<string, string[]>()
  for (const [name, value] of patch.set) {
    const values = grouped.get(name)
    if (values === undefined) grouped.set(name, [value])
    else values.push(value)
  }
  for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? (values[0] as string) : values)
}

/** Bytes of a chunk passed to `write`/`end`: strings in their encoding (UTF-8 by default). */
export function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (typeof chunk === 'string') {
    return Buffer.from(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8')
  }
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  return undefined
}

/** A write the client must not see (a 304's body): report success and call the callback. */
function skipBody(encoding: unknown, callback: unknown): boolean {
  const cb = typeof encoding === 'function' ? encoding : callback
  if (typeof cb === 'function') process.nextTick(cb as () => void)
  return true
}

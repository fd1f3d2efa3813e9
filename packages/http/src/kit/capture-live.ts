import type { ServerResponse } from 'node:http'
import type { CapturedResponse, HeaderPair, HeaderPairs, ResponsePatch } from '../types.js'
import { intercept, snapshotHeaders } from './intercept.js'

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
  onDone: (captured: CapturedResponse | undefined) => void | Promise<unknown>
  /**
   * Hand the response to `onDone` when the handler ends it, and hold the end until `onDone`'s
   * promise settles: a response stored before it ends is a hit for the client's next request.
   * A response ended in one call (`res.end(body)`, Express's `res.send`) has its head written
   * within that end, so its head also knows what the store did.
   */
  storeBeforeEnd?: boolean | undefined
  /**
   * Called instead of the real `end` when set, so the caller can hold the end of the response
   * until some work is done (read-your-writes after an unsafe request).
   */
  holdEnd?: ((head: { status: number; headers: HeaderPairs }, end: () => void) => void) | undefined
}

/** A capture under way. */
export interface LiveCapture {
  /** Stops capturing: the response goes on untouched, and `onDone` is never called. */
  passThrough(): void
}

const EMPTY_BODY: Buffer = Buffer.alloc(0)

/**
 * Captures a live response while the handler streams it to the client as usual: status, headers
 * and body bytes, up to a cap.
 *
 * The head moment is the head of the interception (see `intercept`): wrappers installed after the
 * capture (compression after the cache, on-headers listeners) have already run, and wrappers
 * installed before it (compression before the cache) run after the snapshot. That is what makes
 * the stored bytes and headers always agree: identity bytes with identity headers, or gzip bytes
 * with `Content-Encoding`.
 *
 * @example
 * ```ts
 * captureLive(res, { captureBody: true, maxBodyBytes: 1 << 20, onDone: (captured) => console.log(captured?.status) })
 * ```
 */
export function captureLive(res: ServerResponse, options: LiveCaptureOptions): LiveCapture {
  let head: { status: number; headers: HeaderPair[] } | undefined
  let omitBody = false
  let chunks: Buffer[] | undefined = options.captureBody ? [] : undefined
  let bytes = 0
  let complete = true
  let done = false

  const finish = (captured: CapturedResponse | undefined): void => {
    if (done) return
    done = true
    void options.onDone(captured)
  }
  const current = (): CapturedResponse => ({
    status: head?.status ?? res.statusCode,
    headers: head?.headers ?? snapshotHeaders(res),
    body: chunks === undefined ? EMPTY_BODY : Buffer.concat(chunks, bytes),
    complete,
  })
  let holding: Promise<void> | undefined

  const interception = intercept(res, {
    head(res, status) {
      head = { status, headers: snapshotHeaders(res) }
      if (options.onHead === undefined) return
      const patch = options.onHead(status, head.headers)
      applyPatch(res, patch)
      res.statusCode = patch.status
      omitBody = patch.omitBody
      // The engine already knows the response will not be stored: hold no bytes for it.
      if (!patch.captureBody) chunks = undefined
    },
    body(chunk) {
      if (chunks !== undefined) {
        if (bytes + chunk.length > options.maxBodyBytes) {
          // Over the cap: keep streaming to the client, but hold no more bytes than the cap.
          chunks = undefined
          complete = false
        } else {
          bytes += chunk.length
          chunks.push(chunk)
        }
      }
      return !omitBody
    },
    end(end) {
      if (options.holdEnd !== undefined)
        return options.holdEnd(
          head ?? { status: res.statusCode, headers: snapshotHeaders(res) },
          end
        )
      // A second `end` while the first is held (a stream pipeline's) goes after it.
      if (holding !== undefined) return void holding.then(end)
      if (options.storeBeforeEnd !== true || done) return end()
      done = true
      holding = Promise.resolve(options.onDone(current())).then(end, end)
    },
  })

  res.once('finish', () => finish(current()))
  // Aborted by the client, or destroyed on an error: 'close' without 'finish', never complete.
  res.once('close', () => finish(undefined))

  return {
    passThrough() {
      done = true
      chunks = undefined
      interception.passThrough()
    },
  }
}

/**
 * Applies an engine patch to a `node:http` response whose head is not yet written: removed
 * fields, then set lines (repeated names grouped into one multi-value field).
 *
 * @example
 * ```ts
 * applyPatch(res, outcome.patch(res.statusCode, snapshotHeaders(res)))
 * ```
 */
export function applyPatch(
  res: ServerResponse,
  patch: Pick<ResponsePatch, 'remove' | 'set'>
): void {
  for (const name of patch.remove) res.removeHeader(name)
  const grouped = new Map<string, string[]>()
  for (const [name, value] of patch.set) {
    const values = grouped.get(name)
    if (values === undefined) grouped.set(name, [value])
    else values.push(value)
  }
  for (const [name, values] of grouped)
    res.setHeader(name, values.length === 1 ? (values[0] as string) : values)
}

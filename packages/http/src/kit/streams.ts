import type { ServerResponse } from 'node:http'
import { Readable, Transform, pipeline } from 'node:stream'

/** What a capture read from a stream: the bytes (at most the cap) and whether that is the whole body. */
export interface StreamCopy {
  body: Buffer
  complete: boolean
}

const EMPTY_BODY: Buffer = Buffer.alloc(0)
/** A body past the cap: nothing kept (shared, frozen). */
const OVER_CAP: Readonly<StreamCopy> = Object.freeze({ body: EMPTY_BODY, complete: false })

/**
 * The capture of a body already in memory, by the rule the stream copies keep: up to `maxBytes`
 * the bytes themselves (no copy), past it nothing and `complete: false`.
 *
 * @example
 * ```ts
 * capBody(Buffer.from('hi'), 1 << 20) // { body: <Buffer 68 69>, complete: true }
 * capBody(Buffer.from('hi'), 1)       // { body: <Buffer >, complete: false }
 * ```
 */
export function capBody(bytes: Buffer, maxBytes: number): Readonly<StreamCopy> {
  return bytes.length <= maxBytes ? { body: bytes, complete: true } : OVER_CAP
}

/**
 * Calls `done` once: with true when the response was sent in full, false when the connection
 * closed first.
 *
 * @example
 * ```ts
 * onResponseDone(res, (sent) => console.log(sent ? 'sent' : 'aborted'))
 * ```
 */
export function onResponseDone(res: ServerResponse, done: (sent: boolean) => void): void {
  if (res.writableFinished) {
    done(true)
    return
  }
  let called = false
  const call = (sent: boolean): void => {
    if (called) return
    called = true
    done(sent)
  }
  res.once('finish', () => call(true))
  res.once('close', () => call(res.writableFinished))
}

/**
 * A tee for a stream body: `stream` passes every byte on, and `copy` resolves with what went
 * through, up to `maxBytes` (past it the copy is dropped: `complete: false`), once the body ended,
 * or with undefined when it errored or was cut short: an errored stream is never stored.
 *
 * @example
 * ```ts
 * const { stream, copy } = teeStream(source, 1 << 20)
 * ctx.body = stream
 * ```
 */
export function teeStream(
  source: Readable,
  maxBytes: number
): { stream: Transform; copy: Promise<StreamCopy | undefined> } {
  const collector = new Collector(maxBytes)
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      collector.add(chunk)
      callback(null, chunk)
    },
  })
  const copy = new Promise<StreamCopy | undefined>((resolve) => {
    pipeline(source, stream, (error) => resolve(error ? undefined : collector.result()))
  })
  return { stream, copy }
}

/**
 * Reads a stream into memory, at most `maxBytes` of it (`Infinity` for all). Past the cap the
 * stream is destroyed and `complete` is false. Rejects with the stream's error.
 *
 * @example
 * ```ts
 * const { body, complete } = await readStream(stream, Infinity)
 * ```
 */
export async function readStream(source: Readable, maxBytes: number): Promise<StreamCopy> {
  const collector = new Collector(maxBytes)
  for await (const chunk of source) {
    collector.add(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
    if (!collector.result().complete) {
      source.destroy()
      break
    }
  }
  return collector.result()
}

/**
 * Reads a stream up to `maxBytes`: its bytes when it ended within the cap, else a stream of what
 * was read followed by the rest, to send as it comes. Rejects with the stream's error.
 *
 * @example
 * ```ts
 * const held = await holdStream(stream, 1 << 20) // { bytes } or { stream }
 * ```
 */
export async function holdStream(
  source: Readable,
  maxBytes: number
): Promise<{ bytes: Buffer; stream?: undefined } | { stream: Readable; bytes?: undefined }> {
  const iterator = (source as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]()
  const held: Buffer[] = []
  let bytes = 0
  for (;;) {
    const step = await iterator.next()
    if (step.done === true) return { bytes: Buffer.concat(held, bytes) }
    const chunk = typeof step.value === 'string' ? Buffer.from(step.value) : step.value
    held.push(chunk)
    bytes += chunk.length
    if (bytes > maxBytes) break
  }
  const stream = Readable.from(
    (async function* rest(): AsyncGenerator<Buffer> {
      yield* held
      for (;;) {
        const step = await iterator.next()
        if (step.done === true) return
        yield typeof step.value === 'string' ? Buffer.from(step.value) : step.value
      }
    })()
  )
  return { stream }
}

/** Keeps chunks up to a byte cap; past it, keeps nothing and reports incomplete. */
class Collector {
  readonly #max: number
  #chunks: Buffer[] | undefined = []
  #bytes = 0

  constructor(max: number) {
    this.#max = max
  }

  add(chunk: Buffer): void {
    if (this.#chunks === undefined) return
    if (this.#bytes + chunk.length > this.#max) {
      this.#chunks = undefined
      return
    }
    this.#bytes += chunk.length
    this.#chunks.push(chunk)
  }

  result(): StreamCopy {
    if (this.#chunks === undefined) return { ...OVER_CAP }
    return { body: Buffer.concat(this.#chunks, this.#bytes), complete: true }
  }
}

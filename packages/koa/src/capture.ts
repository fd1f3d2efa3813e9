import { Readable } from 'node:stream'
import {
  holdStream,
  readStream,
  snapshotHeaders,
  teeStream,
  type HeaderPair,
  type StreamCopy,
} from '@cachewire/http/kit'
import type { CacheContext } from './types.js'

/** A body as Koa will send it: bytes we hold, or a Node stream still to be read. */
export type SettledBody =
  { bytes: Buffer; stream?: undefined } | { stream: Readable; bytes?: undefined }

/** What a capture read: the bytes (at most the cap) and whether that is the whole body. */
export type CapturedBody = StreamCopy

/** RFC 9110 §15.3.5, §15.3.6, §15.4.5: statuses Koa sends without a body (its `statuses.empty`). */
const BODYLESS_STATUSES: ReadonlySet<number> = new Set([204, 205, 304])
const EMPTY_BODY: Buffer = Buffer.alloc(0)

/**
 * Turns the body the handler left on `ctx` into what Koa will send, and makes `ctx.body` that:
 * - a string or a JSON value becomes its bytes (UTF-8, `JSON.stringify` as Koa's `respond`
 *   does), so the miss and a later hit hand outer middleware the same Buffer;
 * - a Buffer stays;
 * - a Node stream stays a stream; on Koa 3 a Blob, a web ReadableStream or a Response becomes one;
 * - no body (or a 204/205/304) is the bytes Koa's `respond` writes itself: nothing, or the status
 *   text for a status set without a body. `ctx` is left alone then, so outer middleware can still
 *   see that there is no body (a custom 404 page, say).
 *
 * @example
 * ```ts
 * await next()
 * const body = settleBody(ctx) // { bytes: <Buffer 7b 22 69 64 22 3a 31 7d> } after ctx.body = { id: 1 }
 * ```
 */
export function settleBody(ctx: CacheContext): SettledBody {
  const body: unknown = ctx.body
  if (BODYLESS_STATUSES.has(ctx.status) || (body == null && isExplicitNull(ctx)))
    return { bytes: EMPTY_BODY }
  if (body == null) return { bytes: Buffer.from(statusText(ctx)) }
  if (Buffer.isBuffer(body)) return { bytes: body }
  if (typeof body === 'string') return { bytes: replaceBody(ctx, Buffer.from(body)) }
  if (isNodeStream(body)) return { stream: body }
  if (supportsWebBodies(ctx)) {
    const web = webBodyStream(body)
    if (web !== undefined) {
      keepingLength(ctx, () => (ctx.body = web))
      return { stream: web }
    }
  }
  // Koa's respond sends anything else as JSON; `undefined` from a toJSON() is an empty body.
  const json = JSON.stringify(body) as string | undefined
  return { bytes: replaceBody(ctx, Buffer.from(json ?? '')) }
}

/**
 * The response head as Koa's `respond` will write it: the headers on `ctx.res`, with what
 * `respond` changes for bodiless answers (no Content-Type, Content-Length or Transfer-Encoding on
 * a 204/205/304; a text type and length for a status sent without a body).
 *
 * @example
 * ```ts
 * responseHead(ctx) // [['content-type', 'text/css; charset=utf-8'], ['content-length', '12']]
 * ```
 */
export function responseHead(ctx: CacheContext): HeaderPair[] {
  const pairs = snapshotHeaders(ctx.res)
  if (BODYLESS_STATUSES.has(ctx.status))
    return without(pairs, ['content-type', 'content-length', 'transfer-encoding'])
  if (ctx.body != null) return pairs
  if (isExplicitNull(ctx)) return without(pairs, ['content-type', 'transfer-encoding'])
  const text = statusText(ctx)
  return [
    ...without(pairs, ['content-type', 'content-length']),
    ['content-type', 'text/plain; charset=utf-8'],
    ['content-length', String(Buffer.byteLength(text))],
  ]
}

/**
 * Puts a tee between a stream body and the client: the bytes still flow as Koa streams them,
 * and a copy is kept up to `maxBodyBytes` (past it the copy is dropped and the body streams
 * through unstored). Resolves with the copy when the body ended, or undefined when it errored
 * or was cut short by the client: an errored stream is never stored. The source's errors still
 * reach Koa as they would have (its `ctx.onerror`).
 *
 * @example
 * ```ts
 * const copy = await teeBody(ctx, stream, 1 << 20) // { body, complete: true }, once the client has it
 * ```
 */
export function teeBody(
  ctx: CacheContext,
  source: Readable,
  maxBodyBytes: number
): Promise<CapturedBody | undefined> {
  const { stream, copy } = teeStream(source, maxBodyBytes)
  const own = stream.listeners('error')
  keepingLength(ctx, () => (ctx.body = stream))
  // Koa 2 listens for errors on a new stream body; its listener on the source already reports them once.
  for (const listener of stream.listeners('error'))
    if (!own.includes(listener)) stream.off('error', listener as (error: Error) => void)
  return copy
}

/**
 * Reads a stream body into memory, at most `maxBytes` of it (`Infinity` for all). Past the cap the
 * stream is destroyed and `complete` is false. Rejects with the stream's error. Koa 2's own error
 * listener on the body is kept quiet meanwhile: the caller decides what the error means.
 *
 * @example
 * ```ts
 * const { body, complete } = await readBody(ctx, stream, Infinity)
 * ```
 */
export async function readBody(
  ctx: CacheContext,
  source: Readable,
  maxBytes: number
): Promise<CapturedBody> {
  return quietly(ctx, () => readStream(source, maxBytes))
}

/** Replaces a stream body with another stream; Koa drops Content-Length when it does, the length is the same. */
function keepingLength(ctx: CacheContext, replace: () => void): void {
  const length = ctx.res.getHeader('content-length')
  replace()
  if (length !== undefined && !ctx.headerSent) ctx.res.setHeader('content-length', length)
}

/** Sets a Buffer body in place of a string or JSON one; Koa keeps the Content-Type it chose. */
function replaceBody(ctx: CacheContext, bytes: Buffer): Buffer {
  if (!ctx.headerSent) ctx.body = bytes
  return bytes
}

/** What Koa's `respond` writes for a status set without a body. */
function statusText(ctx: CacheContext): string {
  return ctx.req.httpVersionMajor >= 2 ? String(ctx.status) : ctx.message || String(ctx.status)
}

function isExplicitNull(ctx: CacheContext): boolean {
  return (ctx.response as unknown as { _explicitNullBody?: boolean })._explicitNullBody === true
}

function isNodeStream(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).pipe === 'function'
}

/**
 * Koa 3 sends a Blob, a web ReadableStream or a Response as a stream; Koa 2 sends them as JSON.
 * Koa 3 is told apart by its `app.compose` (new in 3.0), so each major keeps its own meaning.
 */
function supportsWebBodies(ctx: CacheContext): boolean {
  return typeof (ctx.app as unknown as { compose?: unknown }).compose === 'function'
}

function webBodyStream(body: unknown): Readable | undefined {
  if (body instanceof Blob) return Readable.from(body.stream())
  if (body instanceof ReadableStream) return Readable.from(body)
  if (body instanceof Response)
    return body.body === null ? Readable.from([]) : Readable.from(body.body)
  return undefined
}

function without(pairs: HeaderPair[], names: readonly string[]): HeaderPair[] {
  return pairs.filter(([name]) => !names.includes(name))
}

/**
 * Reads a stream body up to `maxBytes` and puts it back on `ctx`: a Buffer when it ended within
 * the cap (returned), else a stream of what was read followed by the rest (undefined returned),
 * with the Content-Length the handler set kept. Rejects with the stream's error.
 *
 * @example
 * ```ts
 * const bytes = await holdBody(ctx, stream, 1 << 20) // Buffer, or undefined when larger
 * ```
 */
export async function holdBody(
  ctx: CacheContext,
  source: Readable,
  maxBytes: number
): Promise<Buffer | undefined> {
  const held = await quietly(ctx, () => holdStream(source, maxBytes))
  if (held.bytes !== undefined) {
    if (!ctx.headerSent) ctx.body = held.bytes
    return held.bytes
  }
  keepingLength(ctx, () => (ctx.body = held.stream))
  return undefined
}

/** Keeps Koa 2's own error listener on the body quiet while we read it: the caller decides what an error means. */
async function quietly<T>(ctx: CacheContext, work: () => Promise<T>): Promise<T> {
  const quiet = ctx as unknown as { onerror?: unknown }
  quiet.onerror = () => {}
  try {
    return await work()
  } finally {
    delete quiet.onerror
  }
}

import type { ServerResponse } from 'node:http'
import type { HeaderPair } from '../types.js'

/** What an interception does at each moment of a live `node:http` response. */
export interface InterceptHandlers {
  /**
   * The head moment: the first `writeHead`, called by the handler or by Node itself from `write`,
   * `end` or `flushHeaders` (always through `this.writeHead`, so wrappers installed later have run,
   * and wrappers installed earlier run after this). The `writeHead` arguments are already folded
   * onto `res` (status, reason, headers). Change `res` as needed; return `'defer'` to hold the head
   * until `flushHead()`.
   */
  head?(res: ServerResponse, status: number): 'defer' | void
  /** A deferred head is being written now: the last changes before it goes. */
  flush?(res: ServerResponse): void
  /** A body chunk on its way to the client: return false to keep it back (held or dropped). */
  body?(chunk: Buffer): boolean
  /** `end()` was called: call `end()` to end the response for real, now or later. */
  end?(end: () => void): void
}

/** A live interception. */
export interface Interception {
  /** Writes a deferred head through the outermost `writeHead`, so wrappers installed later see it. */
  flushHead(): void
  /** Writes bytes below this interception (a body held back earlier). */
  send(chunk: Buffer): void
  /** Stops intercepting: every later call goes straight through. */
  passThrough(): void
  /** Puts back the methods as they were (wrappers installed after this one go too). */
  restore(): void
}

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean
type End = (chunk?: unknown, encoding?: unknown, callback?: unknown) => ServerResponse
const WRAPPED = ['writeHead', 'write', 'end'] as const

/**
 * The one place a `node:http` response is intercepted: live capture, buffering, `conditional()`
 * and `cacheControl()` are each a set of handlers over it. Wraps `writeHead`, `write` and `end`
 * on the instance; the originals run below it.
 *
 * @example
 * ```ts
 * intercept(res, { head: (res, status) => void res.setHeader('x-status-seen', String(status)) })
 * ```
 */
export function intercept(res: ServerResponse, handlers: InterceptHandlers): Interception {
  const own = WRAPPED.map((name) => [name, Object.getOwnPropertyDescriptor(res, name)] as const)
  const originalWriteHead = res.writeHead
  const originalWrite = res.write as Write
  const originalEnd = res.end as End
  let state: 'before' | 'deferred' | 'flushing' | 'after' = 'before'
  let passing = false
  // True while the original `end` runs: an `end` that writes its chunk through `this.write`
  // (light-my-request's, under a refresh) must not hand the handlers the same bytes twice.
  let ending = false
  let reason: string | undefined
  let folded = 0

  const writeHead = (status: number): ServerResponse =>
    Reflect.apply(
      originalWriteHead,
      res,
      reason !== undefined && status === folded ? [status, reason] : [status]
    ) as ServerResponse

  res.writeHead = function writeHead_(this: ServerResponse, ...args: unknown[]): ServerResponse {
    if (passing || this.headersSent || state === 'after')
      return Reflect.apply(originalWriteHead, this, args) as ServerResponse
    if (state === 'flushing') {
      state = 'after'
      handlers.flush?.(this)
      return writeHead(this.statusCode)
    }
    if (state === 'deferred') return this
    const head = foldWriteHeadArguments(this, args)
    reason = head.reason
    folded = head.status
    this.statusCode = head.status
    if (handlers.head?.(this, head.status) === 'defer') {
      state = 'deferred'
      return this
    }
    state = 'after'
    return writeHead(this.statusCode)
  } as ServerResponse['writeHead']

  res.write = function write(
    this: ServerResponse,
    chunk: unknown,
    encoding?: unknown,
    callback?: unknown
  ): boolean {
    if (passing || ending) return originalWrite.call(this, chunk, encoding, callback)
    const buffer = toBuffer(chunk, encoding)
    if (buffer !== undefined && buffer.length > 0 && handlers.body?.(buffer) === false)
      return held(encoding, callback)
    return originalWrite.call(this, chunk, encoding, callback)
  } as ServerResponse['write']

  res.end = function end(
    this: ServerResponse,
    chunk?: unknown,
    encoding?: unknown,
    callback?: unknown
  ): ServerResponse {
    if (passing) return originalEnd.call(this, chunk, encoding, callback)
    const buffer = typeof chunk === 'function' ? undefined : toBuffer(chunk, encoding)
    const send = buffer === undefined || buffer.length === 0 || handlers.body?.(buffer) !== false
    const cb = [chunk, encoding, callback].find((arg) => typeof arg === 'function')
    const finish = (): void => {
      ending = true
      try {
        if (send) originalEnd.call(this, chunk, encoding, callback)
        else originalEnd.call(this, cb)
      } finally {
        ending = false
      }
    }
    if (handlers.end === undefined || this.writableEnded) finish()
    else handlers.end(finish)
    return this
  } as ServerResponse['end']

  return {
    flushHead() {
      if (state !== 'deferred') return
      state = 'flushing'
      res.writeHead(res.statusCode)
    },
    send(chunk) {
      if (chunk.length > 0) originalWrite.call(res, chunk)
    },
    passThrough() {
      passing = true
    },
    restore() {
      for (const [name, descriptor] of own) {
        if (descriptor === undefined) delete (res as unknown as Record<string, unknown>)[name]
        else Object.defineProperty(res, name, descriptor)
      }
    },
  }
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
 * way Node does (an object sets, a flat `[name, value, …]` array replaces then appends), so a
 * head snapshot sees them. Returns the status and reason phrase left to pass on.
 */
function foldWriteHeadArguments(
  res: ServerResponse,
  args: readonly unknown[]
): { status: number; reason: string | undefined } {
  const status = Number(args[0])
  const reason = typeof args[1] === 'string' ? args[1] : undefined
  const headers = reason === undefined ? args[1] : args[2]
  if (reason !== undefined) res.statusMessage = reason
  if (Array.isArray(headers)) {
    const pairs: Array<[string, unknown]> = []
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as Array<[string, unknown]>) pairs.push([pair[0], pair[1]])
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2)
        pairs.push([String(headers[i]), headers[i + 1]])
    }
    for (const [name] of pairs) res.removeHeader(name)
    for (const [name, value] of pairs)
      if (name !== '') res.appendHeader(name, value as string | string[])
  } else if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (name !== '' && value !== undefined)
        res.setHeader(name, value as string | number | readonly string[])
    }
  }
  return { status, reason }
}

/** Bytes of a chunk passed to `write`/`end`: strings in their encoding (UTF-8 by default). */
function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (typeof chunk === 'string') {
    return Buffer.from(
      chunk,
      typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8'
    )
  }
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof Uint8Array)
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  return undefined
}

/** A write kept from the client: report success and call the callback. */
function held(encoding: unknown, callback: unknown): boolean {
  const cb = typeof encoding === 'function' ? encoding : callback
  if (typeof cb === 'function') process.nextTick(cb as () => void)
  return true
}

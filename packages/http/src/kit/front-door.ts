import {
  IncomingMessage,
  OutgoingMessage,
  ServerResponse as NodeServerResponse,
  type ServerResponse,
} from 'node:http'
import type { Socket } from 'node:net'
import type { HttpCache } from '../engine/http-cache.js'
import type { Lookup } from '../entry/entry-store.js'
import type { PreparedRequest } from '../request/prepare-request.js'
import {
  PreparedWire,
  STRING_BODY_MAX_BYTES,
  wireLines,
  type HeaderRecord,
  type WireLines,
} from '../flows/wire-lines.js'
import type { HeaderPairs } from '../types.js'
import type { HttpRequest, ReplyOutcome } from '../types.js'

export interface FrontDoorOptions {
  /**
   * The engine request for a raw Node request, resolved exactly as the adapter's middleware
   * would (host and protocol under the framework's proxy rules), or `undefined` when only the
   * framework can tell (the middleware would skip it, or its key needs framework state).
   */
  toRequest(req: IncomingMessage): HttpRequest | undefined
  /** The app: everything the front door does not answer goes here, untouched. */
  next(req: IncomingMessage, res: ServerResponse): void
}

/**
 * A `node:http` request listener that answers fresh hits and 304s from the cache before any
 * framework code runs, and hands every other request to the app, whose cache middleware stores
 * what it may. Keys and rules are the middleware's own: both go through the same engine. A request
 * that may use the cache reaches the app without the query parameters the key ignores.
 *
 * @example
 * ```ts
 * const listener = createFrontDoor(engine, { toRequest, next: app })
 * http.createServer(listener).listen(3000)
 * ```
 */
export function createFrontDoor(
  engine: HttpCache,
  options: FrontDoorOptions
): (req: IncomingMessage, res: ServerResponse) => void {
  const { toRequest, next } = options
  return function cachewireFrontDoor(req: IncomingMessage, res: ServerResponse): void {
    let request: HttpRequest | undefined
    // Only GET and HEAD can be answered from the cache; everything else goes straight through.
    if (req.method === 'GET' || req.method === 'HEAD') {
      try {
        request = toRequest(req)
      } catch {
        request = undefined
      }
    }
    if (request === undefined) {
      next(req, res)
      return
    }
    // Nothing runs here but a reply from the store: no handler can see an ignored parameter.
    request.stripsIgnoredParams = true
    const prepared = engine.prepare(request)
    // Ignored query parameters go before any of the app's middleware sees the request, so not
    // even middleware placed before the cache can reflect them into what the cache stores.
    if (prepared.context?.ignoredParams === true && req.url !== undefined) {
      req.url = engine.withoutIgnoredParams(req.url)
      const path = req.headers[':path']
      if (typeof path === 'string') req.headers[':path'] = engine.withoutIgnoredParams(path)
    }
    // A memory store answers in this tick; only a store read that needs I/O goes async, and only
    // that one makes closures (a hit made one per request before: ~100 bytes).
    const found = engine.lookup(prepared)
    if (found instanceof Promise)
      found.then(
        (lookup) => answerFrom(engine, prepared, lookup, req, res, next),
        () => next(req, res)
      )
    else answerFrom(engine, prepared, found, req, res, next)
  }
}

/** Writes the engine's answer to a looked-up request, or hands the request to the app. */
function answerFrom(
  engine: HttpCache,
  prepared: PreparedRequest,
  found: Lookup,
  req: IncomingMessage,
  res: ServerResponse,
  next: FrontDoorOptions['next']
): void {
  const reply = engine.answer(prepared, found)
  if (reply === undefined) next(req, res)
  else writeReply(res, reply)
}

/**
 * Writes a reply on a bare Node response: one `writeHead` and one `end`. A full response from an
 * entry goes to Node as headers already set (`writeHeadFromRecord`); other lines (a 304) as the
 * raw list, which Node checks line by line (repeated names stay separate lines either way). Node
 * still adds Date and the keep-alive fields, and sends no body for HEAD.
 */
export function writeReply(res: ServerResponse, reply: ReplyOutcome): void {
  const lines = wireLines(reply.headers)
  const slot = setHeadersSlot(res)
  if (slot === undefined || !writeHeadFromRecord(res, reply.status, lines, slot))
    // Node only reads the list; its type just does not say so.
    res.writeHead(reply.status, lines.raw as string[])
  endReply(res, reply.body, lines)
}

/**
 * Writes a reply straight to the socket on a response a framework owns (Express, Fastify, Koa's
 * first middleware): one `writeHead` and one `end`, and the lines stay readable with
 * `res.getHeader` for whatever watches the response finish (a logger reading Content-Length or
 * Cache-Status). Headers set earlier stay unless the reply has the same name.
 *
 * When nothing was set on `res` before (a Koa or Fastify hit), Node's record of set headers is
 * given the reply's lines (`WireLines.record`, built once per entry and second), so `getHeader`
 * reads them as if each had been set, without `setHeader` checking and storing each line: a full
 * response from an entry before a bare `writeHead` (`writeHeadFromRecord`), other lines after
 * `writeHead` took them as a raw list, as the front door sends them (callgrind, Koa middleware
 * hit: 93.7 k → 85.9 k instructions for the raw list, → 80.7 k from the record). Otherwise
 * (headers set earlier, `writeHead` or `setHeader` wrapped on the response, or a Node whose
 * responses keep their headers where this cannot find them) the lines go on `res` with
 * `setReplyHeaders` before a bare `writeHead`, because Node 20's `writeHead(status, array)` keeps
 * only the last line of a repeated name once any header was set with `setHeader`.
 *
 * @example
 * ```ts
 * sendReply(res, { kind: 'response', status: 200, headers: [['content-type', 'text/plain']], body })
 * ```
 */
export function sendReply(res: ServerResponse, reply: ReplyOutcome): void {
  const slot = setHeadersSlot(res)
  if (
    slot !== undefined &&
    (res as unknown as Record<symbol, unknown>)[slot] === null &&
    isNodesOwnHead(res)
  ) {
    const lines = wireLines(reply.headers)
    if (!writeHeadFromRecord(res, reply.status, lines, slot)) {
      res.writeHead(reply.status, lines.raw as string[])
      ;(res as unknown as Record<symbol, HeaderRecord>)[slot] = lines.record
    }
    endReply(res, reply.body, lines)
  } else {
    const lines = setReplyHeaders(res, reply.headers)
    res.writeHead(reply.status)
    endReply(res, reply.body, lines)
  }
}

/**
 * Writes the head from lines Node is told were set on `res` (its record of set headers, which
 * `getHeader` reads): Node checks a header as it is set, so it writes the head from that record
 * without checking each name and value again, as it does for a `writeHead` list (callgrind, 1 KB
 * hit: Koa front door 71.6 k → 65.3 k instructions, Koa middleware 87.9 k → 80.7 k). Only for
 * lines checked once per entry the way Node checks them (`WireLines.checked`), on a response
 * nothing was set on and whose `writeHead` and `setHeader` are Node's own (a wrapper could set a
 * header into the shared, frozen record). Lines hits share are written from their packed record
 * (`PreparedWire.headRecord`), and the record of each line is put back once the head is written.
 * Returns false, having written nothing, otherwise.
 */
function writeHeadFromRecord(
  res: ServerResponse,
  status: number,
  lines: WireLines,
  slot: symbol
): boolean {
  const headers = res as unknown as Record<symbol, HeaderRecord | null>
  if (!lines.checked || headers[slot] !== null || !isNodesOwnHead(res)) return false
  const head =
    lines instanceof PreparedWire && writesPackedHeads(slot) ? lines.headRecord : lines.record
  headers[slot] = head
  try {
    res.writeHead(status)
  } catch (error) {
    // Nothing was written (a head already sent, a status Node refuses): nothing stays recorded.
    headers[slot] = null
    throw error
  }
  // The head is written; whatever reads the response from now on sees each line as set.
  if (head !== lines.record) headers[slot] = lines.record
  return true
}

/**
 * Whether this Node writes the same head from a packed record (`PreparedWire.headRecord`) as
 * from the record of each line, tried once on a response that is never sent. A Node that
 * differs (another reading of the record, a check of values it took as checked) gets each line.
 */
let packedHeadsMatch: boolean | undefined

function writesPackedHeads(slot: symbol): boolean {
  if (packedHeadsMatch === undefined) {
    const probe = new PreparedWire(
      [
        ['content-type', 'text/plain'],
        ['etag', '"probe"'],
        ['content-length', '5'],
        ['age', '1'],
        ['cache-status', 'cachewire; hit'],
      ],
      false,
      '5',
      true,
      true
    )
    try {
      const each = writtenHead(slot, probe.record)
      packedHeadsMatch = each !== undefined && each === writtenHead(slot, probe.headRecord)
    } catch {
      packedHeadsMatch = false
    }
  }
  return packedHeadsMatch
}

/** The head Node writes for a 200 to a GET from `record` as the headers set, without a Date line. */
function writtenHead(slot: symbol, record: HeaderRecord): string | undefined {
  const req = new IncomingMessage(null as unknown as Socket)
  req.method = 'GET'
  req.httpVersionMajor = 1
  req.httpVersionMinor = 1
  const res = new NodeServerResponse(req)
  res.sendDate = false
  ;(res as unknown as Record<symbol, HeaderRecord>)[slot] = record
  res.writeHead(200)
  const head = (res as unknown as { _header?: unknown })._header
  return typeof head === 'string' ? head : undefined
}

/**
 * Whether `writeHead` and `setHeader` on `res` are Node's own. Middleware that watches the head
 * wraps them on the response (on-headers, under morgan, compression and response-time, and its
 * versions before 1.1 read a `writeHead` array as `[name, value]` pairs and pass on the status
 * alone): such a response gets each line through `setHeader` and a bare `writeHead`, as before.
 */
function isNodesOwnHead(res: ServerResponse): boolean {
  return (
    res.writeHead === NodeServerResponse.prototype.writeHead &&
    res.setHeader === NodeServerResponse.prototype.setHeader
  )
}

/**
 * The own property where Node's `OutgoingMessage` keeps the headers set on it (`kOutHeaders`,
 * null until one is set; `getHeader`, `getHeaders`, `hasHeader` and `getHeaderNames` read it),
 * found once and checked against what `setHeader` leaves there. `null` when this Node keeps them
 * elsewhere: `sendReply` then sets each line. A response that is not Node's HTTP/1 one (an HTTP/2
 * compatibility response) has no such property: `sendReply` finds no null there and sets each line.
 */
let setHeadersKey: symbol | null | undefined

function setHeadersSlot(res: ServerResponse): symbol | undefined {
  if (setHeadersKey === undefined) {
    // Only a Node HTTP/1 response tells; an HTTP/2 compatibility response keeps no such record.
    if (!(res instanceof OutgoingMessage)) return undefined
    setHeadersKey = findSetHeadersKey()
  }
  // No `in` check per hit: a response without the property reads undefined there, not the null
  // `sendReply` looks for.
  return setHeadersKey ?? undefined
}

function findSetHeadersKey(): symbol | null {
  const probe = new OutgoingMessage()
  const key = Object.getOwnPropertySymbols(probe).find((s) => s.description === 'kOutHeaders')
  if (key === undefined) return null
  const record = probe as unknown as Record<symbol, unknown>
  if (record[key] !== null) return null
  probe.setHeader('X-Probe', 'one')
  probe.appendHeader('x-probe', 'two')
  const held = (record[key] as Record<string, unknown> | null)?.['x-probe']
  const expected = ['X-Probe', ['one', 'two']]
  if (JSON.stringify(held) !== JSON.stringify(expected)) return null
  // And the other way: what is put there is what `getHeader` reads.
  record[key] = { __proto__: null, 'x-probe': ['X-Probe', 'three'] }
  return probe.getHeader('X-Probe') === 'three' && probe.getHeaderNames().length === 1 ? key : null
}

/**
 * Ends a response whose head is set with its body, byte for byte. A small body goes out as a
 * latin1 string (one byte per character, so every byte comes back as it was), which Node joins
 * to the head and sends in one write; a Buffer body is queued behind the head and sent with a
 * gathered write instead, a longer path through Node's response (more of its fields read per
 * request, each an inline-cache miss on Express 5, whose requests each get a map of their own).
 * The Content-Length set with the head stays the stored one. Given the reply's `lines`, a busy
 * entry's shared lines may hold the body's text already (made once for the hits of that entry
 * within a second; `holdBodyText`), and that text is sent instead of a new copy.
 *
 * @example
 * ```ts
 * res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' })
 * endReply(res, Buffer.from('{}'))
 * ```
 */
export function endReply(res: ServerResponse, body: Buffer, lines?: WireLines): void {
  if (body.length === 0) res.end()
  else if (body.length <= STRING_BODY_MAX_BYTES) {
    const text = lines instanceof PreparedWire ? lines.bodyText(body) : undefined
    res.end(text ?? body.toString('latin1'), 'latin1')
  } else res.end(body)
}

/**
 * Puts a reply's lines on a response that may already carry headers (set by a framework or by
 * middleware before the cache): a name the reply has replaces what was set, a repeated name is
 * appended line by line, and everything else set earlier stays. Only names already set are
 * removed, and a name that does not repeat is set once (`appendHeader` would check it twice).
 * Returns the reply's lines in wire form (see `wireLines`).
 *
 * `leftToCaller` names a (lower-case) field whose lines are not set here: the caller's framework
 * sets it anyway (Koa's body setter sets Content-Length), and each `setHeader` is a validation of
 * name and value. The caller compares what the framework set with the reply's (`contentLength`
 * for Content-Length) and fixes it.
 *
 * @example
 * ```ts
 * setReplyHeaders(res, reply.headers)
 * res.writeHead(reply.status)
 * ```
 */
export function setReplyHeaders(
  res: ServerResponse,
  headers: HeaderPairs,
  leftToCaller?: string
): WireLines {
  const lines = wireLines(headers)
  // The pairs are walked by index: destructuring each costs an iterator per line, and the flat
  // `raw` list is only made for a front door's writeHead.
  if (!lines.repeats) {
    // setHeader replaces a value set earlier under the same name: nothing to clear per hit.
    for (let i = 0; i < headers.length; i++) {
      const pair = headers[i] as HeaderPairs[number]
      if (pair[0] !== leftToCaller) res.setHeader(pair[0], pair[1])
    }
    return lines
  }
  // Appended lines must not join a value set earlier under the same name: clear those first.
  for (const name of res.getHeaderNames()) if (lines.names.has(name)) res.removeHeader(name)
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i] as HeaderPairs[number]
    if (pair[0] !== leftToCaller) res.appendHeader(pair[0], pair[1])
  }
  return lines
}

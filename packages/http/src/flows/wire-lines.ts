import { validateHeaderName, validateHeaderValue } from 'node:http'
import type { HeaderPair, HeaderPairs } from '../types.js'

/** Where kept lines carry their wire forms, so `wireLines` needs no weak-map entry per array. */
export const WIRE: unique symbol = Symbol('cachewire.wire-lines')

/**
 * The last hit's own (not kept) lines and their wire forms. An adapter asks for them right after
 * the hit is served; if another reply was prepared in between, `wireLines` works them out again.
 */
let lastLines: HeaderPairs | undefined
let lastWire: WireLines | undefined

/** Makes `wire` the wire forms of one reply's own `pairs` (see above). */
export function lendWire(pairs: HeaderPairs, wire: WireLines): void {
  lastLines = pairs
  lastWire = wire
}

/** A reply's lines in the forms Node's response API takes. */
export interface WireLines {
  /** `[name, value, name, value…]`, for `ServerResponse.writeHead`: a repeated name stays two lines. */
  readonly raw: readonly string[]
  /** The names, lower-case. */
  readonly names: ReadonlySet<string>
  /** Whether some name has more than one line (then it must be appended, not set). */
  readonly repeats: boolean
  /** The first Content-Length line's value: an adapter whose framework sets its own checks it per hit. */
  readonly contentLength: string | undefined
  /**
   * Whether every line is known to pass the checks Node makes of a header set on a response
   * (`validateHeaderName`, `validateHeaderValue`): worked out once per entry for a full response
   * from it, so Node can be given `record` as headers already set, which it does not check again.
   * `false` for other lines (a 304, a 206): not checked here, so Node checks them.
   */
  readonly checked: boolean
  /**
   * The lines as Node's response records headers set on it (what `getHeader` reads): lower-case
   * name → `[name, value]`, a repeated name's values in one array. Frozen when hits share it.
   */
  readonly record: HeaderRecord
}

/** Node's record of a response's set headers: lower-case name → `[name, value or values]`. */
export type HeaderRecord = Readonly<
  Record<string, readonly [name: string, value: string | readonly string[]]>
>

/**
 * The wire forms of prepared lines: whether a name repeats from the entry, the raw list and the
 * name set only when asked (a front door's writeHead; an adapter appending repeated lines).
 */
export class PreparedWire implements WireLines {
  readonly repeats: boolean
  readonly contentLength: string | undefined
  readonly checked: boolean
  readonly #pairs: HeaderPairs
  readonly #shared: boolean
  #raw: readonly string[] | undefined
  #names: ReadonlySet<string> | undefined
  #record: HeaderRecord | undefined
  #headRecord: HeaderRecord | undefined
  /** The body whose latin1 text `#text` is, while these lines hold it (`holdBodyText`). */
  #textOf: Buffer | undefined
  #text: string | undefined

  constructor(
    pairs: HeaderPairs,
    repeats: boolean,
    contentLength: string | undefined,
    checked: boolean,
    shared: boolean
  ) {
    this.#pairs = pairs
    this.repeats = repeats
    this.contentLength = contentLength
    this.checked = checked
    this.#shared = shared
  }

  get record(): HeaderRecord {
    return (this.#record ??= headerRecord(this.#pairs, this.#shared, this))
  }

  /**
   * The record a head is written from (`packedHeadRecord`), for lines hits share that passed
   * Node's checks (`checked`) and name no field twice; `record` for any other lines.
   */
  get headRecord(): HeaderRecord {
    if (!this.#shared || !this.checked || this.repeats) return this.record
    return (this.#headRecord ??= packedHeadRecord(this.#pairs))
  }

  get raw(): readonly string[] {
    return (this.#raw ??= rawLines(this.#pairs, this.#shared))
  }

  get names(): ReadonlySet<string> {
    return (this.#names ??= new Set(this.#pairs.map(([name]) => name)))
  }

  /**
   * `body` as the latin1 text `endReply` sends, when this wire holds it for that very body (see
   * `holdBodyText`); undefined otherwise, and the caller makes its own.
   */
  bodyText(body: Buffer): string | undefined {
    return this.#textOf === body ? this.#text : undefined
  }

  /** Keeps `body`'s text for the hits that share these lines. */
  keepBodyText(body: Buffer): void {
    this.#textOf = body
    this.#text = body.toString('latin1')
  }

  /** Lets the text go: the lines are stale (Age moved on) or the budget of held texts is spent. */
  dropBodyText(): void {
    this.#textOf = undefined
    this.#text = undefined
  }
}

/**
 * Bodies up to this size are sent as a latin1 string (see `endReply`). The string is a copy of the
 * body, and Node copies it again to write it: past a couple of KiB the copies cost more than the
 * gathered write they save (callgrind, front door: 1 KB −0.8 k instructions a hit, 2 KB level,
 * 4 KB +1.4 k, 8 KB +10.9 k).
 */
export const STRING_BODY_MAX_BYTES = 2 * 1024

/**
 * Shared lines whose wire holds its body's text, at most this many made in any one second: a busy
 * entry's hits within a second then send one text instead of each making its own (a 1 KB copy and
 * a string on the heap per hit). Texts are copies of bodies the store already counts, so what
 * they take is capped here: at most twice this many bodies of up to `STRING_BODY_MAX_BYTES`.
 */
const BODY_TEXTS_PER_SECOND = 256

/** The wires holding a text, made in the current second and in the one before it. */
let textsNow: PreparedWire[] = []
let textsBefore: PreparedWire[] = []
let textsSecond = Number.NaN

/**
 * Gives `wire` (shared lines, made at `now`) its body's text, unless the body is empty or too long
 * to be sent as text, or this second's budget is spent. Texts are let go two seconds on: lines are
 * kept for one Age value, so by the second after next the hits have moved on to new lines, and an
 * entry served busily once and then no more does not keep a copy of its body (a WeakMap or a text
 * on the entry would, for as long as the store keeps the entry).
 */
export function holdBodyText(wire: PreparedWire, body: Buffer, now: number): void {
  if (body.length === 0 || body.length > STRING_BODY_MAX_BYTES) return
  const second = Math.floor(now / 1000)
  if (second !== textsSecond) {
    for (const held of textsBefore) held.dropBodyText()
    if (second === textsSecond + 1) textsBefore = textsNow
    else {
      // A clock that jumped (or went back) leaves no second whose lines could still be current.
      for (const held of textsNow) held.dropBodyText()
      textsBefore = []
    }
    textsNow = []
    textsSecond = second
  }
  if (textsNow.length >= BODY_TEXTS_PER_SECOND) return
  wire.keepBodyText(body)
  textsNow.push(wire)
}

/**
 * Whether an entry's lines, with the Age and Cache-Status lines a hit appends, name a field twice.
 * Pairwise, not through a name set: the set was kept by every entry served once (about 220 bytes,
 * a tenth of the heap a first hit kept per entry: bench/heap-per-entry.mjs) to answer this one
 * question. Names are stored lower-case.
 */
export function repeatsAName(headers: HeaderPairs): boolean {
  if (headers.length > PAIRWISE_NAMES_MAX) {
    const names = new Set(headers.map(([name]) => name))
    return names.size < headers.length || names.has('age') || names.has('cache-status')
  }
  for (let i = 0; i < headers.length; i++) {
    const name = (headers[i] as HeaderPair)[0]
    if (name === 'age' || name === 'cache-status') return true
    for (let j = i + 1; j < headers.length; j++)
      if ((headers[j] as HeaderPair)[0] === name) return true
  }
  return false
}

/** Lines up to which `repeatsAName` compares names pairwise; a longer list (rare) takes a set made once. */
const PAIRWISE_NAMES_MAX = 32

/**
 * Whether Node's own checks of a header set on a response (`validateHeaderName`,
 * `validateHeaderValue`: a token name, no control characters such as CR or LF in the value) pass
 * every line. Stored lines come from a store a cache does not own (bytes in Redis), so they are
 * checked before Node is told they were; a line that fails leaves Node to check and refuse it, as
 * before.
 */
export function passNodeChecks(headers: HeaderPairs): boolean {
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i] as HeaderPair
    if (!passesNodeChecks(pair[0], pair[1])) return false
  }
  return true
}

export function passesNodeChecks(name: string, value: string): boolean {
  try {
    validateHeaderName(name)
    validateHeaderValue(name, value)
    return true
  } catch {
    return false
  }
}

/**
 * The prototype of a header record: empty, with no prototype itself, so a record inherits no name
 * (`hasHeader('constructor')` is false, as with Node's own null-prototype record), yet stays in
 * V8's fast mode, where a null-prototype object is a dictionary from the start: adding its six
 * lines took ~2.6 k instructions a hit (callgrind, Koa middleware over 10,000 Zipf keys).
 */
const RECORD_BASE: object = Object.freeze(Object.create(null))

/**
 * Lines as Node's response keeps headers set on it, built as `setHeader` and `appendHeader` would
 * (a repeated name's values in one array, in order). A record hits share is frozen, so what one
 * response's reader does to it (`getHeader('link').push(…)`) cannot show in another's. Prepared
 * lines are an entry's, whose names are lower-case (the codec refuses others) and, unless
 * `repeats`, distinct: each is stored as it is.
 */
function headerRecord(
  headers: HeaderPairs,
  shared: boolean,
  prepared?: { readonly repeats: boolean }
): HeaderRecord {
  const record: Record<string, [string, string | string[]]> = Object.create(RECORD_BASE)
  if (prepared !== undefined && !prepared.repeats) {
    for (let i = 0; i < headers.length; i++) {
      const pair = headers[i] as HeaderPair
      record[pair[0]] = [pair[0], pair[1]]
    }
  } else {
    for (let i = 0; i < headers.length; i++) {
      const [name, value] = headers[i] as HeaderPair
      const key = prepared === undefined ? name.toLowerCase() : name
      const held = record[key]
      if (held === undefined) record[key] = [name, value]
      else held[1] = typeof held[1] === 'string' ? [held[1], value] : [...held[1], value]
    }
  }
  if (!shared) return record
  for (const key in record) {
    const held = record[key] as [string, string | string[]]
    if (typeof held[1] !== 'string') Object.freeze(held[1])
    Object.freeze(held)
  }
  return Object.freeze(record)
}

/**
 * The names whose lines Node's response reads as it writes the head (`matchHeader` in
 * node:_http_outgoing: the framing, keep-alive and Date lines).
 */
const NAMES_NODE_READS: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'date',
  'expect',
  'keep-alive',
  'trailer',
  'transfer-encoding',
])

/**
 * A record for writing a head only, never for `getHeader` to read: each run of lines Node does
 * not read (`NAMES_NODE_READS`) is one entry, its first line's name with the run's lines joined
 * after its value, so Node writes the same head with one entry per run instead of one per line:
 * it reads, joins, lower-cases and matches each entry's name (callgrind, Koa front door at 1 KB,
 * six lines as three entries: 63.2 k → 60.7 k instructions a hit; Koa middleware 79.8 k → 76.9 k).
 * Only for lines that each passed Node's checks (no CR or LF in a name or value: the joins are the
 * only line breaks) and whose lower-case names are distinct.
 */
function packedHeadRecord(headers: HeaderPairs): HeaderRecord {
  const record: Record<string, [string, string]> = Object.create(RECORD_BASE)
  let run: [string, string] | undefined
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i] as HeaderPair
    if (NAMES_NODE_READS.has(name)) {
      record[name] = [name, value]
      run = undefined
    } else if (run === undefined) {
      run = [name, value]
      record[name] = run
    } else run[1] += `\r\n${name}: ${value}`
  }
  return Object.freeze(record)
}

/** The flat list `writeHead` takes; frozen when hits share it (one reply's own is not worth a freeze). */
function rawLines(headers: HeaderPairs, shared: boolean): readonly string[] {
  const raw: string[] = []
  // By index: destructuring each pair costs an iterator per line, on every hit not kept.
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i] as HeaderPair
    raw.push(pair[0], pair[1])
  }
  return shared ? Object.freeze(raw) : raw
}

/**
 * A reply's lines as Node's response API takes them. Prepared lines (a full response from an
 * entry) carry theirs, shared by the hits of that entry within the same second; other lines (a
 * 304, a 206) are one reply's and are worked out here, with no memo: a WeakMap entry per reply
 * would be held by V8's young-generation collector and outlive the reply.
 *
 * @example
 * ```ts
 * res.writeHead(reply.status, wireLines(reply.headers).raw as string[])
 * ```
 */
export function wireLines(headers: HeaderPairs): WireLines {
  const prepared = (headers as { [WIRE]?: WireLines })[WIRE]
  if (prepared !== undefined) return prepared
  if (headers === lastLines && lastWire !== undefined) return lastWire
  const names = new Set<string>()
  let contentLength: string | undefined
  for (const [name, value] of headers) {
    names.add(name)
    if (name === 'content-length') contentLength ??= value
  }
  return {
    raw: rawLines(headers, false),
    names,
    repeats: names.size < headers.length,
    contentLength,
    checked: false,
    get record() {
      return headerRecord(headers, false)
    },
  }
}

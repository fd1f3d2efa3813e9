import type { HeaderPair, HeaderPairs, StoredResponse } from '../types.js'
import { headerValue } from '../semantics/headers.js'
import {
  FIELD_NAME,
  ROUTE_NAME,
  SHARED_VALUE_FIELDS,
  UNSAFE_VALUE,
  sharedText,
} from './stored-text.js'

/**
 * The URL-level record stored under a primary key when responses Vary: which fields select the
 * variant, and which variants (hashed keys) exist, for the variant cap.
 */
export interface VaryIndex {
  /** The full primary key, compared on read like an entry's. */
  key: string
  vary: readonly string[]
  variants: readonly string[]
  expiresAt: number
}

/** `CWH` plus the format version. Bump the version (and KEY_FORMAT_VERSION) on any layout change. */
const MAGIC = [0x43, 0x57, 0x48, 0x03] as const
const KIND_ENTRY = 0x45 // 'E'
const KIND_VARY = 0x56 // 'V'
/** magic (4) + kind (1) + header length (uint32 BE). */
const PREFIX_BYTES = 9
/** A header part larger than this is not something we wrote. */
const MAX_HEADER_BYTES = 1 << 20

/*
 * An entry's header part, numbers little-endian:
 *   status u16, flags u8, 0 u8
 *   storedAt, initialAgeMs, staleAt, staleWhileRevalidateUntil, staleIfErrorUntil, expiresAt: f64
 *   counts u32: header lines, 304 lines, Vary names, tags
 *   each 304 line's index among the header lines: u32
 *   each string's length in UTF-8 bytes: u32, in the order key, then etag, lastModified,
 *     upstreamCacheStatus and route where the flags say they are there, then each line's name and
 *     value, the Vary names and the tags
 *   the strings in UTF-8, one after the other: the rest of the header part
 * Format 2 had a JSON header part: JSON.stringify and JSON.parse of the same fields cost 40 k
 * instructions an encoding and 39 k a decoding of a 1 KB response; this layout, 13 k and 32 k
 * (bench/callgrind.mjs cachewire-koa-miss and cachewire-koa-zipf).
 */
const FLAG_ETAG_GENERATED = 1
const FLAG_ALLOW_MAX_STALE = 2
const FLAG_SHARED_WITH_AUTHORIZATION = 4
const FLAG_ETAG = 8
const FLAG_LAST_MODIFIED = 16
const FLAG_UPSTREAM_CACHE_STATUS = 32
const FLAG_ROUTE = 64
const KNOWN_FLAGS = 127
/** status, flags, a zero byte, six instants and four counts. */
const FIXED_BYTES = 4 + 6 * 8 + 4 * 4

/**
 * Encodes an entry as one binary value: a 9-byte prefix, a small binary header part (numbers,
 * then the strings' text), then the raw body bytes (never base64, never JSON of a Buffer).
 *
 * @example
 * ```ts
 * const bytes = encodeEntry(entry)
 * decodeValue(bytes) // { kind: 'entry', entry }
 * ```
 */
export function encodeEntry(entry: StoredResponse): Buffer {
  const { headers, notModifiedHeaders, vary, tags, body } = entry
  let flags =
    (entry.etagGenerated ? FLAG_ETAG_GENERATED : 0) |
    (entry.allowMaxStale ? FLAG_ALLOW_MAX_STALE : 0) |
    (entry.sharedWithAuthorization ? FLAG_SHARED_WITH_AUTHORIZATION : 0)
  const strings = [entry.key]
  if (entry.etag !== undefined) {
    flags |= FLAG_ETAG
    strings.push(entry.etag)
  }
  if (entry.lastModified !== undefined) {
    flags |= FLAG_LAST_MODIFIED
    strings.push(entry.lastModified)
  }
  if (entry.upstreamCacheStatus !== undefined) {
    flags |= FLAG_UPSTREAM_CACHE_STATUS
    strings.push(entry.upstreamCacheStatus)
  }
  if (typeof entry.route === 'string') {
    flags |= FLAG_ROUTE
    strings.push(entry.route)
  }
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i] as HeaderPair
    strings.push(pair[0], pair[1])
  }
  for (const name of vary) strings.push(name)
  for (const tag of tags) strings.push(tag)
  const text = strings.join('')
  const textBytes = Buffer.byteLength(text, 'utf8')
  const headerBytes = FIXED_BYTES + 4 * (notModifiedHeaders.length + strings.length) + textBytes
  const bytes = Buffer.allocUnsafe(PREFIX_BYTES + headerBytes + body.length)
  bytes.set(MAGIC, 0)
  bytes[4] = KIND_ENTRY
  bytes.writeUInt32BE(headerBytes, 5)
  // A status no entry may have is written as 0, which never decodes; masking it to 16 bits could
  // turn it into a valid one (65,736 into 200).
  let at = bytes.writeUInt16LE(isEntryStatus(entry.status) ? entry.status : 0, PREFIX_BYTES)
  bytes[at++] = flags
  bytes[at++] = 0
  at = bytes.writeDoubleLE(entry.storedAt, at)
  at = bytes.writeDoubleLE(entry.initialAgeMs, at)
  at = bytes.writeDoubleLE(entry.staleAt, at)
  at = bytes.writeDoubleLE(entry.staleWhileRevalidateUntil, at)
  at = bytes.writeDoubleLE(entry.staleIfErrorUntil, at)
  at = bytes.writeDoubleLE(entry.expiresAt, at)
  at = bytes.writeUInt32LE(headers.length, at)
  at = bytes.writeUInt32LE(notModifiedHeaders.length, at)
  at = bytes.writeUInt32LE(vary.length, at)
  at = bytes.writeUInt32LE(tags.length, at)
  // A 304 line that is not among the header lines (-1) is written as 2^32 - 1: never decoded.
  for (const pair of notModifiedHeaders)
    at = bytes.writeUInt32LE(indexOfPair(headers, pair) >>> 0, at)
  // Text all in ASCII (the usual case) has one byte per code unit: no string is measured again.
  const ascii = textBytes === text.length
  for (const string of strings)
    at = bytes.writeUInt32LE(ascii ? string.length : Buffer.byteLength(string, 'utf8'), at)
  at += bytes.write(text, at, textBytes, 'utf8')
  bytes.set(body, at)
  return bytes
}

/**
 * Encodes a Vary index (no body).
 *
 * @example
 * ```ts
 * encodeVaryIndex({ key, vary: ['accept-encoding'], variants: [hash], expiresAt })
 * ```
 */
export function encodeVaryIndex(index: VaryIndex): Buffer {
  return frame(KIND_VARY, index, Buffer.alloc(0))
}

/** What a stored value decodes to. */
export type DecodedValue =
  { kind: 'entry'; entry: StoredResponse } | { kind: 'vary'; index: VaryIndex }

/**
 * Decodes and validates a stored value. Anything that is not exactly what `encodeEntry` or
 * `encodeVaryIndex` wrote (wrong magic, truncated, lengths that do not add up, bad JSON in a Vary
 * index, a missing or mistyped field, a header line that could inject CR/LF) gives undefined: a
 * miss, never a crash. Objects are built field by field, so nothing from the store reaches a
 * prototype. The body is a zero-copy view. `expectedKey`, the key the reader looks for, is used
 * as the record's key when the stored one is the same text (see `sameText`).
 *
 * @example
 * ```ts
 * decodeValue(Buffer.from('garbage')) // undefined
 * ```
 */
export function decodeValue(bytes: Uint8Array, expectedKey?: string): DecodedValue | undefined {
  if (bytes.length < PREFIX_BYTES) return undefined
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return undefined
  const kind = bytes[4]
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerBytes = view.readUInt32BE(5)
  if (headerBytes > MAX_HEADER_BYTES || PREFIX_BYTES + headerBytes > view.length) return undefined
  const end = PREFIX_BYTES + headerBytes
  const body = view.subarray(end)
  if (kind === KIND_ENTRY) {
    const entry = readEntry(view, end, body, expectedKey)
    return entry === undefined ? undefined : { kind: 'entry', entry }
  }
  if (kind !== KIND_VARY || body.length !== 0) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(view.toString('utf8', PREFIX_BYTES, end))
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  const index = readVaryIndex(parsed as Record<string, unknown>, expectedKey)
  return index === undefined ? undefined : { kind: 'vary', index }
}

function frame(kind: number, header: object, body: Uint8Array): Buffer {
  const json = JSON.stringify(header)
  const jsonBytes = Buffer.byteLength(json, 'utf8')
  // One buffer, written in place: no Buffer of the JSON and no concat copying it again.
  const bytes = Buffer.allocUnsafe(PREFIX_BYTES + jsonBytes + body.length)
  bytes.set(MAGIC, 0)
  bytes[4] = kind
  bytes.writeUInt32BE(jsonBytes, 5)
  bytes.write(json, PREFIX_BYTES, jsonBytes, 'utf8')
  bytes.set(body, PREFIX_BYTES + jsonBytes)
  return bytes
}

/**
 * The strings of an entry's header part, each decoded from its own bytes: a cut (`slice`) of one
 * decoding of the whole text would keep all of that text alive for as long as the entry keeps
 * any of its strings. `next` gives undefined once a length runs past the text; `done` says
 * whether the text was all used.
 */
class StringCursor {
  readonly #view: Buffer
  readonly #end: number
  #lengthAt: number
  #at: number

  constructor(view: Buffer, lengthAt: number, textAt: number, end: number) {
    this.#view = view
    this.#lengthAt = lengthAt
    this.#at = textAt
    this.#end = end
  }

  next(): string | undefined {
    const length = this.#view.readUInt32LE(this.#lengthAt)
    this.#lengthAt += 4
    const at = this.#at
    if (length > this.#end - at) return undefined
    this.#at = at + length
    return this.#view.toString('utf8', at, at + length)
  }

  get done(): boolean {
    return this.#at === this.#end
  }
}

/** A status an entry may carry: the one rule the encoder writes by and the decoder checks. */
function isEntryStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 100 && status <= 599
}

function readEntry(
  view: Buffer,
  end: number,
  body: Buffer,
  expectedKey: string | undefined
): StoredResponse | undefined {
  let at = PREFIX_BYTES
  if (end - at < FIXED_BYTES) return undefined
  const status = view.readUInt16LE(at)
  const flags = view[at + 2] as number
  if (!isEntryStatus(status) || (flags & ~KNOWN_FLAGS) !== 0 || view[at + 3] !== 0) return undefined
  const storedAt = view.readDoubleLE(at + 4)
  const initialAgeMs = view.readDoubleLE(at + 12)
  const staleAt = view.readDoubleLE(at + 20)
  const staleWhileRevalidateUntil = view.readDoubleLE(at + 28)
  const staleIfErrorUntil = view.readDoubleLE(at + 36)
  const expiresAt = view.readDoubleLE(at + 44)
  if (
    !Number.isFinite(storedAt) ||
    !Number.isFinite(initialAgeMs) ||
    !Number.isFinite(staleAt) ||
    !Number.isFinite(staleWhileRevalidateUntil) ||
    !Number.isFinite(staleIfErrorUntil) ||
    !Number.isFinite(expiresAt)
  )
    return undefined
  const lineCount = view.readUInt32LE(at + 52)
  const notModifiedCount = view.readUInt32LE(at + 56)
  const varyCount = view.readUInt32LE(at + 60)
  const tagCount = view.readUInt32LE(at + 64)
  at += FIXED_BYTES
  const optionalCount =
    ((flags & FLAG_ETAG) !== 0 ? 1 : 0) +
    ((flags & FLAG_LAST_MODIFIED) !== 0 ? 1 : 0) +
    ((flags & FLAG_UPSTREAM_CACHE_STATUS) !== 0 ? 1 : 0) +
    ((flags & FLAG_ROUTE) !== 0 ? 1 : 0)
  const stringCount = 1 + optionalCount + 2 * lineCount + varyCount + tagCount
  const lengthsAt = at + 4 * notModifiedCount
  const textAt = lengthsAt + 4 * stringCount
  if (textAt > end) return undefined
  const strings = new StringCursor(view, lengthsAt, textAt, end)
  const key = strings.next()
  const etag = readOptional(strings, flags, FLAG_ETAG)
  const lastModified = readOptional(strings, flags, FLAG_LAST_MODIFIED)
  const upstreamCacheStatus = readOptional(strings, flags, FLAG_UPSTREAM_CACHE_STATUS)
  const route = readOptional(strings, flags, FLAG_ROUTE)
  if (
    key === undefined ||
    etag === null ||
    lastModified === null ||
    upstreamCacheStatus === null ||
    route === null ||
    !isSafeOptional(etag) ||
    !isSafeOptional(lastModified) ||
    !isSafeOptional(upstreamCacheStatus)
  )
    return undefined
  // Lists are pushed to and kept as copies of their exact length. `new Array(n)` is holey where
  // an admitted response's lists are packed (every site reading both would see two element
  // kinds), and a pushed-to list keeps room for 16: a decoded entry kept 1,291 bytes of heap
  // instead of 1,052 (20,000 decodings of a 1 KB response with three lines).
  const headers: HeaderPair[] = []
  for (let i = 0; i < lineCount; i++) {
    const name = strings.next()
    const text = strings.next()
    if (name === undefined || text === undefined) return undefined
    if (!FIELD_NAME.test(name) || UNSAFE_VALUE.test(text)) return undefined
    headers.push([sharedText(name), SHARED_VALUE_FIELDS.has(name) ? sharedText(text) : text])
  }
  const notModified: HeaderPair[] = []
  for (let i = 0; i < notModifiedCount; i++) {
    const pair = headers[view.readUInt32LE(at + 4 * i)]
    if (pair === undefined) return undefined
    notModified.push(pair)
  }
  const vary = readStringList(strings, varyCount, FIELD_NAME)
  const tags = readStringList(strings, tagCount)
  if (vary === undefined || tags === undefined || !strings.done) return undefined
  // One string for the field and its line, as the entry was before it was stored.
  const etagLine = headerValue(headers, 'etag')
  return {
    key: sameText(key, expectedKey),
    status,
    headers: headers.slice(),
    notModifiedHeaders: notModified.slice(),
    body,
    storedAt,
    initialAgeMs,
    staleAt,
    staleWhileRevalidateUntil,
    staleIfErrorUntil,
    expiresAt,
    etag: etagLine !== undefined && etagLine === etag ? etagLine : etag,
    etagGenerated: (flags & FLAG_ETAG_GENERATED) !== 0,
    lastModified,
    vary,
    tags,
    upstreamCacheStatus,
    allowMaxStale: (flags & FLAG_ALLOW_MAX_STALE) !== 0,
    sharedWithAuthorization: (flags & FLAG_SHARED_WITH_AUTHORIZATION) !== 0,
    // A label only, never a header: a name `RouteOptions.name` would refuse is dropped.
    ...(route !== undefined && ROUTE_NAME.test(route) ? { route } : {}),
  }
}

/** The string a flag says is there: undefined when the flag is off, null when it is on and missing. */
function readOptional(
  strings: StringCursor,
  flags: number,
  flag: number
): string | undefined | null {
  return (flags & flag) === 0 ? undefined : (strings.next() ?? null)
}

function readStringList(
  strings: StringCursor,
  count: number,
  pattern?: RegExp
): string[] | undefined {
  const list: string[] = []
  for (let i = 0; i < count; i++) {
    const item = strings.next()
    if (item === undefined || (pattern !== undefined && !pattern.test(item))) return undefined
    list.push(item)
  }
  return list.slice()
}

/** Absent, or safe to put in a header (these become request or response fields). */
function isSafeOptional(value: string | undefined): boolean {
  return value === undefined || !UNSAFE_VALUE.test(value)
}

function readVaryIndex(
  record: Record<string, unknown>,
  expectedKey: string | undefined
): VaryIndex | undefined {
  const vary = readStrings(record.vary, FIELD_NAME)
  const variants = readStrings(record.variants)
  if (typeof record.key !== 'string' || vary === undefined || variants === undefined)
    return undefined
  if (!Number.isFinite(record.expiresAt)) return undefined
  const key = sameText(record.key, expectedKey)
  return { key, vary, variants, expiresAt: record.expiresAt as number }
}

/** The reader's string when the stored key reads the same: later reads compare keys by identity. */
function sameText(stored: string, expected: string | undefined): string {
  return stored === expected ? expected : stored
}

function readStrings(value: unknown, pattern?: RegExp): string[] | undefined {
  if (!Array.isArray(value)) return undefined
  for (const item of value) {
    if (typeof item !== 'string' || (pattern !== undefined && !pattern.test(item))) return undefined
  }
  return value as string[]
}

function indexOfPair(headers: HeaderPairs, pair: HeaderPair): number {
  const index = headers.indexOf(pair)
  return index !== -1
    ? index
    : headers.findIndex(([name, value]) => name === pair[0] && value === pair[1])
}

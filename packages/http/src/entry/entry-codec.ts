import type { HeaderPair, HeaderPairs, StoredResponse } from '../types.js'
import { headerValue } from '../semantics/headers.js'

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
const MAGIC = [0x43, 0x57, 0x48, 0x02] as const
const KIND_ENTRY = 0x45 // 'E'
const KIND_VARY = 0x56 // 'V'
/** magic (4) + kind (1) + header length (uint32 BE). */
const PREFIX_BYTES = 9
/** A header part larger than this is not something we wrote. */
const MAX_HEADER_BYTES = 1 << 20

/**
 * Encodes an entry as one binary value: a 9-byte prefix, a small JSON header part, then the raw
 * body bytes (never base64, never JSON of a Buffer).
 *
 * @example
 * ```ts
 * const bytes = encodeEntry(entry)
 * decodeValue(bytes) // { kind: 'entry', entry }
 * ```
 */
export function encodeEntry(entry: StoredResponse): Buffer {
  const header = {
    key: entry.key,
    status: entry.status,
    headers: entry.headers,
    notModifiedHeaders: entry.notModifiedHeaders.map((pair) => indexOfPair(entry.headers, pair)),
    storedAt: entry.storedAt,
    initialAgeMs: entry.initialAgeMs,
    staleAt: entry.staleAt,
    staleWhileRevalidateUntil: entry.staleWhileRevalidateUntil,
    staleIfErrorUntil: entry.staleIfErrorUntil,
    expiresAt: entry.expiresAt,
    etag: entry.etag,
    etagGenerated: entry.etagGenerated,
    lastModified: entry.lastModified,
    vary: entry.vary,
    tags: entry.tags,
    upstreamCacheStatus: entry.upstreamCacheStatus,
    allowMaxStale: entry.allowMaxStale,
    sharedWithAuthorization: entry.sharedWithAuthorization,
    route: entry.route,
  }
  return frame(KIND_ENTRY, header, entry.body)
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
 * `encodeVaryIndex` wrote (wrong magic, truncated, bad JSON, a missing or mistyped field, a
 * header line that could inject CR/LF) gives undefined: a miss, never a crash. Objects are built
 * field by field, so nothing from the store reaches a prototype. The body is a zero-copy view.
 *
 * @example
 * ```ts
 * decodeValue(Buffer.from('garbage')) // undefined
 * ```
 */
export function decodeValue(bytes: Uint8Array): DecodedValue | undefined {
  if (bytes.length < PREFIX_BYTES) return undefined
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return undefined
  const kind = bytes[4]
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerBytes = view.readUInt32BE(5)
  if (headerBytes > MAX_HEADER_BYTES || PREFIX_BYTES + headerBytes > view.length) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(view.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes))
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  const record = parsed as Record<string, unknown>
  const body = view.subarray(PREFIX_BYTES + headerBytes)
  if (kind === KIND_ENTRY) {
    const entry = readEntry(record, body)
    return entry === undefined ? undefined : { kind: 'entry', entry }
  }
  if (kind === KIND_VARY && body.length === 0) {
    const index = readVaryIndex(record)
    return index === undefined ? undefined : { kind: 'vary', index }
  }
  return undefined
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

/** RFC 9110 §5.1 field-name (lower-case) and a field value without CR, LF or NUL (§5.5). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/
const UNSAFE_VALUE = /[\r\n\0]/
/** What `RouteOptions.name` allows. */
const ROUTE_NAME = /^[\w.:/-]{1,64}$/

function readEntry(record: Record<string, unknown>, body: Buffer): StoredResponse | undefined {
  const headers = readHeaders(record.headers)
  const indices = record.notModifiedHeaders
  if (headers === undefined || !Array.isArray(indices)) return undefined
  for (const index of indices)
    if (typeof index !== 'number' || headers[index] === undefined) return undefined
  // Arrays of their exact length (see `readHeaders`).
  const notModified = (indices as number[]).map((index) => headers[index] as HeaderPair)
  const { key, status, etag, lastModified, upstreamCacheStatus } = record
  const vary = readStrings(record.vary, FIELD_NAME)
  const tags = readStrings(record.tags)
  if (
    typeof key !== 'string' ||
    !Number.isInteger(status) ||
    (status as number) < 100 ||
    (status as number) > 599
  )
    return undefined
  if (vary === undefined || tags === undefined) return undefined
  if (
    !isOptionalString(etag) ||
    !isOptionalString(lastModified) ||
    !isOptionalString(upstreamCacheStatus)
  )
    return undefined
  if (
    typeof record.allowMaxStale !== 'boolean' ||
    typeof record.sharedWithAuthorization !== 'boolean'
  )
    return undefined
  if (typeof record.etagGenerated !== 'boolean') return undefined
  const times = [
    'storedAt',
    'initialAgeMs',
    'staleAt',
    'staleWhileRevalidateUntil',
    'staleIfErrorUntil',
    'expiresAt',
  ] as const
  for (const name of times) if (!Number.isFinite(record[name])) return undefined
  // One string for the field and its line: JSON.parse made one per occurrence, and a decoded
  // entry keeps both for its life.
  const etagLine = headerValue(headers, 'etag')
  return {
    key,
    status: status as number,
    headers,
    notModifiedHeaders: notModified,
    body,
    storedAt: record.storedAt as number,
    initialAgeMs: record.initialAgeMs as number,
    staleAt: record.staleAt as number,
    staleWhileRevalidateUntil: record.staleWhileRevalidateUntil as number,
    staleIfErrorUntil: record.staleIfErrorUntil as number,
    expiresAt: record.expiresAt as number,
    etag: etagLine !== undefined && etagLine === etag ? etagLine : (etag as string | undefined),
    etagGenerated: record.etagGenerated,
    lastModified: lastModified as string | undefined,
    vary,
    tags,
    upstreamCacheStatus: upstreamCacheStatus as string | undefined,
    allowMaxStale: record.allowMaxStale,
    sharedWithAuthorization: record.sharedWithAuthorization,
    // Optional: entries written before routes had names have none. A label only, never a header.
    ...(typeof record.route === 'string' && ROUTE_NAME.test(record.route)
      ? { route: record.route }
      : {}),
  }
}

function readVaryIndex(record: Record<string, unknown>): VaryIndex | undefined {
  const vary = readStrings(record.vary, FIELD_NAME)
  const variants = readStrings(record.variants)
  if (typeof record.key !== 'string' || vary === undefined || variants === undefined)
    return undefined
  if (!Number.isFinite(record.expiresAt)) return undefined
  return { key: record.key, vary, variants, expiresAt: record.expiresAt as number }
}

/**
 * The stored pairs, checked, as JSON.parse made them: arrays of their exact length. Copies built by
 * `push` had room for 17 elements each, and a decoded entry is kept for its lifetime: those arrays
 * were about a fifth of the heap a first hit kept per entry (bench/heap-per-entry.mjs).
 */
function readHeaders(value: unknown): HeaderPair[] | undefined {
  if (!Array.isArray(value)) return undefined
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 2) return undefined
    const [name, text] = item as unknown[]
    if (typeof name !== 'string' || typeof text !== 'string') return undefined
    if (!FIELD_NAME.test(name) || UNSAFE_VALUE.test(text)) return undefined
    if (SHARED_VALUE_FIELDS.has(name)) item[1] = sharedValue(text)
  }
  return value as HeaderPair[]
}

/**
 * Fields whose value most entries share (one Content-Type for a whole API): a decoded entry takes
 * the process's one copy of the text instead of the string JSON.parse made for it, which it would
 * keep for its life (`application/json; charset=utf-8`, 9,000 times over 9,000 served entries).
 */
const SHARED_VALUE_FIELDS: ReadonlySet<string> = new Set([
  'content-type',
  'cache-control',
  'content-encoding',
  'content-language',
  'vary',
])
/** The shared texts: the first ones seen, bounded, so varied values cannot grow the table. */
const sharedValues = new Map<string, string>()
const SHARED_VALUES_MAX = 256
const SHARED_VALUE_MAX_LENGTH = 128

function sharedValue(text: string): string {
  const known = sharedValues.get(text)
  if (known !== undefined) return known
  if (sharedValues.size < SHARED_VALUES_MAX && text.length <= SHARED_VALUE_MAX_LENGTH)
    sharedValues.set(text, text)
  return text
}

function readStrings(value: unknown, pattern?: RegExp): string[] | undefined {
  if (!Array.isArray(value)) return undefined
  for (const item of value) {
    if (typeof item !== 'string' || (pattern !== undefined && !pattern.test(item))) return undefined
  }
  return value as string[]
}

/** Optional, and when present safe to put in a header (these become request or response fields). */
function isOptionalString(value: unknown): boolean {
  return value === undefined || (typeof value === 'string' && !UNSAFE_VALUE.test(value))
}

function indexOfPair(headers: HeaderPairs, pair: HeaderPair): number {
  const index = headers.indexOf(pair)
  return index !== -1
    ? index
    : headers.findIndex(([name, value]) => name === pair[0] && value === pair[1])
}

import { deserialize, serialize } from 'node:v8'
import { DecodeError, InvalidArgumentError, SerializationError } from './errors.js'
import { findLossy } from './json-lossless.js'

/**
 * Turns values into the bytes a store keeps, and back. Pass one as `new Cache({ serializer })`.
 * `encode` throws for a value it cannot hold; the cache reports that as a `SerializationError`
 * from `set`. Bytes (`Buffer`, `Uint8Array`) never reach a serializer: the cache stores them as
 * they are, whichever serializer it has, so HTTP bodies pass through untouched.
 *
 * @example
 * ```ts
 * import { Cache, type Serializer } from '@cachewire/core'
 * import { pack, unpack } from 'msgpackr'
 *
 * const msgpack: Serializer = { name: 'msgpack', encode: (value) => pack(value), decode: (bytes) => unpack(bytes) }
 * const cache = new Cache({ serializer: msgpack })
 * ```
 */
export interface Serializer {
  /** For errors and stats, e.g. `'json'`. */
  readonly name: string
  encode(value: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
}

/**
 * The first byte of what the cache stores says how to read the rest. JSON text never starts with
 * 0x00–0x02 or 0xFF, and V8's structured format always starts with 0xFF (its version tag), so the
 * formats of every serializer, of older versions and of `increment`'s ASCII counters tell apart.
 */
const RAW = 0x00
/** A value written with a grace period: 8 bytes of float64 `freshUntil`, then the inner frame. */
const GRACE = 0x01
/** A custom serializer's bytes follow. */
const CUSTOM = 0x02
/** V8 structured serialization (`v8.serialize`): its own version tag. */
const V8_TAG = 0xff

const kBuiltin = Symbol('cachewire.builtin-serializer')

interface Builtin extends Serializer {
  readonly [kBuiltin]: true
}

/**
 * The default serializer. Plain data is stored as JSON text (readable with `redis-cli`, and by the
 * codec of older versions); a value JSON would change — a `Date`, `Map`, `Set`, `BigInt`, a typed
 * array, `NaN`, a cycle — is stored in V8's structured serialization format (`node:v8`) and comes
 * back as it was. V8's format is backward compatible: a newer Node reads what an older one wrote.
 * An older Node reading a newer format version fails to decode it, which the cache treats as a miss
 * (and deletes the entry), so a mixed-version rollout costs misses, never wrong values.
 *
 * @example
 * ```ts
 * import { Cache, structuredSerializer } from '@cachewire/core'
 * const cache = new Cache({ serializer: structuredSerializer }) // the default
 * await cache.set('k', { at: new Date(0), ids: new Set([1, 2]) })
 * await cache.get('k') // { at: 1970-01-01T00:00:00.000Z, ids: Set(2) { 1, 2 } }
 * ```
 */
export const structuredSerializer: Serializer = Object.freeze({
  name: 'structured',
  [kBuiltin]: true as const,
  encode(value: unknown): Uint8Array {
    const lossy = findLossy(value, { strict: false })
    if (lossy === undefined) return Buffer.from(JSON.stringify(value), 'utf8')
    if (!lossy.cloneable) throw new LossyValue(lossy.path, lossy.problem)
    return serialize(value)
  },
  decode: decodeBuiltin,
} satisfies Builtin)

/**
 * Plain JSON, refusing what JSON would corrupt: `set` throws a `SerializationError` naming the
 * path (`value.createdAt is a Date (JSON would return a string)`) instead of storing a string that
 * reads back as something else. Only plain objects, arrays, strings, finite numbers, booleans and
 * null; a property whose value is `undefined` is left out, as JSON does.
 *
 * @example
 * ```ts
 * import { Cache, jsonSerializer } from '@cachewire/core'
 * const cache = new Cache({ serializer: jsonSerializer })
 * await cache.set('k', { at: new Date() }) // throws SerializationError: value.at is a Date
 * ```
 */
export const jsonSerializer: Serializer = Object.freeze({
  name: 'json',
  [kBuiltin]: true as const,
  encode(value: unknown): Uint8Array {
    const lossy = findLossy(value, { strict: true })
    if (lossy !== undefined) throw new LossyValue(lossy.path, lossy.problem)
    return Buffer.from(JSON.stringify(value), 'utf8')
  },
  decode: decodeBuiltin,
} satisfies Builtin)

/** What a built-in encoder throws; the cache adds the key. */
class LossyValue extends Error {
  readonly path: string
  readonly problem: string
  constructor(path: string, problem: string) {
    super(`${path} ${problem}`)
    this.path = path
    this.problem = problem
  }
}

function isBuiltin(serializer: Serializer): boolean {
  return (serializer as Partial<Builtin>)[kBuiltin] === true
}

/** JSON text (this version's, older versions', `increment`'s counters) or V8 structured bytes. */
function decodeBuiltin(bytes: Uint8Array): unknown {
  if (bytes.byteLength > 0 && bytes[0] === V8_TAG) return deserialize(bytes)
  // Stores hand back Buffers: read in place, and through `toString()` without arguments, Node's
  // shortest way to UTF-8 text (a read of a small object: 656 -> 523 ns, with JSON.parse).
  const text = Buffer.isBuffer(bytes)
    ? bytes.toString()
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString()
  return JSON.parse(text)
}

/**
 * The bytes stored for `value`: raw bytes behind one marker byte, else what the serializer makes
 * (a custom serializer's output behind its own marker). Throws `SerializationError` for a value the
 * serializer cannot hold, and `InvalidArgumentError` for `undefined` (which reads as a miss).
 */
export function encodeValue(
  value: unknown,
  key: string,
  serializer: Serializer = structuredSerializer
): Uint8Array {
  if (value instanceof Uint8Array) {
    const bytes = Buffer.allocUnsafe(value.byteLength + 1)
    bytes[0] = RAW
    bytes.set(value, 1)
    return bytes
  }
  if (value === undefined)
    throw new InvalidArgumentError(
      `the value for key ${JSON.stringify(key)}`,
      'a value or bytes (undefined reads as a miss)',
      value
    )
  let encoded: Uint8Array
  try {
    encoded = serializer.encode(value)
  } catch (error) {
    if (error instanceof LossyValue)
      throw new SerializationError(
        key,
        error.path,
        `${error.problem}; the ${serializer.name} serializer refuses it`
      )
    throw new SerializationError(
      key,
      'value',
      `could not be encoded by the ${serializer.name} serializer`,
      { cause: error }
    )
  }
  if (isBuiltin(serializer)) return encoded
  const framed = Buffer.allocUnsafe(encoded.byteLength + 1)
  framed[0] = CUSTOM
  framed.set(encoded, 1)
  return framed
}

/**
 * Decodes stored bytes. Whatever the cache's serializer, raw bytes, JSON text and V8 structured
 * bytes all read, so values written by an older codec (or another serializer's cache) still do.
 * Throws `DecodeError` for anything else. A grace envelope is unwrapped (see `readGrace`).
 */
export function decodeValue(
  bytes: Uint8Array,
  key: string,
  serializer: Serializer = structuredSerializer
): unknown {
  const first = bytes.byteLength > 0 ? bytes[0] : undefined
  if (first === RAW) return Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.byteLength - 1)
  if (first === GRACE) {
    if (bytes.byteLength < 9) throw new DecodeError(key, new Error('truncated grace envelope'))
    return decodeValue(bytes.subarray(9), key, serializer)
  }
  try {
    if (first === CUSTOM) {
      if (isBuiltin(serializer))
        throw new Error('written by a custom serializer this cache does not have')
      return serializer.decode(bytes.subarray(1))
    }
    return decodeBuiltin(bytes)
  } catch (error) {
    throw new DecodeError(key, error)
  }
}

/** Wraps an encoded value with the instant it stops being fresh (it may still be served stale). */
export function encodeGrace(encoded: Uint8Array, freshUntil: number): Uint8Array {
  const bytes = Buffer.allocUnsafe(encoded.byteLength + 9)
  bytes[0] = GRACE
  bytes.writeDoubleBE(freshUntil, 1)
  bytes.set(encoded, 9)
  return bytes
}

/** `freshUntil` of a value written with a grace period; `Infinity` for any other value. Allocates nothing (read on every hit). */
export function freshUntil(bytes: Uint8Array): number {
  if (bytes.byteLength < 9 || bytes[0] !== GRACE) return Infinity
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(1)
}

import { DecodeError, InvalidArgumentError } from './errors.js'

/**
 * How the `Cache` turns values into the bytes a store keeps.
 *
 * Plain data is stored as UTF-8 JSON, so counters written by `increment` (ASCII digits) read
 * back as numbers and a Redis user can read entries with `redis-cli`. Bytes (`Buffer`,
 * `Uint8Array`) are stored raw behind one marker byte, which JSON text can never start with.
 */
const RAW_MARKER = 0x00

export function encodeValue(value: unknown, key: string): Uint8Array {
  if (value instanceof Uint8Array) {
    const bytes = Buffer.allocUnsafe(value.byteLength + 1)
    bytes[0] = RAW_MARKER
    bytes.set(value, 1)
    return bytes
  }
  if (value === undefined) throw new InvalidArgumentError(`the value for key ${JSON.stringify(key)}`, 'a JSON value or bytes', value)
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new InvalidArgumentError(`the value for key ${JSON.stringify(key)}`, 'JSON-serialisable', value, { cause: error })
  }
  if (text === undefined) throw new InvalidArgumentError(`the value for key ${JSON.stringify(key)}`, 'a JSON value or bytes', value)
  return Buffer.from(text, 'utf8')
}

/** Decodes stored bytes; throws `DecodeError` for anything that is neither marked bytes nor JSON. */
export function decodeValue(bytes: Uint8Array, key: string): unknown {
  if (bytes.byteLength > 0 && bytes[0] === RAW_MARKER) {
    return Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.byteLength - 1)
  }
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (error) {
    throw new DecodeError(key, error)
  }
}

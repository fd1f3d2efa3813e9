import { DecodeError, StoreError, withDeadline } from '@cachewire/core'
import type { Keyv } from 'keyv'
import { KeyvUnsupportedError } from './errors.js'

/** Where `KeyvStore` keeps things inside the Keyv's namespace: entries and tag records apart. */
export const ENTRY_PREFIX = 'k:'
export const TAG_PREFIX = 't:'

/** A value read through Keyv, with its absolute expiry (ms since the epoch) when it has one. */
export interface FoundValue {
  value: unknown
  expires: number | undefined
}

/**
 * The calls `KeyvStore` makes on a Keyv instance, each under a deadline, so a hung backend costs
 * a caller at most `timeoutMs` (DESIGN rule 3). Deadlines wrap each Keyv call, never our own
 * queues, so they measure the store.
 */
export class KeyvClient {
  readonly keyv: Keyv
  readonly #timeoutMs: number

  constructor(keyv: Keyv, timeoutMs: number) {
    this.keyv = keyv
    this.#timeoutMs = timeoutMs
  }

  async read(key: string, operation: string): Promise<FoundValue | undefined> {
    const raw = await withDeadline(this.keyv.get(key, { raw: true }), this.#timeoutMs, operation)
    if (raw === undefined || raw === null) return undefined
    return { value: raw.value, expires: typeof raw.expires === 'number' ? raw.expires : undefined }
  }

  async write(key: string, value: string, ttlMs: number, operation: string): Promise<void> {
    const stored = await withDeadline(
      this.keyv.set(key, value, Math.max(1, Math.ceil(ttlMs))),
      this.#timeoutMs,
      operation
    )
    // Keyv turns a failed write into `false` plus an `error` event on the Keyv; `stored` must mean stored.
    if (stored === false)
      throw new StoreError(
        operation,
        new Error("the Keyv store refused the write (see the Keyv instance's error event)")
      )
  }

  delete(key: string, operation: string): Promise<boolean> {
    return withDeadline(this.keyv.delete(key), this.#timeoutMs, operation)
  }

  has(key: string, operation: string): Promise<boolean> {
    return withDeadline(this.keyv.has(key), this.#timeoutMs, operation)
  }

  /** Whether `keyv.iterator()` exists: Keyv offers it for a `Map` and for the SQL, Mongo, Redis, Valkey and etcd adapters. */
  get canIterate(): boolean {
    return typeof this.keyv.iterator === 'function'
  }

  /**
   * Every entry key (without `ENTRY_PREFIX`) Keyv's iterator yields. Keyv skips, and deletes,
   * entries past their expiry as it goes. Work is proportional to everything in the namespace.
   */
  async *entryKeys(): AsyncGenerator<string> {
    const iterator = this.keyv.iterator
    if (iterator === undefined) {
      throw new KeyvUnsupportedError(
        'deletePattern',
        'its Keyv store cannot list keys (keyv.iterator is undefined); use tags, or a Keyv store Keyv can iterate (a Map, @keyv/redis, @keyv/valkey, SQL, Mongo, etcd)'
      )
    }
    for await (const item of iterator.call(this.keyv, undefined) as AsyncIterable<unknown>) {
      const yielded = Array.isArray(item) ? item[0] : undefined
      if (typeof yielded !== 'string') continue
      const key = keyvKeyOf(yielded, this.keyv)
      if (key !== undefined && key.startsWith(ENTRY_PREFIX) && key.length > ENTRY_PREFIX.length)
        yield key.slice(ENTRY_PREFIX.length)
    }
  }
}

/**
 * The key Keyv was given, from the one its iterator yields. Keyv 5 unprefixes by dropping
 * everything up to the first `:` of `<namespace>:<key>`: a namespace holding `:` leaves its tail
 * on the key, and with no namespace the first segment dropped is our own `k` marker.
 */
export function keyvKeyOf(
  yielded: string,
  keyv: Pick<Keyv, 'namespace' | 'useKeyPrefix'>
): string | undefined {
  if (keyv.useKeyPrefix === false) return yielded
  const namespace = keyv.namespace
  if (namespace === undefined || namespace === '') return ENTRY_PREFIX + yielded
  const colon = namespace.indexOf(':')
  const tail = colon === -1 ? '' : `${namespace.slice(colon + 1)}:`
  return yielded.startsWith(tail) ? yielded.slice(tail.length) : undefined
}

/** Bytes as Keyv will keep them faithfully under any serializer: base64 text. */
export function encodeBytes(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
}

/** Bytes back from what `encodeBytes` stored (or raw bytes another writer stored). */
export function decodeBytes(value: unknown, key: string): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'base64')
  if (value instanceof Uint8Array) return value
  throw new DecodeError(
    key,
    new TypeError(`expected base64 text from the Keyv store, got ${typeof value}`)
  )
}

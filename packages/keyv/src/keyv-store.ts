import {
  InvalidOptionError,
  parseDuration,
  rejectUnknownOptions,
  withDeadline,
  type Duration,
  type Store,
  type StoreSetOptions,
} from '@cachewire/core'
import { Keyv, type KeyvStoreAdapter } from 'keyv'
import { globToRegExp } from './glob.js'
import { KeyedQueue } from './keyed-queue.js'
import { ENTRY_PREFIX, KeyvClient, decodeBytes, encodeBytes } from './keyv-client.js'
import { TagIndex } from './tag-index.js'

export interface KeyvStoreOptions {
  /** The store's name in logs and stats. @default 'keyv' */
  name?: string | undefined
  /**
   * Deadline of each Keyv call on the request path (get, set, delete, has, increment). A late
   * answer is a `StoreTimeoutError`, which the `Cache` turns into a miss. A duration (`'500ms'`)
   * or milliseconds. @default '500ms'
   */
  timeout?: Duration | undefined
  /** Deadline of bulk work: `invalidateTags`, `deletePattern`, `clear`. @default '30s' */
  bulkTimeout?: Duration | undefined
}

const KNOWN_OPTIONS = ['name', 'timeout', 'bulkTimeout']

/** Keys deleted at once during an invalidation, so a large tag does not open thousands of calls together. */
const DELETE_BATCH = 256

/**
 * A cachewire `Store` on any Keyv instance or Keyv storage adapter, so a `Cache` (and the HTTP
 * cache on top of it) can keep its entries in whatever Keyv can reach.
 *
 * - Values are bytes, kept as base64 text: Keyv serialises values to text before its store sees
 *   them, so this is what every serializer and every store keeps faithfully.
 * - Every key gets its TTL through Keyv (`keyv.set(key, value, ttlMs)`).
 * - Tags: one record per tag in the Keyv store (see `TagIndex`). `invalidateTags` is exact within
 *   one process and best effort across processes, unless the Keyv store serialises writers.
 * - `increment` is atomic within one process (a queue per key), not across processes.
 * - `deletePattern` walks `keyv.iterator()`: work grows with everything in the Keyv namespace,
 *   and a store Keyv cannot iterate rejects with `KeyvUnsupportedError`.
 * - `clear()` is `keyv.clear()`: the Keyv namespace (for a bare `Map`, the whole map).
 *
 * Keyv turns backend errors into misses unless built with `throwOnErrors: true`; pass that (or,
 * for `@keyv/redis`, `createKeyv(url, { throwOnErrors: true })`) so faults reach the `Cache`'s
 * `error` event (and an invalidation it cannot apply is queued and retried). A storage adapter
 * passed alone is wrapped in a Keyv that does.
 *
 * @example
 * ```ts
 * import { Keyv } from 'keyv'
 * import { Cache } from '@cachewire/core'
 * import { KeyvStore } from '@cachewire/keyv'
 *
 * const keyv = new Keyv({ namespace: 'app', throwOnErrors: true })
 * const cache = new Cache({ store: new KeyvStore(keyv, { timeout: '200ms' }) })
 * await cache.set('user:1', { name: 'Ada' }, { ttl: '1m', tags: ['users'] })
 * await cache.invalidateTags(['users'])
 * ```
 */
export class KeyvStore implements Store {
  readonly name: string
  /** The Keyv instance the store reads and writes (the one you passed, or the one built around your adapter). */
  readonly keyv: Keyv
  readonly #client: KeyvClient
  readonly #tags: TagIndex
  readonly #counters = new KeyedQueue()
  readonly #bulkTimeoutMs: number

  constructor(
    keyv: Keyv | KeyvStoreAdapter | Map<unknown, unknown>,
    options: KeyvStoreOptions = {}
  ) {
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('', 'an object', options)
    rejectUnknownOptions(options, KNOWN_OPTIONS, '')
    this.keyv = toKeyv(keyv)
    const name = options.name ?? 'keyv'
    if (typeof name !== 'string' || name.length === 0)
      throw new InvalidOptionError('name', 'a non-empty string', name)
    this.name = name
    const timeoutMs = parseDuration(options.timeout ?? '500ms', 'timeout', { kind: 'timeout' })
    this.#bulkTimeoutMs = parseDuration(options.bulkTimeout ?? '30s', 'bulkTimeout', {
      kind: 'timeout',
    })
    this.#client = new KeyvClient(this.keyv, timeoutMs)
    this.#tags = new TagIndex(this.#client)
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const found = await this.#client.read(ENTRY_PREFIX + key, 'get')
    return found === undefined ? undefined : decodeBytes(found.value, key)
  }

  async getWithTtl(key: string): Promise<{ value: Uint8Array; ttlMs: number } | undefined> {
    const found = await this.#client.read(ENTRY_PREFIX + key, 'get')
    if (found === undefined) return undefined
    const ttlMs =
      found.expires === undefined
        ? Number.MAX_SAFE_INTEGER
        : Math.max(1, Math.floor(found.expires - Date.now()))
    return { value: decodeBytes(found.value, key), ttlMs }
  }

  async set(key: string, value: Uint8Array, options: StoreSetOptions): Promise<void> {
    // The entry first, then its tag records: an invalidation that runs between the two misses a
    // value that is newer than it anyway, and the record written after still files the key. The
    // other order could leave a live entry that no record names.
    await this.#client.write(ENTRY_PREFIX + key, encodeBytes(value), options.ttlMs, 'set')
    const tags = options.tags
    if (tags !== undefined && tags.length > 0)
      await Promise.all([...new Set(tags)].map((tag) => this.#tags.add(tag, key, options.ttlMs)))
  }

  delete(key: string): Promise<boolean> {
    return this.#client.delete(ENTRY_PREFIX + key, 'delete')
  }

  has(key: string): Promise<boolean> {
    return this.#client.has(ENTRY_PREFIX + key, 'has')
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    return (await this.invalidateTagsReturningKeys(tags)).length
  }

  invalidateTagsReturningKeys(tags: readonly string[]): Promise<readonly string[]> {
    const work = async (): Promise<string[]> => {
      const lists = await Promise.all(
        [...new Set(tags)].map((tag) => this.#tags.take(tag, 'invalidateTags'))
      )
      return this.#deleteEach([...new Set(lists.flat())], 'invalidateTags')
    }
    return withDeadline(work(), this.#bulkTimeoutMs, 'invalidateTags')
  }

  countTagged(tags: readonly string[]): Promise<number> {
    const work = async (): Promise<number> => {
      const lists = await Promise.all(
        [...new Set(tags)].map((tag) => this.#tags.peek(tag, 'countTagged'))
      )
      const keys = [...new Set(lists.flat())]
      const live = await Promise.all(
        keys.map((key) => this.#client.has(ENTRY_PREFIX + key, 'countTagged'))
      )
      return live.filter(Boolean).length
    }
    return withDeadline(work(), this.#bulkTimeoutMs, 'countTagged')
  }

  deletePattern(pattern: string): Promise<number> {
    const work = async (): Promise<number> => {
      const matcher = globToRegExp(pattern)
      const matched = new Set<string>()
      for await (const key of this.#client.entryKeys()) if (matcher.test(key)) matched.add(key)
      return (await this.#deleteEach([...matched], 'deletePattern')).length
    }
    return withDeadline(work(), this.#bulkTimeoutMs, 'deletePattern')
  }

  increment(key: string, by: number, ttlMs: number): Promise<number> {
    return this.#counters.run(key, async () => {
      const found = await this.#client.read(ENTRY_PREFIX + key, 'increment')
      let previous = 0
      let ttl = ttlMs
      if (found !== undefined) {
        const counter = parseCounter(decodeBytes(found.value, key))
        if (counter === undefined)
          throw new TypeError(`value at ${JSON.stringify(key)} is not an integer`)
        previous = counter
        // Like Redis INCRBY on a key that already expires: the counter keeps its first TTL.
        const remaining = found.expires === undefined ? ttlMs : found.expires - Date.now()
        if (remaining > 0) ttl = remaining
      }
      const next = previous + by
      await this.#client.write(
        ENTRY_PREFIX + key,
        encodeBytes(Buffer.from(String(next), 'latin1')),
        ttl,
        'increment'
      )
      return next
    })
  }

  async clear(): Promise<void> {
    await withDeadline(this.keyv.clear(), this.#bulkTimeoutMs, 'clear')
  }

  /** Deletes entries in batches; resolves the keys that were there. */
  async #deleteEach(keys: readonly string[], operation: string): Promise<string[]> {
    const removed: string[] = []
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH)
      const results = await Promise.all(
        batch.map((key) => this.#client.delete(ENTRY_PREFIX + key, operation))
      )
      batch.forEach((key, i) => {
        if (results[i] === true) removed.push(key)
      })
    }
    return removed
  }
}

/** A Keyv as given, or a Keyv around a storage adapter or Map, built to throw store errors. */
function toKeyv(value: unknown): Keyv {
  if (!isStoreLike(value))
    throw new InvalidOptionError('keyv', 'a Keyv instance, a Keyv storage adapter or a Map', value)
  if (value instanceof Keyv || isKeyv(value)) return value as unknown as Keyv
  return new Keyv({ store: value, throwOnErrors: true })
}

function isStoreLike(value: unknown): value is Record<string, unknown> {
  if (value instanceof Map) return true
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return ['get', 'set', 'delete', 'clear'].every(
    (method) => typeof candidate[method] === 'function'
  )
}

/** A Keyv from another copy of the package (cache-manager's, say) fails `instanceof`; its shape does not. */
function isKeyv(value: Record<string, unknown>): boolean {
  return (
    typeof value.serializeData === 'function' &&
    typeof value.deserializeData === 'function' &&
    'store' in value
  )
}

const INTEGER = /^-?\d{1,16}$/

function parseCounter(bytes: Uint8Array): number | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
  return INTEGER.test(text) ? Number(text) : undefined
}

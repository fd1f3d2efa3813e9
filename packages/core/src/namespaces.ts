import { randomBytes } from 'node:crypto'
import { StoreUnavailableError } from './errors.js'
import type { StoreCalls } from './resilience/store-call.js'
import type { Store } from './types.js'

/** Keys that begin with this are the cache's own bookkeeping (namespace versions). */
export const RESERVED_KEY_PREFIX = '@cachewire/'

/** How long a namespace version record lives; invalidating the namespace renews it. */
const NAMESPACE_VERSION_TTL_MS = 30 * 86_400_000

/**
 * Where the keys of one cache view live in the store. The root cache uses keys as they are; a
 * namespace view puts `<namespace>@<version>:` in front, where the version is a record in the
 * store itself, so every process sharing the store agrees on it. Invalidating a namespace writes
 * a new version: O(1), and old entries age out by TTL or LRU.
 */
export class NamespaceKeys {
  readonly #namespace: string | undefined
  readonly #store: Store
  readonly #calls: StoreCalls
  readonly #pending: Map<string, string>

  /**
   * `pending` holds, per namespace, a version this process has moved to but could not yet write
   * to the store (the invalidation is queued): this process uses it at once, so it never reads
   * the namespace's old entries again, and the queue writes it when the store answers.
   */
  constructor(namespace: string | undefined, store: Store, calls: StoreCalls, pending: Map<string, string>) {
    this.#namespace = namespace
    this.#store = store
    this.#calls = calls
    this.#pending = pending
  }

  /** The store key without I/O, or undefined when a namespace version is not known synchronously. */
  storeKeySync(key: string): string | undefined {
    const namespace = this.#namespace
    if (namespace === undefined) return key
    const pending = this.#pending.get(namespace)
    if (pending !== undefined) return `${namespace}@${pending}:${key}`
    const version = this.#store.getSync?.(namespaceVersionKey(namespace))
    if (version === undefined) return undefined
    return `${namespace}@${latin1(version)}:${key}`
  }

  /** The store key, or `undefined` when the namespace version cannot be read. */
  async storeKey(key: string): Promise<string | undefined> {
    const prefix = await this.storePrefix()
    return prefix === undefined ? undefined : prefix + key
  }

  /** '' for the root cache; `<namespace>@<version>:` for a view. `undefined` when the version cannot be read. */
  async storePrefix(): Promise<string | undefined> {
    const namespace = this.#namespace
    if (namespace === undefined) return ''
    const pending = this.#pending.get(namespace)
    if (pending !== undefined) return `${namespace}@${pending}:`
    const versionKey = namespaceVersionKey(namespace)
    const store = this.#store
    let bytes = await this.#calls.call('get', () => store.get(versionKey), null)
    if (bytes === null) return undefined
    if (bytes === undefined) {
      // First use: claim a version. Two processes racing both write; the reads below agree on the last one.
      await this.#calls.call(
        'set',
        () => store.set(versionKey, Buffer.from(newVersion()), { ttlMs: NAMESPACE_VERSION_TTL_MS }),
        undefined
      )
      bytes = await this.#calls.call('get', () => store.get(versionKey), null)
      if (bytes === null || bytes === undefined) return undefined
    }
    return `${namespace}@${latin1(bytes)}:`
  }

  /** The store key, or a rejection when the namespace version cannot be read (for invalidations, which retry). */
  async storeKeyOrThrow(key: string): Promise<string> {
    return (await this.storePrefixOrThrow()) + key
  }

  async storePrefixOrThrow(): Promise<string> {
    const prefix = await this.storePrefix()
    if (prefix === undefined) throw new StoreUnavailableError(`store skipped: the version of namespace ${JSON.stringify(this.#namespace)} cannot be read`)
    return prefix
  }

  /**
   * Moves this process to a new version of the namespace at once, so none of its old keys is
   * found here again; `commitRenew` writes it for every process. No-op for the root cache.
   */
  beginRenew(): void {
    if (this.#namespace !== undefined) this.#pending.set(this.#namespace, newVersion())
  }

  /** Writes the version `beginRenew` moved to (the latest, if it ran twice); rejects when the store cannot be reached. */
  async commitRenew(): Promise<void> {
    const namespace = this.#namespace
    if (namespace === undefined) return
    const version = this.#pending.get(namespace)
    if (version === undefined) return
    await this.#store.set(namespaceVersionKey(namespace), Buffer.from(version), { ttlMs: NAMESPACE_VERSION_TTL_MS })
    if (this.#pending.get(namespace) === version) this.#pending.delete(namespace)
  }
}

function namespaceVersionKey(namespace: string): string {
  return `${RESERVED_KEY_PREFIX}ns:${namespace}`
}

/** Versions are random (crypto), not counters: two processes claiming a version at once never pick the same. */
function newVersion(): string {
  return randomBytes(6).toString('base64url')
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

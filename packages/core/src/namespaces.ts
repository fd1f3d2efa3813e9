import { randomBytes } from 'node:crypto'
import { escapeGlob } from './glob.js'
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
 * a new version: O(1), and old entries are no longer found.
 *
 * A nested namespace's version record lives under its parent's current prefix
 * (`@cachewire/ns:users@v1:admins`), so invalidating the parent (a new `v`) leaves every nested
 * namespace without a version too: `users.invalidate()` takes `users:admins` with it.
 */
export class NamespaceKeys {
  readonly #segments: readonly string[]
  readonly #store: Store
  readonly #calls: StoreCalls

  constructor(segments: readonly string[], store: Store, calls: StoreCalls) {
    this.#segments = segments
    this.#store = store
    this.#calls = calls
  }

  /** The view's name (`users:admins`), or `undefined` for the root cache. */
  get namespace(): string | undefined {
    return this.#segments.length === 0 ? undefined : this.#segments.join(':')
  }

  /** The store key without I/O, or undefined when a namespace version is not known synchronously. */
  storeKeySync(key: string): string | undefined {
    let prefix = ''
    for (const segment of this.#segments) {
      const version = this.#store.getSync?.(versionKey(prefix, segment))
      if (version === undefined) return undefined
      prefix += `${segment}@${latin1(version)}:`
    }
    return prefix + key
  }

  /**
   * The store key, or `undefined` when a namespace version cannot be read. `strict`: throw
   * `StoreUnavailableError` instead of resolving `undefined`.
   */
  async storeKey(key: string, strict = false): Promise<string | undefined> {
    const prefix = await this.storePrefix(strict)
    return prefix === undefined ? undefined : prefix + key
  }

  /** '' for the root cache; `<namespace>@<version>:` (per level) for a view. `undefined` when a version cannot be read. */
  async storePrefix(strict = false): Promise<string | undefined> {
    let prefix = ''
    for (const segment of this.#segments) {
      const version = await this.#version(prefix, segment, strict)
      if (version === undefined) return undefined
      prefix += `${segment}@${version}:`
    }
    return prefix
  }

  /**
   * Moves the namespace to a new version, so none of its old keys — nor any nested namespace's —
   * is found again; then, with `sweep`, deletes the old generation and resolves how many entries
   * went (`undefined` without a sweep, or when the store could not be asked). No-op for the root cache.
   */
  async renew(sweep: boolean): Promise<number | undefined> {
    const segments = this.#segments
    const last = segments[segments.length - 1]
    if (last === undefined) return 0
    const parent = await new NamespaceKeys(segments.slice(0, -1), this.#store, this.#calls).storePrefix()
    if (parent === undefined) return undefined
    const record = versionKey(parent, last)
    const store = this.#store
    const old = await this.#calls.call('get', () => store.get(record), null)
    await this.#calls.call('set', () => store.set(record, Buffer.from(newVersion()), { ttlMs: NAMESPACE_VERSION_TTL_MS }), undefined)
    if (!sweep) return undefined
    if (old === undefined) return 0
    if (old === null) return undefined
    const oldPrefix = `${parent}${last}@${latin1(old)}:`
    return this.#calls.call('deletePattern', () => store.deletePattern(escapeGlob(oldPrefix) + '*'), undefined)
  }

  async #version(parent: string, segment: string, strict: boolean): Promise<string | undefined> {
    const record = versionKey(parent, segment)
    const store = this.#store
    const read = (): Promise<Uint8Array | undefined> => store.get(record)
    let bytes = strict ? await this.#calls.callStrict('get', read) : await this.#calls.call('get', read, null)
    if (bytes === null) return undefined
    if (bytes === undefined) {
      // First use: claim a version. Two processes racing both write; the reads below agree on the last one.
      await this.#calls.call('set', () => store.set(record, Buffer.from(newVersion()), { ttlMs: NAMESPACE_VERSION_TTL_MS }), undefined)
      bytes = strict ? await this.#calls.callStrict('get', read) : await this.#calls.call('get', read, null)
      if (bytes === null || bytes === undefined) return undefined
    }
    return latin1(bytes)
  }
}

function versionKey(parentPrefix: string, segment: string): string {
  return `${RESERVED_KEY_PREFIX}ns:${parentPrefix}${segment}`
}

/** Versions are random (crypto), not counters: two processes claiming a version at once never pick the same. */
function newVersion(): string {
  return randomBytes(6).toString('base64url')
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

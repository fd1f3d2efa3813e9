import { randomBytes } from 'node:crypto'
import { StoreUnavailableError } from './errors.js'
import { escapeGlob } from './glob.js'
import type { StoreCalls } from './resilience/store-call.js'
import type { Store } from './types.js'

/** A namespace's version record, under its parent's prefix, and the generation a renewal replaces. */
export interface RenewRecord {
  key: string
  parent: string
  segment: string
  old: string | undefined
}

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
  readonly #pending: Map<string, string>
  readonly #namespace: string | undefined

  /**
   * `pending` holds, by version record, a version this process has moved to but could not yet
   * write to the store (the invalidation is queued): this process uses it at once, so it never
   * reads the namespace's old entries again, and the queue writes it when the store answers.
   */
  constructor(
    segments: readonly string[],
    store: Store,
    calls: StoreCalls,
    pending: Map<string, string> = new Map()
  ) {
    this.#segments = segments
    this.#store = store
    this.#calls = calls
    this.#pending = pending
    this.#namespace = segments.length === 0 ? undefined : segments.join(':')
  }

  /** The view's name (`users:admins`), or `undefined` for the root cache. */
  get namespace(): string | undefined {
    return this.#namespace
  }

  /** The store key without I/O, or undefined when a namespace version is not known synchronously. */
  storeKeySync(key: string): string | undefined {
    let prefix = ''
    for (const segment of this.#segments) {
      const record = versionKey(prefix, segment)
      const pending = this.#pending.get(record)
      const version = pending ?? this.#store.getSync?.(record)
      if (version === undefined) return undefined
      prefix += `${segment}@${typeof version === 'string' ? version : latin1(version)}:`
    }
    return prefix + key
  }

  /**
   * The store key, or `undefined` when a namespace version cannot be read. `strict`: throw
   * `StoreUnavailableError` instead of resolving `undefined`.
   */
  storeKey(key: string, strict = false): Promise<string | undefined> | string {
    // The root cache's keys are the store's: no promise of its own for a caller to wait on.
    if (this.#segments.length === 0) return key
    return this.storePrefix(strict).then((prefix) =>
      prefix === undefined ? undefined : prefix + key
    )
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

  /** The store key, or a rejection when a namespace version cannot be read (for invalidations, which retry). */
  async storeKeyOrThrow(key: string): Promise<string> {
    return (await this.storePrefixOrThrow()) + key
  }

  async storePrefixOrThrow(): Promise<string> {
    const prefix = await this.storePrefix()
    if (prefix === undefined)
      throw new StoreUnavailableError(
        `store skipped: the version of namespace ${JSON.stringify(this.namespace)} cannot be read`
      )
    return prefix
  }

  /**
   * Moves this process to a new version of the namespace at once (none of its old keys, nor any
   * nested namespace's, is found here again); `commitRenew` writes it for every process. Resolves
   * the version record with the generation it replaces (best effort: `undefined` when it cannot be
   * read), or `undefined` when the parent's version cannot be read now (then `commitRenew` finds
   * the record itself).
   */
  async beginRenew(): Promise<RenewRecord | undefined> {
    const record = await this.#record()
    if (record === undefined) return undefined
    const old =
      this.#pending.get(record.key) ??
      (await this.#calls.call(
        'get',
        () =>
          this.#store
            .get(record.key)
            .then((bytes) => (bytes === undefined ? undefined : latin1(bytes))),
        undefined
      ))
    this.#pending.set(record.key, newVersion())
    return { ...record, old }
  }

  /**
   * Writes the version `beginRenew` moved to (the latest, if it ran twice; a new one when it
   * could not move), then, with `sweep`, deletes the generation it replaced and resolves how many
   * entries went. Rejects when the store cannot be reached, so the invalidation is retried;
   * `retry` sends the write even while the store's write breaker is open.
   */
  async commitRenew(
    begun: RenewRecord | undefined,
    sweep: boolean,
    retry: boolean
  ): Promise<number> {
    const record = begun ?? (await this.#record())
    if (record === undefined)
      throw new StoreUnavailableError(
        `store skipped: the version of namespace ${JSON.stringify(this.namespace)}'s parent cannot be read`
      )
    const version = this.#pending.get(record.key) ?? newVersion()
    await this.#store.set(record.key, Buffer.from(version), {
      ttlMs: NAMESPACE_VERSION_TTL_MS,
      retry,
    })
    if (this.#pending.get(record.key) === version) this.#pending.delete(record.key)
    const old = begun?.old
    if (!sweep || old === undefined || old === version) return 0
    return this.#store.deletePattern(
      escapeGlob(`${record.parent}${record.segment}@${old}:`) + '*',
      { retry }
    )
  }

  /** This view's version record under its parent's current prefix; `undefined` when that prefix cannot be read. */
  async #record(): Promise<{ key: string; parent: string; segment: string } | undefined> {
    const segments = this.#segments
    const segment = segments[segments.length - 1]
    if (segment === undefined)
      throw new StoreUnavailableError('the root cache has no namespace version')
    const parent = await new NamespaceKeys(
      segments.slice(0, -1),
      this.#store,
      this.#calls,
      this.#pending
    ).storePrefix()
    return parent === undefined ? undefined : { key: versionKey(parent, segment), parent, segment }
  }

  async #version(parent: string, segment: string, strict: boolean): Promise<string | undefined> {
    const record = versionKey(parent, segment)
    const pending = this.#pending.get(record)
    if (pending !== undefined) return pending
    const store = this.#store
    const read = (): Promise<Uint8Array | undefined> => store.get(record)
    let bytes = strict
      ? await this.#calls.callStrict('get', read)
      : await this.#calls.call('get', read, null)
    if (bytes === null) return undefined
    if (bytes === undefined) {
      // First use: claim a version. Two processes racing both write; the reads below agree on the last one.
      await this.#calls.call(
        'set',
        () => store.set(record, Buffer.from(newVersion()), { ttlMs: NAMESPACE_VERSION_TTL_MS }),
        undefined
      )
      bytes = strict
        ? await this.#calls.callStrict('get', read)
        : await this.#calls.call('get', read, null)
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

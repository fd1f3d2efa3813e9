/** One acknowledged write-behind value not yet persisted: its encoded bytes and version. */
interface Pending {
  bytes: Uint8Array
  version: number
}

/**
 * Write-behind values waiting to be persisted, by cache view and key. While one is pending, reads
 * of that key through the cache answer it (whatever the store holds: the cache write may have
 * failed, or the entry been evicted), and cache-aside fills of it are not written, so a reader
 * never re-caches the row the source still holds. Per process: another process sees the value
 * through the store, and the writer writes it to the cache again once persisted if the first
 * write failed.
 */
export class PendingWrites {
  readonly #pending = new Map<string, Pending>()

  /** Shadows `key` of `view` with `bytes` until `release(version)` of the same version. */
  hold(view: string | undefined, key: string, bytes: Uint8Array, version: number): void {
    this.#pending.set(slot(view, key), { bytes, version })
  }

  /** Ends the shadow of `key`, unless a newer write holds it now. */
  release(view: string | undefined, key: string, version: number): void {
    const id = slot(view, key)
    const held = this.#pending.get(id)
    if (held !== undefined && held.version <= version) this.#pending.delete(id)
  }

  /** The pending bytes of `key`, if a write of it is pending. */
  get(view: string | undefined, key: string): Uint8Array | undefined {
    if (this.#pending.size === 0) return undefined
    return this.#pending.get(slot(view, key))?.bytes
  }

  get size(): number {
    return this.#pending.size
  }
}

function slot(view: string | undefined, key: string): string {
  return `${view ?? ''}\u0000${key}`
}

/**
 * How a `WriteBehind` shadows the keys it has acknowledged and not yet persisted, on the cache view
 * it writes through. Keyed by a registered symbol, so a writer from another copy of the package
 * (ESM beside CJS) finds it too. Not part of the public API.
 */
export const kPendingWrites: unique symbol = Symbol.for('cachewire.pending-writes') as never

export interface PendingHooks {
  /** Shadows `key` with `value` (encoded as the cache would store it) until released. Throws like `set` for a value the serializer refuses. */
  hold(key: string, value: unknown, version: number): void
  release(key: string, version: number): void
}

/** The hooks of one cache view (`view` is its namespace) over the shared pending writes. */
export function pendingHooks(
  pending: PendingWrites,
  view: string | undefined,
  encode: (key: string, value: unknown) => Uint8Array
): PendingHooks {
  return {
    hold: (key, value, version) => pending.hold(view, key, encode(key, value), version),
    release: (key, version) => pending.release(view, key, version),
  }
}

import { DecodeError } from '@cachewire/core'
import { KeyedQueue } from './keyed-queue.js'
import { TAG_PREFIX, type KeyvClient } from './keyv-client.js'

interface PendingAdd {
  keys: Set<string>
  ttlMs: number
  done: Promise<void>
}

/**
 * Which keys carry which tag, kept in the Keyv store itself: one record per tag (`t:<tag>`), a
 * JSON array of keys that lives as long as its longest-lived key.
 *
 * A Keyv store has no set type and no compare-and-set, so a record is read, changed and written
 * back. Within one process every change to a tag's record goes through one queue, and adds that
 * arrive while a write is in flight are folded into the next write: no member is lost. Across
 * processes two writers can still race and one add can be lost (then `invalidateTags` misses that
 * key until it expires), unless the Keyv store itself serialises writers.
 */
export class TagIndex {
  readonly #client: KeyvClient
  readonly #queue = new KeyedQueue()
  readonly #pending = new Map<string, PendingAdd>()

  constructor(client: KeyvClient) {
    this.#client = client
  }

  /** Files `key` under `tag`, keeping the record alive at least `ttlMs`. */
  add(tag: string, key: string, ttlMs: number): Promise<void> {
    let batch = this.#pending.get(tag)
    if (batch === undefined) {
      const created: PendingAdd = { keys: new Set(), ttlMs: 0, done: Promise.resolve() }
      created.done = this.#queue.run(tag, async () => {
        // From here on, new adds start the next batch; this one is being written.
        this.#pending.delete(tag)
        const found = await this.#client.read(TAG_PREFIX + tag, 'set')
        const keys = new Set(found === undefined ? [] : decodeRecord(found.value, tag))
        const before = keys.size
        for (const added of created.keys) keys.add(added)
        const remaining = found?.expires === undefined ? 0 : found.expires - Date.now()
        if (keys.size === before && remaining >= created.ttlMs) return
        await this.#client.write(
          TAG_PREFIX + tag,
          JSON.stringify([...keys]),
          Math.max(remaining, created.ttlMs),
          'set'
        )
      })
      this.#pending.set(tag, created)
      batch = created
    }
    batch.keys.add(key)
    batch.ttlMs = Math.max(batch.ttlMs, ttlMs)
    return batch.done
  }

  /** Reads and removes a tag's record; resolves the keys it held. */
  take(tag: string, operation: string): Promise<string[]> {
    return this.#queue.run(tag, async () => {
      const found = await this.#client.read(TAG_PREFIX + tag, operation)
      if (found === undefined) return []
      const keys = decodeRecord(found.value, tag)
      await this.#client.delete(TAG_PREFIX + tag, operation)
      return keys
    })
  }

  /** The keys a tag's record holds, removing nothing. */
  async peek(tag: string, operation: string): Promise<string[]> {
    const found = await this.#client.read(TAG_PREFIX + tag, operation)
    return found === undefined ? [] : decodeRecord(found.value, tag)
  }
}

function decodeRecord(value: unknown, tag: string): string[] {
  let parsed: unknown = value
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value)
    } catch (error) {
      throw new DecodeError(TAG_PREFIX + tag, error)
    }
  }
  if (!Array.isArray(parsed) || !parsed.every((key) => typeof key === 'string')) {
    throw new DecodeError(
      TAG_PREFIX + tag,
      new TypeError('a tag record must be a JSON array of keys')
    )
  }
  return parsed
}

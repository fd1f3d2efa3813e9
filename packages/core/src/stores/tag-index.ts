/**
 * The keys of each tag, for a store that keeps its tags in process. Most tags name one key (an
 * HTTP cache tags each entry with its URL, and often its route's path), so a tag with one key
 * keeps the key itself, and only a second key makes a set: a set per tag was two sets per cached
 * response, about 300 bytes of heap each entry kept for a tag purge that may never come
 * (bench/heap-per-entry.mjs).
 *
 * @example
 * ```ts
 * const index = new TagIndex()
 * index.add('user:1', 'profile:1')
 * index.take('user:1') // ['profile:1'], and the tag is gone
 * ```
 */
export class TagIndex {
  readonly #keys = new Map<string, string | Set<string>>()

  add(tag: string, key: string): void {
    const held = this.#keys.get(tag)
    if (held === undefined) this.#keys.set(tag, key)
    else if (typeof held === 'string') {
      if (held !== key) this.#keys.set(tag, new Set([held, key]))
    } else held.add(key)
  }

  remove(tag: string, key: string): void {
    const held = this.#keys.get(tag)
    if (held === undefined) return
    if (typeof held === 'string') {
      if (held === key) this.#keys.delete(tag)
      return
    }
    held.delete(key)
    if (held.size === 0) this.#keys.delete(tag)
  }

  /** The keys under `tag` (none for an unknown tag). */
  keysOf(tag: string): Iterable<string> {
    const held = this.#keys.get(tag)
    if (held === undefined) return NONE
    return typeof held === 'string' ? [held] : held
  }

  /** The keys under `tag`, and the tag forgotten. */
  take(tag: string): Iterable<string> {
    const keys = this.keysOf(tag)
    this.#keys.delete(tag)
    return keys
  }

  clear(): void {
    this.#keys.clear()
  }
}

const NONE: readonly string[] = Object.freeze([])

import { LRUCache } from 'lru-cache'

/**
 * The local front of a revocation list: recent answers by token hash, so the common "not revoked"
 * costs a map lookup instead of a store round trip. An LRU of answers rather than a Bloom filter
 * of revoked tokens: a Bloom filter answers "not revoked" only if it holds every revoked token,
 * which means loading the whole list at start (a SCAN of every Cluster master) and rebuilding it
 * as tokens expire, since a Bloom filter cannot forget; an LRU needs neither, is exact, and is
 * kept honest by dropping or flipping one entry per revocation message. Its memory is bounded by
 * `maxEntries` (about 150 bytes each, measured in bench/data-api.mjs).
 *
 * `generation` changes whenever the front learns something (a revocation, or that it may have
 * missed some): an answer read from the store is cached only if no message arrived while it was
 * being read, since the read and the message travel on different connections.
 */
export class RevocationFront {
  /** `0`: not revoked; otherwise revoked until that instant (ms since the epoch). */
  readonly #answers: LRUCache<string, number>
  #generation = 0

  constructor(maxEntries: number, negativeTtlMs: number) {
    this.#answers = new LRUCache<string, number>({
      max: maxEntries,
      ttl: negativeTtlMs,
      ttlAutopurge: false,
    })
  }

  get generation(): number {
    return this.#generation
  }

  /** `true`/`false` when known, `undefined` when the store must be asked. */
  lookup(hash: string, now: number): boolean | undefined {
    const until = this.#answers.get(hash)
    if (until === undefined) return undefined
    return until === 0 ? false : until > now
  }

  /** Caches an answer read from the store, if nothing was learnt since `generation` was read. */
  remember(hash: string, revokedUntil: number | undefined, generation: number, now: number): void {
    if (generation !== this.#generation) return
    if (revokedUntil === undefined) this.#answers.set(hash, 0)
    else this.#answers.set(hash, revokedUntil, { ttl: Math.max(1, revokedUntil - now) })
  }

  /** A revocation, from this process or a peer. */
  revoked(hash: string, until: number, now: number): void {
    this.#generation++
    if (until > now) this.#answers.set(hash, until, { ttl: until - now })
    else this.#answers.delete(hash)
  }

  /** Revocations may have been missed: forget every answer. */
  clear(): void {
    this.#generation++
    this.#answers.clear()
  }

  get size(): number {
    return this.#answers.size
  }
}

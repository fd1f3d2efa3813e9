import type { Cache, CacheEvents } from '@cachewire/core'

/** One fault the inspector lists. */
export interface Fault {
  /** When it happened (the engine's clock, ms since the epoch). */
  at: number
  /**
   * `breaker`: a circuit breaker changed state. `invalidation-queued`: the store could not be
   * reached, the invalidation waits and is retried (caches that queue them). `invalidation-applied`:
   * a queued one went through. `invalidation-failed`: one that was neither applied nor queued.
   */
  kind: 'breaker' | 'invalidation-queued' | 'invalidation-applied' | 'invalidation-failed'
  /** One line for a person, e.g. `closed → open (read on 10.0.0.7:6379)`. */
  detail: string
}

/** Faults kept; an outage that flaps fills it with its latest transitions. */
const FAULTS_KEPT = 100
/** Store operations that are invalidations: their failure means stale entries may still be served. */
const INVALIDATIONS: ReadonlySet<string> = new Set([
  'invalidateTags',
  'deletePattern',
  'delete',
  'clear',
  'renewNamespace',
])

/** Loose listener registration, for events a cache may or may not emit (queued invalidations are newer). */
type Listen = (event: string, listener: (payload: never) => void) => unknown

/**
 * The recent faults of a cache, from its events: breaker transitions, invalidations that waited or
 * failed. Bounded; listens until `close()`.
 *
 * @example
 * ```ts
 * const faults = new FaultHistory(cache, Date.now)
 * faults.recent() // [{ at, kind: 'breaker', detail: 'closed → open' }]
 * ```
 */
export class FaultHistory {
  readonly #cache: Cache
  readonly #clock: () => number
  readonly #faults: Fault[] = []
  readonly #listeners: Array<[string, (payload: never) => void]>

  constructor(cache: Cache, clock: () => number) {
    this.#cache = cache
    this.#clock = clock
    this.#listeners = [
      [
        'breaker',
        (event: CacheEvents['breaker'][0]) =>
          this.#add('breaker', `${event.from} → ${event.to}${where(event)}`),
      ],
      [
        'invalidation-queued',
        (event: { target?: unknown; queued?: number; error?: Error }) =>
          this.#add(
            'invalidation-queued',
            `${target(event.target)} waits (${event.queued ?? '?'} queued): ${event.error?.message ?? 'store unreachable'}`
          ),
      ],
      [
        'invalidation-applied',
        (event: { target?: unknown; delayMs?: number; attempts?: number }) =>
          this.#add(
            'invalidation-applied',
            `${target(event.target)} applied after ${Math.round(event.delayMs ?? 0)} ms (${event.attempts ?? 1} attempts)`
          ),
      ],
      ['error', (error: Error) => this.#failed(error)],
    ]
    for (const [event, listener] of this.#listeners)
      (cache.on as unknown as Listen).call(cache, event, listener)
  }

  /** The faults, most recent first. */
  recent(): Fault[] {
    return [...this.#faults].reverse()
  }

  close(): void {
    for (const [event, listener] of this.#listeners)
      (this.#cache.off as unknown as Listen).call(this.#cache, event, listener)
  }

  #failed(error: Error): void {
    const operation = (error as { operation?: unknown }).operation
    // The store's errors say which operation failed ("store invalidateTags failed: …").
    if (typeof operation === 'string' && INVALIDATIONS.has(operation))
      this.#add('invalidation-failed', error.message)
  }

  #add(kind: Fault['kind'], detail: string): void {
    this.#faults.push({ at: this.#clock(), kind, detail })
    if (this.#faults.length > FAULTS_KEPT) this.#faults.shift()
  }
}

function where(event: CacheEvents['breaker'][0]): string {
  if (event.node === undefined && event.direction === undefined) return ''
  return ` (${[event.direction, event.node].filter((part) => part !== undefined).join(' on ')})`
}

/** An invalidation target in words: tags, a key, a pattern, a namespace or everything. */
function target(value: unknown): string {
  if (typeof value !== 'object' || value === null) return 'invalidation'
  const { kind, tags, key, pattern, namespace } = value as Record<string, unknown>
  if (kind === 'tags' && Array.isArray(tags))
    return `tags ${tags.slice(0, 5).join(', ')}${tags.length > 5 ? ', …' : ''}`
  if (kind === 'delete') return `key ${String(key)}`
  if (kind === 'pattern') return `pattern ${String(pattern)}`
  if (kind === 'namespace') return `namespace ${String(namespace)}`
  if (kind === 'clear') return 'clear'
  return 'invalidation'
}

import type { CircuitState } from './circuit-breaker.js'

/** Reads and writes are judged apart: a store that refuses writes (out of memory, a read-only replica) keeps serving reads. */
export type BreakerDirection = 'read' | 'write'

/** One circuit breaker of a store: one per node (a Cluster master) and direction. */
export interface BreakerStatus {
  /** `host:port` of the node, or `'cluster'` before a Cluster knows its slots. */
  node: string
  direction: BreakerDirection
  state: CircuitState
  /** While open: milliseconds until the next probe. */
  retryInMs: number
}

/** Why a store did not send a call: a breaker open for its node and direction, its own queue full, or too long a wait there. */
export type DropReason = 'breaker-open' | 'queue-full' | 'queue-timeout'

/** Calls a store did not send, by why. */
export type DropCounts = Record<DropReason, number>

/** What a store with its own breakers and queue reports to `Cache.stats()`. */
export interface StoreHealth {
  /** Every breaker the store has used, closed ones included. */
  breakers: readonly BreakerStatus[]
  /** Commands on the wire, not answered yet. */
  inFlight: number
  /** Commands waiting in the store's own queue for a connection slot. */
  queued: number
  /** Calls never sent, by direction and reason; a dropped read is a miss, a dropped write is counted here, never silent. */
  dropped: { read: DropCounts; write: DropCounts }
}

/** A breaker of a store changed state (`open` → `half-open` when a probe goes). */
export interface BreakerTransition {
  from: CircuitState
  to: CircuitState
  node: string
  direction: BreakerDirection
}

/** What a store tells the cache outside any call. */
export interface StoreObserver {
  /** A fault seen in the background (a failed probe, a lost connection, a breaker that opened). */
  fault(error: Error): void
  /** A breaker changed state: the cache emits it as its `breaker` event. */
  transition?(change: BreakerTransition): void
  /**
   * The store answers again on a node where a breaker was open: queued invalidations should be
   * applied now. The breaker closes once the returned promise settles (the store bounds the
   * wait), so reads never see, in between, entries a queued purge removes.
   */
  recovered(): void | Promise<void>
}

export function emptyDropCounts(): DropCounts {
  return { 'breaker-open': 0, 'queue-full': 0, 'queue-timeout': 0 }
}

/** The worst of several breaker states: one open breaker makes the summary open. */
export function worstState(breakers: readonly BreakerStatus[]): CircuitState {
  let worst: CircuitState = 'closed'
  for (const { state } of breakers) {
    if (state === 'open') return 'open'
    if (state === 'half-open') worst = 'half-open'
  }
  return worst
}

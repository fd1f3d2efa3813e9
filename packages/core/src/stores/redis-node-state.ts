import { CircuitBreaker } from '../resilience/circuit-breaker.js'
import { CommandLane } from '../resilience/command-lane.js'
import type { DeadlineWatch } from '../resilience/deadline.js'
import type { BreakerDirection } from '../resilience/store-health.js'

export const DIRECTIONS: readonly BreakerDirection[] = ['read', 'write']

/** A node's breakers: what opens them and for how long; `false`: no breakers. */
export type NodeBreakerSettings =
  { failureThreshold: number; breakDurationMs: number; maxBreakDurationMs: number } | false

/** What a node's lanes and breakers are made with. */
export interface NodeStateSettings {
  maxInFlight: number
  maxQueue: number
  queueTimeoutMs: number
  breaker: NodeBreakerSettings
}

/** What the `RedisRunner` keeps per node it sends to. */
export interface NodeState {
  readonly node: string
  /** One per direction: reads and writes go on connections of their own (see RedisStore). */
  readonly lanes: Record<BreakerDirection, CommandLane>
  readonly breakers: Record<BreakerDirection, CircuitBreaker> | undefined
  /** The probe reply still outstanding per direction: one at a time, so probes never pile up behind a hung socket. */
  readonly probing: Record<BreakerDirection, boolean>
  /** Answering again; the breaker closes once observers have applied what waited (queued purges). */
  readonly recovering: Record<BreakerDirection, boolean>
  readonly timers: Record<BreakerDirection, NodeJS.Timeout | undefined>
  /** How each sent command ends, per direction: its slot back, and its breaker told. */
  readonly outcomes: Record<BreakerDirection, DeadlineWatch>
}

/**
 * A node's state: lanes, breakers (each change of state told to `transition`), and what a sent
 * command's end does (`outcomes`, given the state it belongs to).
 */
export function newNodeState(
  node: string,
  settings: NodeStateSettings,
  transition: (change: {
    from: CircuitBreaker['state']
    to: CircuitBreaker['state']
    direction: BreakerDirection
  }) => void,
  outcomes: (state: NodeState, direction: BreakerDirection) => DeadlineWatch
): NodeState {
  const { breaker, maxInFlight, maxQueue, queueTimeoutMs } = settings
  const make = (made: Exclude<NodeBreakerSettings, false>): CircuitBreaker =>
    new CircuitBreaker({
      failureThreshold: made.failureThreshold,
      breakDuration: made.breakDurationMs,
      maxBreakDuration: made.maxBreakDurationMs,
      clock: () => performance.now(),
    })
  const breakers = breaker === false ? undefined : { read: make(breaker), write: make(breaker) }
  for (const direction of DIRECTIONS)
    breakers?.[direction].onTransition((from, to) => transition({ from, to, direction }))
  const watches = {} as Record<BreakerDirection, DeadlineWatch>
  const state: NodeState = {
    node,
    lanes: {
      read: new CommandLane({ maxInFlight, maxQueue, queueTimeoutMs }),
      write: new CommandLane({ maxInFlight, maxQueue, queueTimeoutMs }),
    },
    breakers,
    probing: { read: false, write: false },
    recovering: { read: false, write: false },
    timers: { read: undefined, write: undefined },
    outcomes: watches,
  }
  for (const direction of DIRECTIONS) watches[direction] = outcomes(state, direction)
  return state
}

/** No call to the node is out or waiting, and no probe: its state can go. */
export function isIdle(state: NodeState): boolean {
  return DIRECTIONS.every(
    (direction) =>
      state.lanes[direction].inFlight === 0 &&
      state.lanes[direction].queued === 0 &&
      !state.probing[direction]
  )
}

/** Stops the node's probe timers. */
export function stopProbeTimers(state: NodeState): void {
  for (const direction of DIRECTIONS) {
    clearTimeout(state.timers[direction])
    state.timers[direction] = undefined
  }
}

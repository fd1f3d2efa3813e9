import { StoreError, StoreUnavailableError } from '../errors.js'
import type { CircuitBreaker } from '../resilience/circuit-breaker.js'
import {
  idle,
  raceDeadline,
  waitAtMost,
  withDeadline,
  type DeadlineWatch,
} from '../resilience/deadline.js'
import {
  emptyDropCounts,
  type BreakerDirection,
  type BreakerStatus,
  type DropReason,
  type StoreHealth,
  type StoreObserver,
} from '../resilience/store-health.js'
import { breakerOpen, isClusterRetry, isNodeFault } from './redis-errors.js'
import {
  DIRECTIONS,
  isIdle,
  newNodeState,
  stopProbeTimers,
  type NodeState,
  type NodeStateSettings,
} from './redis-node-state.js'
import type { RedisDriver, RedisNodeConnection } from './redis-driver.js'

/** What the runner is made with: each node's lanes and breakers (`NodeStateSettings`), a command's deadline, the store's prefix. */
export interface RunnerOptions extends NodeStateSettings {
  /** Deadline of each command, from the moment it holds a connection slot. */
  timeoutMs: number
  /** Prefix of the store's own keys (the write probe's key lives under it). */
  prefix: string
}

/** How a command goes: `guard: false` sends it even while its breaker is open (background invalidation retries). */
export interface RunFlags {
  guard?: boolean
  /** This command's deadline instead of the store's `timeout` (commands of bulk work). */
  timeoutMs?: number
}

/**
 * Redirections seen while slots move are retried this often, this far apart (×1, ×2, ×3…): a
 * reshard moves a slot in milliseconds to a few seconds; the slot map refresh a MOVED triggers
 * usually lands in one round trip.
 */
const CLUSTER_RETRIES = 5
const CLUSTER_RETRY_DELAY_MS = 25
/**
 * While a Cluster node's breaker is open, the slot map is re-read this often: a master that
 * stopped answering sends no MOVED, and its replica's promotion should be found within a second,
 * not at the next periodic refresh.
 */
const SLOTS_WATCH_MS = 500

/**
 * Sends every RedisStore command: per node and direction (reads, writes, each on its own
 * connection), a circuit breaker and a bounded queue in front of a bounded number of commands on
 * the wire (so a deadline measures Redis, not the queue), and on a Cluster bounded retries of
 * redirections. Open breakers are probed with a command of our own (PING for reads, a SET of a
 * probe key for writes), never a user's; they close on a probe's answer, even a late one, and on
 * the `ready` of that direction's connection to the node.
 */
export class RedisRunner {
  readonly #topologies: Record<BreakerDirection, RedisDriver>
  readonly #options: RunnerOptions
  readonly #nodes = new Map<string, NodeState>()
  readonly #observers = new Set<StoreObserver>()
  readonly #dropped = { read: emptyDropCounts(), write: emptyDropCounts() }
  #slotsWatch: NodeJS.Timeout | undefined
  #closed = false

  constructor(topologies: Record<BreakerDirection, RedisDriver>, options: RunnerOptions) {
    this.#topologies = topologies
    this.#options = options
    for (const direction of DIRECTIONS)
      topologies[direction].onNodeReady((node) => this.#nodeReady(node, direction))
  }

  /** Runs `command` for `fullKey` in `direction`. Rejects with the command's error, a `StoreTimeoutError` or a `StoreUnavailableError`. */
  run<T>(
    direction: BreakerDirection,
    fullKey: string,
    name: string,
    command: () => Promise<T>,
    flags: RunFlags = {}
  ): Promise<T> {
    const topology = direction === 'read' ? this.#topologies.read : this.#topologies.write
    if (topology.isCluster) return this.#runClustered(direction, fullKey, name, command, flags)
    // A standalone Redis redirects nothing: its call is the send alone, without an async frame
    // of its own around it (callgrind, Koa front door on Redis at 1 KB: ~1.3 k instructions a hit).
    try {
      return this.#send(this.#state(topology.nodeOf(fullKey)), direction, name, command, flags)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** `run` on a Cluster: a MOVED, ASK or TRYAGAIN reply is tried again, on the slot's node. */
  async #runClustered<T>(
    direction: BreakerDirection,
    fullKey: string,
    name: string,
    command: () => Promise<T>,
    flags: RunFlags
  ): Promise<T> {
    const topology = this.#topologies[direction]
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#send(
          this.#state(topology.nodeOf(fullKey)),
          direction,
          name,
          command,
          flags
        )
      } catch (error) {
        if (!topology.isCluster || attempt >= CLUSTER_RETRIES || !isClusterRetry(error)) throw error
        if ((error as Error).message.startsWith('MOVED ')) topology.refreshSlots()
        await idle(CLUSTER_RETRY_DELAY_MS * (attempt + 1))
      }
    }
  }

  /** Runs `command` on one named node (SCAN of one master). No Cluster retries: the caller knows the node. */
  runOnNode<T>(
    direction: BreakerDirection,
    node: string,
    name: string,
    command: () => Promise<T>,
    flags: RunFlags = {}
  ): Promise<T> {
    return this.#send(this.#state(node), direction, name, command, flags)
  }

  /** Every master with its name and `direction`'s connection to it (SCAN must visit each). */
  masters(direction: BreakerDirection): Array<{ node: string; connection: RedisNodeConnection }> {
    return this.#topologies[direction].masters()
  }

  health(): StoreHealth {
    const breakers: BreakerStatus[] = []
    let inFlight = 0
    let queued = 0
    for (const state of this.#nodes.values()) {
      for (const direction of DIRECTIONS) {
        inFlight += state.lanes[direction].inFlight
        queued += state.lanes[direction].queued
      }
      if (state.breakers === undefined) continue
      for (const direction of DIRECTIONS) {
        const breaker = state.breakers[direction]
        breakers.push({
          node: state.node,
          direction,
          state: breaker.state,
          retryInMs: breaker.retryInMs,
        })
      }
    }
    return {
      breakers,
      inFlight,
      queued,
      dropped: { read: { ...this.#dropped.read }, write: { ...this.#dropped.write } },
    }
  }

  observe(observer: StoreObserver): () => void {
    this.#observers.add(observer)
    return () => this.#observers.delete(observer)
  }

  /** Reports a background fault (a lost connection of a client the store owns) to observers. */
  fault(error: Error): void {
    for (const observer of this.#observers) observer.fault(error)
  }

  close(): void {
    this.#closed = true
    clearInterval(this.#slotsWatch)
    for (const state of this.#nodes.values()) stopProbeTimers(state)
    for (const direction of DIRECTIONS) this.#topologies[direction].close()
  }

  /**
   * Sends `command` on `state`'s node in `direction`, through its breaker, its lane and the
   * deadline. A call that finds the connection ready and a slot free goes out in this turn with
   * one promise of its own (the deadline's, which releases the slot and tells the breaker as it
   * settles): an async frame here, and a reply handler of its own for the slot, cost ~1.5 k
   * instructions a read (callgrind, Koa front door on Redis at 1 KB). Records by direction are
   * read here as `.read` or `.write`, not `[direction]`: a keyed load whose key is sometimes one and
   * sometimes the other goes megamorphic, ~120 instructions each.
   */
  #send<T>(
    state: NodeState,
    direction: BreakerDirection,
    name: string,
    command: () => Promise<T>,
    flags: RunFlags
  ): Promise<T> {
    const breaker = direction === 'read' ? state.breakers?.read : state.breakers?.write
    if (flags.guard !== false && breaker !== undefined && breaker.state !== 'closed')
      return Promise.reject(this.#skip(direction, 'breaker-open', state.node))
    const topology = direction === 'read' ? this.#topologies.read : this.#topologies.write
    const connecting = topology.connecting()
    if (connecting !== undefined)
      return this.#sendQueued(state, direction, name, command, flags, connecting, undefined)
    const wait = (direction === 'read' ? state.lanes.read : state.lanes.write).acquire(direction)
    if (wait !== undefined)
      return this.#sendQueued(state, direction, name, command, flags, undefined, wait)
    return this.#dispatch(state, direction, name, command, this.#deadline(flags))
  }

  /**
   * `#send` for a call that must wait: for the connection (`connecting`), then for a slot, or for
   * the slot it asked for already (`wait`).
   */
  async #sendQueued<T>(
    state: NodeState,
    direction: BreakerDirection,
    name: string,
    command: () => Promise<T>,
    flags: RunFlags,
    connecting: Promise<void> | undefined,
    wait: Promise<void> | undefined
  ): Promise<T> {
    const lane = state.lanes[direction]
    if (connecting !== undefined) {
      await waitAtMost(connecting, this.#options.queueTimeoutMs)
      wait = lane.acquire(direction)
    }
    if (wait !== undefined) {
      try {
        await wait
      } catch (error) {
        this.#count(direction, error)
        throw error
      }
      // The breaker may have opened while this call waited.
      const breaker = state.breakers?.[direction]
      if (flags.guard !== false && breaker !== undefined && breaker.state !== 'closed') {
        lane.release()
        throw this.#skip(direction, 'breaker-open', state.node)
      }
    }
    return this.#dispatch(state, direction, name, command, this.#deadline(flags))
  }

  /** Sends `command` in a slot already held, against `deadlineMs`: the slot is given back once Redis really answers. */
  #dispatch<T>(
    state: NodeState,
    direction: BreakerDirection,
    name: string,
    command: () => Promise<T>,
    deadlineMs: number
  ): Promise<T> {
    let reply: Promise<T>
    try {
      reply = command()
    } catch (error) {
      state.lanes[direction].release()
      return Promise.reject(error)
    }
    // The deadline starts once the command is on the wire: not while this turn's burst of calls
    // queues behind it. The slot is held until Redis answers (or the connection drops), not just
    // until the deadline.
    return raceDeadline(
      reply,
      deadlineMs,
      name,
      true,
      direction === 'read' ? state.outcomes.read : state.outcomes.write
    )
  }

  /** A command's deadline: its own (`flags.timeoutMs`, bulk work) or the store's `timeout`. */
  #deadline(flags: RunFlags): number {
    return flags.timeoutMs ?? this.#options.timeoutMs
  }

  #state(node: string): NodeState {
    let state = this.#nodes.get(node)
    if (state === undefined) {
      state = newNodeState(
        node,
        this.#options,
        (change) => {
          for (const observer of this.#observers) observer.transition?.({ ...change, node })
        },
        (made, direction) => this.#outcomes(made, direction)
      )
      this.#nodes.set(node, state)
    }
    return state
  }

  /** What a sent command's end does to its node's slot and breaker in `direction` (once per node). */
  #outcomes(state: NodeState, direction: BreakerDirection): DeadlineWatch {
    const lane = state.lanes[direction]
    const breaker = state.breakers?.[direction]
    return {
      settled: () => lane.release(),
      resolved: () => {
        // Only a probe or a ready connection closes an open breaker: an unguarded delete that
        // works while writes fail (out of memory) says nothing about writes in general.
        if (breaker?.state === 'closed') breaker.success()
      },
      rejected: (error) => {
        // Failures of unguarded calls while the breaker is not closed are the probe's to judge.
        if (breaker?.state === 'closed' && isNodeFault(error) && breaker.failure())
          this.#opened(state, direction, error)
      },
    }
  }

  /** A call not sent because its breaker is open: counted, and the error to reject with. */
  #skip(direction: BreakerDirection, reason: DropReason, node: string): StoreUnavailableError {
    this.#dropped[direction][reason]++
    return breakerOpen(direction, node)
  }

  #count(direction: BreakerDirection, error: unknown): void {
    if (error instanceof StoreUnavailableError && error.reason in this.#dropped[direction])
      this.#dropped[direction][error.reason as DropReason]++
  }

  #opened(state: NodeState, direction: BreakerDirection, cause: unknown): void {
    const breaker = state.breakers?.[direction] as CircuitBreaker
    // Counted by #send when each waiter's rejection reaches it.
    state.lanes[direction].rejectWaiting(direction, () => breakerOpen(direction, state.node))
    const message = `Redis ${direction}s on ${state.node} are skipped for ${breaker.openForMs} ms: ${cause instanceof Error ? cause.message : String(cause)}`
    this.fault(new StoreUnavailableError(message, { reason: 'breaker-open', cause }))
    this.#scheduleProbe(state, direction)
    this.#watchSlots()
  }

  /** On a Cluster, re-reads the slot map every SLOTS_WATCH_MS while any breaker is open. */
  #watchSlots(): void {
    if (this.#slotsWatch !== undefined || this.#closed || !this.#topologies.read.isCluster) return
    this.#slotsWatch = setInterval(() => {
      const open = [...this.#nodes.values()].some((state) =>
        DIRECTIONS.some(
          (direction) =>
            state.breakers !== undefined && state.breakers[direction].state !== 'closed'
        )
      )
      if (!open) {
        clearInterval(this.#slotsWatch)
        this.#slotsWatch = undefined
        return
      }
      for (const direction of DIRECTIONS) this.#topologies[direction].refreshSlots()
    }, SLOTS_WATCH_MS)
    this.#slotsWatch.unref()
  }

  /** Probes when the breaker lets one through, and not before `atLeastMs`. */
  #scheduleProbe(state: NodeState, direction: BreakerDirection, atLeastMs = 0): void {
    if (
      this.#closed ||
      state.probing[direction] ||
      state.recovering[direction] ||
      state.timers[direction] !== undefined
    )
      return
    const breaker = state.breakers?.[direction]
    if (breaker === undefined || breaker.state === 'closed') return
    const timer = setTimeout(
      () => {
        state.timers[direction] = undefined
        this.#probe(state, direction)
      },
      Math.max(breaker.retryInMs, atLeastMs)
    )
    timer.unref()
    state.timers[direction] = timer
  }

  #probe(state: NodeState, direction: BreakerDirection): void {
    const breaker = state.breakers?.[direction]
    if (
      this.#closed ||
      this.#nodes.get(state.node) !== state ||
      breaker === undefined ||
      breaker.state === 'closed' ||
      state.recovering[direction]
    )
      return
    const connection = this.#topologies[direction].connection(state.node)
    if (connection === undefined) {
      // Not a master in the client's slot map now (failed over, resharded away): nothing to probe.
      // Once no call to it is out, its state goes, and a node that is a master again starts with a
      // closed breaker. While calls are out the state stays, and so must the probing: the map may
      // be a moment's stale view (a resumed old master answering a slot-map read), and a breaker
      // left open with no probe to come would skip this node's keys for good once it is a master
      // again.
      if (isIdle(state)) this.#forget(state)
      else this.#scheduleProbe(state, direction, SLOTS_WATCH_MS)
      return
    }
    if (!breaker.allow()) {
      this.#scheduleProbe(state, direction)
      return
    }
    state.probing[direction] = true
    const reply = this.#probeCommand(connection, state.node, direction)
    // A late answer still counts: a frozen Redis answers the probe the moment it thaws.
    reply.then(
      () => this.#recover(state, direction),
      () => {}
    )
    void withDeadline(reply, this.#options.timeoutMs, `${direction} probe`).catch(
      (error: unknown) => {
        if (breaker.state === 'closed') return
        breaker.failure()
        this.fault(new StoreError(`${direction} probe of ${state.node}`, error))
      }
    )
    // The next probe waits for this one's reply: behind a hung socket it would only queue.
    void reply
      .catch(() => {})
      .finally(() => {
        state.probing[direction] = false
        this.#scheduleProbe(state, direction)
      })
  }

  /** Drops a node's state (its calls are done, it is no longer a master): its next call starts afresh. */
  #forget(state: NodeState): void {
    if (this.#nodes.get(state.node) === state) this.#nodes.delete(state.node)
    stopProbeTimers(state)
  }

  #probeCommand(
    connection: RedisNodeConnection,
    node: string,
    direction: BreakerDirection
  ): Promise<unknown> {
    try {
      if (direction === 'read') return connection.send(['PING'])
      const key = this.#topologies.write.probeKey(node, this.#options.prefix)
      if (key === undefined) return connection.send(['PING'])
      return connection.send(['SET', key, '1', 'PX', '60000'])
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #recover(state: NodeState, direction: BreakerDirection): void {
    const breaker = state.breakers?.[direction]
    if (breaker === undefined || breaker.state === 'closed' || state.recovering[direction]) return
    state.recovering[direction] = true
    clearTimeout(state.timers[direction])
    state.timers[direction] = undefined
    // Queued purges go first (they are sent past the breaker); then calls may come through.
    const waits = [...this.#observers].map((observer) =>
      Promise.resolve().then(() => observer.recovered())
    )
    void Promise.allSettled(waits).then(() => {
      state.recovering[direction] = false
      breaker.close()
    })
  }

  /** A connection that has just become ready answers: its direction gets another chance at once. */
  #nodeReady(node: string, direction: BreakerDirection): void {
    const state = this.#nodes.get(node)
    if (state !== undefined) this.#recover(state, direction)
  }
}

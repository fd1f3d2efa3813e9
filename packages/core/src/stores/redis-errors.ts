import { StoreTimeoutError, StoreUnavailableError } from '../errors.js'
import { isReplyError } from './redis-driver.js'
import type { BreakerDirection } from '../resilience/store-health.js'

/**
 * Cluster answers that mean "ask again, perhaps elsewhere" while slots move (resharding,
 * failover). ioredis follows MOVED and ASK itself for single commands, but an auto-pipelined
 * batch that mixes replies or writes hands them to the caller, as it does "All keys in the
 * pipeline should belong to the same slots allocation group" when the slot map changed between
 * queueing and sending. None of them says the node is sick: they are retried, not counted.
 * (CLUSTERDOWN is not among them: ioredis already waits and retries it, and one that reaches us
 * is a cluster that cannot serve, which the breaker should count.)
 */
const CLUSTER_RETRY_PREFIXES = [
  'MOVED ',
  'ASK ',
  'TRYAGAIN',
  'Too many Cluster redirections',
  'Failed to refresh slots cache',
]
const CLUSTER_RETRY_FRAGMENTS = ['same slots allocation group', 'belong to the same node']

/**
 * Reply errors that say the node cannot serve now (it is what failed, not the command). Other
 * replies (WRONGTYPE, a bad argument) are about the data: the call fails, the breaker does not
 * count it. Revisit when Redis adds an error prefix for a node-level condition.
 */
const NODE_FAULT_PREFIXES = [
  'OOM',
  'READONLY',
  'LOADING',
  'BUSY',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'NOREPLICAS',
  'MISCONF',
  'TRYAGAIN',
  'NOAUTH',
  'WRONGPASS',
  'ERR max number of clients',
]

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** A Cluster redirection or slot-map change that a retry a moment later gets past. */
export function isClusterRetry(error: unknown): boolean {
  const message = messageOf(error)
  return (
    CLUSTER_RETRY_PREFIXES.some((prefix) => message.startsWith(prefix)) ||
    CLUSTER_RETRY_FRAGMENTS.some((fragment) => message.includes(fragment))
  )
}

/** Whether `error` counts against the node's breaker: timeouts, connection failures and node-level replies. */
export function isNodeFault(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return false
  if (error instanceof StoreTimeoutError) return true
  if (isClusterRetry(error)) return false
  if (!isReplyError(error)) return true
  const message = messageOf(error)
  return NODE_FAULT_PREFIXES.some((prefix) => message.startsWith(prefix))
}

/** Why a call to `node` in `direction` is not sent: its circuit breaker is open. */
export function breakerOpen(direction: BreakerDirection, node: string): StoreUnavailableError {
  return new StoreUnavailableError(
    `store skipped: Redis ${direction}s on ${node} are off (circuit breaker open)`,
    { reason: 'breaker-open' }
  )
}

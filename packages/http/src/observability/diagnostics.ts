import diagnosticsChannel from 'node:diagnostics_channel'

/**
 * `node:diagnostics_channel` names the engine publishes on, so OpenTelemetry or any APM can
 * subscribe without cachewire depending on it. Channels are Node's process-wide registry by
 * design (a subscriber finds them by name); cachewire keeps no state of its own here.
 * New channels may be added in a minor release; existing message fields keep their meaning.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel'
 * diagnosticsChannel.subscribe('cachewire:lookup', (message) => console.log(message))
 * ```
 */
export const DiagnosticsChannel = {
  /** Every request `handle` or a front door answered: `LookupMessage`. */
  Lookup: 'cachewire:lookup',
  /** A request that went around the cache: `BypassMessage`. */
  Bypass: 'cachewire:bypass',
  /** A response stored, or not stored with a reason: `StoreMessage`. */
  Store: 'cachewire:store',
  /** Tags, a pattern or a namespace invalidated: `InvalidateMessage`. */
  Invalidate: 'cachewire:invalidate',
} as const
export type DiagnosticsChannel = (typeof DiagnosticsChannel)[keyof typeof DiagnosticsChannel]

/** How a request was answered. `stale`: served past freshness (stale-while-revalidate). */
export type LookupResult = 'hit' | 'stale' | 'miss' | 'revalidated'

export interface LookupMessage {
  result: LookupResult
  method: string
  /** The URL path, never the query or the cache key. */
  path: string
}

export interface BypassMessage {
  /** A `Reason` word, the same as Cache-Status `detail`. */
  reason: string
  method: string
  path: string
}

export interface StoreMessage {
  stored: boolean
  /** Why not, when `stored` is false: a `Reason` word. */
  reason: string | undefined
  path: string
  /** Body bytes stored (0 when not stored). */
  bytes: number
  /** Time the store write took, in ms (0 when not stored). */
  durationMs: number
}

export interface InvalidateMessage {
  tags?: readonly string[] | undefined
  pattern?: string | undefined
  namespace?: string | undefined
  removed: number
}

const lookupChannel = diagnosticsChannel.channel(DiagnosticsChannel.Lookup)
const bypassChannel = diagnosticsChannel.channel(DiagnosticsChannel.Bypass)
const storeChannel = diagnosticsChannel.channel(DiagnosticsChannel.Store)
const invalidateChannel = diagnosticsChannel.channel(DiagnosticsChannel.Invalidate)

/** Publishers that build no message when nobody listens. */
export const publish = {
  lookup(message: () => LookupMessage): void {
    if (lookupChannel.hasSubscribers) lookupChannel.publish(message())
  },
  bypass(message: () => BypassMessage): void {
    if (bypassChannel.hasSubscribers) bypassChannel.publish(message())
  },
  store(message: () => StoreMessage): void {
    if (storeChannel.hasSubscribers) storeChannel.publish(message())
  },
  invalidate(message: () => InvalidateMessage): void {
    if (invalidateChannel.hasSubscribers) invalidateChannel.publish(message())
  },
}

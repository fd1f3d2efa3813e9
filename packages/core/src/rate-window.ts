import type { WindowHitOptions, WindowState } from './types.js'

/**
 * The counts of one rate-limit key: the current fixed window's index and count, and the count of
 * the window before it. The sliding-window counter (Cloudflare's, 2017) estimates the requests of
 * the last `windowMs` as `previous × (1 − elapsed / windowMs) + current`: O(1) memory per key
 * whatever the limit, where a log of timestamps (a sorted set) holds one member per request.
 *
 * This file is the reference: the memory store runs it, and the Lua of the Redis store
 * (`stores/redis-windows.ts`) does the same arithmetic, so both answer alike.
 */
export interface WindowCounts {
  index: number
  current: number
  previous: number
}

/** Applies one hit at `now` (ms) to `counts` (undefined: a new key); returns the new counts and the state. */
export function applyWindowHit(
  counts: WindowCounts | undefined,
  now: number,
  options: WindowHitOptions
): { counts: WindowCounts; state: WindowState } {
  const { windowMs, limit, cost, sliding } = options
  const index = Math.floor(now / windowMs)
  const elapsedMs = now - index * windowMs
  let current = 0
  let previous = 0
  if (counts !== undefined && counts.index === index) {
    current = counts.current
    previous = counts.previous
  } else if (counts !== undefined && counts.index === index - 1) {
    previous = counts.current
  }
  const used = sliding ? previous * ((windowMs - elapsedMs) / windowMs) + current : current
  const allowed = used + cost <= limit
  if (allowed) current += cost
  return {
    counts: { index, current, previous: sliding ? previous : 0 },
    state: { allowed, current, previous: sliding ? previous : 0, elapsedMs },
  }
}

/** What a window state means for the client: units left, seconds until the effective window ends, seconds to wait when denied. */
export interface WindowReading {
  remaining: number
  /** Seconds (whole, rounded up) within which the client can use no more than `remaining`. */
  resetSeconds: number
  /** Seconds (whole, rounded up) until a hit of `cost` would fit; 0 when allowed. */
  retryAfterSeconds: number
}

/** Reads a window state after a hit (the RateLimit field values and Retry-After of draft-ietf-httpapi-ratelimit-headers). */
export function readWindow(state: WindowState, options: WindowHitOptions): WindowReading {
  const { windowMs, limit, sliding } = options
  const left = windowMs - state.elapsedMs
  const used = sliding ? state.previous * (left / windowMs) + state.current : state.current
  const remaining = Math.max(0, Math.floor(limit - used))
  const toEnd = Math.max(1, Math.ceil(left / 1000))
  if (state.allowed) return { remaining, resetSeconds: toEnd, retryAfterSeconds: 0 }
  const waitMs = sliding ? slidingWait(state, options) : left
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000))
  return { remaining: 0, resetSeconds: retryAfterSeconds, retryAfterSeconds }
}

/**
 * How long until `previous × weight + current + cost <= limit` holds. Within the current window the
 * previous count's weight falls linearly; if that is not enough, the next window starts with the
 * current count as its previous one.
 */
function slidingWait(state: WindowState, options: WindowHitOptions): number {
  const { windowMs, limit, cost } = options
  const left = windowMs - state.elapsedMs
  if (cost > limit) return windowMs * 2
  if (state.current + cost <= limit) {
    // previous × (left − dt) / windowMs <= limit − cost − current
    const dt =
      left -
      (windowMs * (limit - cost - state.current)) / Math.max(state.previous, Number.MIN_VALUE)
    return Math.max(1, dt)
  }
  // Next window: current × (windowMs − e) / windowMs + cost <= limit
  const into = windowMs - (windowMs * (limit - cost)) / state.current
  return left + Math.max(1, into)
}

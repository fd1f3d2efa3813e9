import type { CardinalityLimit } from '../types.js'

/**
 * Most groups (routes or paths) tracked in one window. Past it, new groups are refused too, so
 * cache-busting paths (`/x/1`, `/x/2`, …) are bounded like cache-busting parameters. Raise it
 * only with the memory it costs (a group holds at most `keys` hashes).
 */
export const MAX_GROUPS_PER_WINDOW = 10_000

interface Window {
  startedAt: number
  /**
   * The keys of each group: its one key itself until a second comes. Groups by path mostly hold
   * one key each, and a set apiece was the largest thing a new entry added to the heap for the
   * rest of the window (bench/heap-per-entry.mjs).
   */
  groups: Map<unknown, string | Set<string>>
}

/**
 * The cardinality guard: counts distinct keys that miss per group (a route's policy object, or
 * a host and path) in fixed windows, and refuses new ones past the limit, so a flood of
 * cache-busting URLs is served uncached instead of evicting every useful entry. Memory is
 * bounded by `MAX_GROUPS_PER_WINDOW × keys` hashes per limit.
 *
 * @example
 * ```ts
 * const guard = new CardinalityGuard(Date.now)
 * guard.admit({ keys: 1000, windowMs: 60_000 }, '/search', hash) // false once 1000 other keys missed this minute
 * ```
 */
export class CardinalityGuard {
  readonly #clock: () => number
  readonly #windows = new Map<CardinalityLimit, Window>()

  constructor(clock: () => number) {
    this.#clock = clock
  }

  /** May this key become a new entry of `group`? Records it when it may. */
  admit(limit: CardinalityLimit, group: unknown, hash: string): boolean {
    const now = this.#clock()
    let window = this.#windows.get(limit)
    if (
      window === undefined ||
      now - window.startedAt >= limit.windowMs ||
      now < window.startedAt
    ) {
      window = { startedAt: now, groups: new Map() }
      this.#windows.set(limit, window)
    }
    const keys = window.groups.get(group)
    if (keys === undefined) {
      if (window.groups.size >= MAX_GROUPS_PER_WINDOW || limit.keys < 1) return false
      window.groups.set(group, hash)
      return true
    }
    if (typeof keys === 'string') {
      if (keys === hash) return true
      if (limit.keys < 2) return false
      window.groups.set(group, new Set([keys, hash]))
      return true
    }
    if (keys.has(hash)) return true
    if (keys.size >= limit.keys) return false
    keys.add(hash)
    return true
  }
}

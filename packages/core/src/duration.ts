import { InvalidOptionError } from './errors.js'
import type { Ttl } from './types.js'

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/

/**
 * Converts a TTL given as milliseconds or a readable string (`'30s'`, `'5m'`) to whole
 * milliseconds. Throws `InvalidOptionError` naming `option` for anything else.
 *
 * @example
 * ```ts
 * import { toMilliseconds } from '@cachewire/core'
 * toMilliseconds('5m', 'ttl') // 300000
 * ```
 */
export function toMilliseconds(value: Ttl | string | number, option: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) throw new InvalidOptionError(option, 'a positive number of milliseconds or a duration like "5m"', value)
    return Math.ceil(value)
  }
  if (typeof value === 'string') {
    const match = DURATION.exec(value)
    if (match !== null) {
      const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number)
      if (ms > 0) return Math.ceil(ms)
    }
  }
  throw new InvalidOptionError(option, 'a positive number of milliseconds or a duration like "5m"', value)
}

import { InvalidOptionError } from './errors.js'

/**
 * A duration, read the same way by every option of every cachewire package: a string with a
 * unit (`'500ms'`, `'30s'`, `'5m'`, `'1h'`, `'1d'`, `'1w'`, or `'90 seconds'`, `'5 minutes'`,
 * `'2 hours'`, `'1 day'`) or a number of **milliseconds**.
 *
 * Lifetimes (a TTL, a stale window, a max-age) refuse a bare number from 1 to 999: `ttl: 60` is
 * almost always "60 seconds" written where milliseconds are read. Write `'60s'`, or `'60ms'` if
 * that is what you mean. Timeouts and intervals take any positive number of milliseconds.
 */
export type Duration =
  number | `${number}${DurationUnit}` | `${number} ${DurationUnit | DurationWord}`
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w'
export type DurationWord =
  | 'millisecond'
  | 'milliseconds'
  | 'second'
  | 'seconds'
  | 'minute'
  | 'minutes'
  | 'hour'
  | 'hours'
  | 'day'
  | 'days'
  | 'week'
  | 'weeks'

/** What a duration option measures: `lifetime` refuses 1..999 as a bare number (see {@link Duration}). */
export type DurationKind = 'lifetime' | 'timeout'

export interface DurationRules {
  /** @default 'lifetime' */
  kind?: DurationKind | undefined
  /** Accept 0 (for a window that may be empty). @default false */
  allowZero?: boolean | undefined
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  msec: 1,
  msecs: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
}

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i

/** The longest wait setTimeout can do: a timeout longer than this would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

/**
 * Reads a duration option as whole milliseconds, by the one rule of {@link Duration}. Throws an
 * `InvalidOptionError` naming `option` for anything else, saying what was probably meant.
 *
 * @example
 * ```ts
 * import { parseDuration } from '@cachewire/core'
 * parseDuration('5 minutes', 'ttl') // 300000
 * parseDuration(50, 'timeout', { kind: 'timeout' }) // 50
 * parseDuration(60, 'ttl') // throws: a bare 60 is 60 ms; write '60s'
 * ```
 */
export function parseDuration(value: unknown, option: string, rules: DurationRules = {}): number {
  const kind = rules.kind ?? 'lifetime'
  const zero = rules.allowZero === true
  const expected = `a duration like '30s' or '5 minutes', or a number of milliseconds${kind === 'lifetime' ? ' (1000 or more)' : ''}`
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || (value === 0 && !zero))
      throw new InvalidOptionError(option, expected, value)
    if (kind === 'lifetime' && value > 0 && value < 1000) {
      throw new InvalidOptionError(
        option,
        expected,
        `${value} (a bare number is milliseconds: write '${value}s' for seconds, or '${value}ms' if you mean milliseconds)`
      )
    }
    return checkRange(Math.ceil(value), option, expected, kind)
  }
  if (typeof value === 'string') {
    const match = DURATION.exec(value)
    const unit = match === null ? undefined : UNIT_MS[(match[2] as string).toLowerCase()]
    if (match !== null && unit !== undefined) {
      const ms = Math.ceil(Number(match[1]) * unit)
      if (ms > 0 || (ms === 0 && zero)) return checkRange(ms, option, expected, kind)
    }
  }
  throw new InvalidOptionError(option, expected, value)
}

function checkRange(ms: number, option: string, expected: string, kind: DurationKind): number {
  if (kind === 'timeout' && ms > MAX_TIMEOUT_MS)
    throw new InvalidOptionError(option, `${expected}, at most 24 days`, ms)
  if (!Number.isSafeInteger(ms)) throw new InvalidOptionError(option, expected, ms)
  return ms
}

/**
 * A duration option that may be turned off with `false` (a stale window, say): 0 when off.
 *
 * @example
 * ```ts
 * parseOptionalWindow(false, 'stale.ifError') // 0
 * parseOptionalWindow('10m', 'stale.ifError') // 600000
 * ```
 */
export function parseOptionalWindow(value: unknown, option: string): number {
  if (value === false) return 0
  return parseDuration(value, option, { allowZero: true })
}

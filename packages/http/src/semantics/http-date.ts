const MONTHS: ReadonlyMap<string, number> = new Map(
  ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map(
    (name, i) => [name, i]
  )
)

// RFC 9111 §4.2: "Although all date formats are specified to be case-sensitive, a cache recipient
// SHOULD match the field value case-insensitively", hence the `i` flags. The zone stays GMT only:
// "a cache recipient SHOULD consider a date with a zone abbreviation other than "GMT" to be invalid".
/** RFC 9110 §5.6.7 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/i
/** RFC 9110 §5.6.7 obsolete rfc850-date: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/i
/** RFC 9110 §5.6.7 obsolete asctime-date: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i

/**
 * Parses an HTTP-date (RFC 9110 §5.6.7) as a cache recipient does: the three formats recipients
 * must accept and nothing else, so `Expires: 0` or `Expires: tomorrow` is invalid rather than
 * guessed at; day names, month names and `GMT` match case-insensitively (RFC 9111 §4.2).
 * `now` only resolves the two-digit years of rfc850-date. Returns ms since epoch, or undefined.
 *
 * @example
 * ```ts
 * parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', Date.now()) // 784111777000
 * parseHttpDate('SUN, 06 NOV 1994 08:49:37 gmt', Date.now()) // 784111777000
 * parseHttpDate('0', Date.now())                             // undefined
 * ```
 */
export function parseHttpDate(value: string, now: number): number | undefined {
  const text = value.trim()
  let match = IMF_FIXDATE.exec(text)
  if (match !== null) return build(match[3], match[2], match[1], match[4], match[5], match[6])
  match = ASCTIME_DATE.exec(text)
  if (match !== null) return build(match[6], match[1], match[2], match[3], match[4], match[5])
  match = RFC850_DATE.exec(text)
  if (match === null) return undefined
  // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.
  const currentYear = new Date(now).getUTCFullYear()
  let year = Math.floor(currentYear / 100) * 100 + Number(match[3])
  if (year > currentYear + 50) year -= 100
  return build(String(year), match[2], match[1], match[4], match[5], match[6])
}

/**
 * Formats ms since epoch as IMF-fixdate, the form senders must generate (RFC 9110 §5.6.7).
 *
 * @example
 * ```ts
 * formatHttpDate(784111777000) // 'Sun, 06 Nov 1994 08:49:37 GMT'
 * ```
 */
export function formatHttpDate(time: number): string {
  return new Date(time).toUTCString()
}

function build(
  year: string | undefined,
  month: string | undefined,
  day: string | undefined,
  hours: string | undefined,
  minutes: string | undefined,
  seconds: string | undefined
): number | undefined {
  const monthIndex = MONTHS.get((month ?? '').toLowerCase())
  if (monthIndex === undefined) return undefined
  const parts = [year, day, hours, minutes, seconds].map((part) => Number(part?.trim()))
  const [y, d, h, m, s] = parts as [number, number, number, number, number]
  if (h > 23 || m > 59 || s > 60) return undefined
  // A leap second (60) is valid on the wire; Date has none, so it folds into the next second.
  const time = Date.UTC(y, monthIndex, d, h, m, Math.min(s, 59)) + (s === 60 ? 1000 : 0)
  const check = new Date(time - (s === 60 ? 1000 : 0))
  // Rejects 31 Feb and the like, which Date.UTC would roll over into March.
  if (check.getUTCDate() !== d || check.getUTCMonth() !== monthIndex) return undefined
  return time
}

import { InvalidOptionError } from './errors.js'

/**
 * Refuses option names nobody reads: a typo (`tll: '1m'`) or an option of another version would
 * otherwise be ignored without a word. Names the first unknown option, with the known name it is
 * closest to when there is one. `renamed` maps old names to their new ones, so an option renamed
 * in a new version is answered with its new name even when the two look nothing alike
 * (`deadlineMs` → `timeout`).
 *
 * @example
 * ```ts
 * import { rejectUnknownOptions } from '@cachewire/core'
 * rejectUnknownOptions({ tll: '1m' }, ['ttl', 'tags'], '') // throws: expected options.tll to be a known option (did you mean "ttl"?)
 * rejectUnknownOptions({ deadlineMs: 50 }, ['timeout'], '', { deadlineMs: 'timeout' })
 * // throws: expected options.deadlineMs to be a known option (did you mean "timeout"? "deadlineMs" was renamed in 1.0)
 * ```
 */
export function rejectUnknownOptions(
  options: object,
  known: readonly string[],
  path: string,
  renamed: Readonly<Record<string, string>> = {}
): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue
    const option = path === '' ? name : `${path}.${name}`
    const successor = Object.hasOwn(renamed, name) ? renamed[name] : undefined
    const nearest = successor ?? closest(name, known)
    const expected =
      nearest === undefined
        ? `one of the known options (${known.join(', ')})`
        : `a known option (did you mean "${nearest}"?${successor === undefined ? '' : ` "${name}" was renamed in 1.0`})`
    throw new InvalidOptionError(option, expected, `an unknown option "${name}"`)
  }
}

/** The known name within a small edit distance (or differing only in case), if any. */
function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: { name: string; distance: number } | undefined
  for (const candidate of known) {
    const distance =
      candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase())
    if (best === undefined || distance < best.distance) best = { name: candidate, distance }
  }
  if (best === undefined) return undefined
  return best.distance <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined
}

/** Levenshtein distance, for short option names only. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(
        Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution)
      )
    }
    previous = current
  }
  return previous[b.length] as number
}

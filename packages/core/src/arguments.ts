import { InvalidArgumentError } from './errors.js'
import { rejectUnknownOptions } from './known-options.js'
import { RESERVED_KEY_PREFIX } from './namespaces.js'

/** Longest key, tag or name accepted: keys reach Redis, and a runaway key is a bug, not data. */
const MAX_KEY_LENGTH = 4096

/** Checks a key, tag, lock or namespace name argument; `what` names it in the error. */
export function assertKey(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidArgumentError(what, 'a non-empty string', value)
  if (value.length > MAX_KEY_LENGTH)
    throw new InvalidArgumentError(
      what,
      `at most ${MAX_KEY_LENGTH} characters`,
      `${value.length} characters`
    )
  if (what === 'key' && value.startsWith(RESERVED_KEY_PREFIX))
    throw new InvalidArgumentError(
      what,
      `a key that does not start with ${RESERVED_KEY_PREFIX}`,
      value
    )
}

export function assertTags(tags: unknown): asserts tags is readonly string[] {
  if (!Array.isArray(tags)) throw new InvalidArgumentError('tags', 'an array of strings', tags)
  for (const tag of tags) assertKey(tag, 'tag')
}

/** An options argument of a method: an object holding only `known` names. */
export function assertOptions(
  options: unknown,
  known: readonly string[]
): asserts options is object {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('options', 'an options object', options)
  rejectUnknownOptions(options, known, '')
}

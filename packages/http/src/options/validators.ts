import {
  InvalidOptionError,
  parseDuration,
  parseOptionalWindow,
  rejectUnknownOptions,
} from '@cachewire/core'
import type { CardinalityLimit, TagsOption } from '../types.js'
import type { MaxKeysPerWindow } from './types.js'

/** RFC 9110 §5.1 field-name. */
export const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * A group of options (`storage`, `keys.query`…): undefined, or a plain object whose every name is
 * known. A name from 0.x that moved is refused with its new place (`moved`), any other unknown
 * name with the nearest known one.
 */
export function group<T extends object>(
  value: T | undefined,
  path: string,
  known: readonly string[],
  moved: Readonly<Record<string, string>> = {}
): Partial<T> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidOptionError(path, 'an object', value)
  for (const name of Object.keys(value)) {
    if (known.includes(name)) continue
    const where = moved[name]
    if (where !== undefined)
      throw new InvalidOptionError(
        join(path, name),
        where,
        (value as Record<string, unknown>)[name]
      )
  }
  rejectUnknownOptions(value, known, path)
  return value
}

/** `a.b`, or `b` at the top level. */
export function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`
}

export function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'a boolean', value)
  return value
}

export function optionalBool(value: unknown, name: string): boolean | undefined {
  return value === undefined ? undefined : bool(value, name, false)
}

export function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) <= 0)
    throw new InvalidOptionError(name, 'a positive integer', value)
  return value as number
}

export function optionalFunction<F>(value: unknown, name: string): F | undefined {
  if (value !== undefined && typeof value !== 'function')
    throw new InvalidOptionError(name, 'a function', value)
  return value as F | undefined
}

/** A route's name: a metric label and an inspector row, so short and plain. */
export function routeName(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^[\w.:/-]{1,64}$/.test(value))
    throw new InvalidOptionError(name, "a name of 1 to 64 letters, digits or '_-.:/'", value)
  return value
}

export function scopeOption(value: unknown, name: string): 'shared' | 'private' | undefined {
  if (value === undefined) return undefined
  if (value !== 'shared' && value !== 'private')
    throw new InvalidOptionError(name, '"shared" or "private"', value)
  return value
}

/** Header names, lower-cased, de-duplicated and sorted (the key material depends on the order). */
export function headerList(value: unknown, name: string): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value))
    throw new InvalidOptionError(name, 'an array of header field names', value)
  value.forEach((header: unknown, i) => {
    if (typeof header !== 'string' || !FIELD_NAME.test(header))
      throw new InvalidOptionError(`${name}[${i}]`, 'a header field name', header)
  })
  return Object.freeze(
    [...new Set((value as string[]).map((header) => header.toLowerCase()))].sort()
  )
}

export function tagsOption(value: unknown, name: string): TagsOption | undefined {
  if (value === undefined || typeof value === 'function') return value as TagsOption | undefined
  if (!Array.isArray(value))
    throw new InvalidOptionError(name, 'an array of tags or a function', value)
  value.forEach((tag: unknown, i) => {
    if (typeof tag !== 'string' || tag === '' || tag.length > 256)
      throw new InvalidOptionError(`${name}[${i}]`, 'a tag of 1 to 256 characters', tag)
  })
  return Object.freeze([...(value as string[])])
}

export function cardinalityLimit(
  value: MaxKeysPerWindow | false | undefined,
  name: string
): CardinalityLimit | false | undefined {
  if (value === undefined || value === false) return value
  const { keys, window } = group(value, name, ['keys', 'window'], {
    windowMs: `written as options.${name}.window since 1.0`,
  })
  if (!Number.isSafeInteger(keys) || (keys as number) <= 0)
    throw new InvalidOptionError(`${name}.keys`, 'a positive integer', keys)
  return Object.freeze({ keys: keys as number, windowMs: parseDuration(window, `${name}.window`) })
}

/** A lifetime that may be switched off with `false` (0 when off); `fallback` when not given. */
export function window(value: unknown, name: string, fallback: number): number {
  return value === undefined ? fallback : parseOptionalWindow(value, name)
}

/** Where a value stops being plain JSON, and whether the V8 structured format can hold it instead. */
export interface LossyPart {
  /** `value`, `value.createdAt`, `value.items[3]`. */
  path: string
  /** What is there, and what JSON would make of it. */
  problem: string
  /** Whether `v8.serialize` round-trips it (a Date, a Map); functions and symbols it cannot. */
  cloneable: boolean
}

export interface LosslessRules {
  /**
   * Strict: only plain objects and arrays, nothing JSON would transform (an object with `toJSON`, a
   * class instance, symbol keys). Lenient (the default serializer): those keep JSON's behaviour, as
   * they always had, and only values JSON would corrupt (Date, Map, Set, BigInt, bytes, NaN,
   * `undefined` in an array, cycles) are reported.
   */
  strict: boolean
}

/** Nesting beyond this is reported rather than walked: a runaway value is a bug, not data. */
const MAX_DEPTH = 512

/**
 * The first part of `value` that `JSON.parse(JSON.stringify(value))` would not give back as it
 * was, or `undefined` when the round trip is exact. A property whose value is `undefined` is not
 * reported: JSON leaves it out, and reading it gives `undefined` either way.
 *
 * @example
 * ```ts
 * findLossy({ at: new Date() }, { strict: true }) // { path: 'value.at', problem: 'is a Date (JSON would return a string)', cloneable: true }
 * ```
 */
export function findLossy(
  value: unknown,
  rules: LosslessRules,
  path = 'value'
): LossyPart | undefined {
  const found = walk(value, rules, [], 0)
  if (found === undefined) return undefined
  // The path is written only for a value that has a problem: the walk itself builds no text.
  const { inner, problem, cloneable } = found
  let full = path
  for (let i = inner.length - 1; i >= 0; i--) full += inner[i]
  return { path: full, problem, cloneable }
}

/** A problem found by `walk`: `inner` holds the path's steps to it, innermost first. */
interface Found {
  inner: string[]
  problem: string
  cloneable: boolean
}

function problem(problem: string, cloneable: boolean): Found {
  return { inner: [], problem, cloneable }
}

/**
 * `ancestors` holds the objects on the path from the root, as a stack: a value is seldom more
 * than a few levels deep, and searching those costs less than a Set made for every value.
 */
function walk(
  value: unknown,
  rules: LosslessRules,
  ancestors: object[],
  depth: number
): Found | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      if (!Number.isFinite(value)) return problem(`is ${value} (JSON would write null)`, true)
      if (Object.is(value, -0)) return problem('is -0 (JSON would write 0)', true)
      return undefined
    case 'bigint':
      return problem('is a BigInt (JSON cannot hold it)', true)
    case 'undefined':
      return problem('is undefined (JSON would write null or leave it out)', true)
    case 'function':
      return problem('is a function (no serializer can store it)', false)
    case 'symbol':
      return problem('is a symbol (no serializer can store it)', false)
    case 'object':
      break
  }
  if (value === null) return undefined
  const object = value as object
  if (depth > MAX_DEPTH) return problem(`is nested deeper than ${MAX_DEPTH} levels`, false)
  if (ancestors.includes(object)) return problem('is circular (JSON cannot hold it)', true)
  const proto = Object.getPrototypeOf(object) as object | null
  // An array on Array.prototype or an object on Object.prototype (or none) is an instance of
  // none of the types JSON corrupts, so only other objects go through `describeRich`: most stored
  // values are plain all the way down. With `ancestors` a stack, a small record's Cache.set went
  // from 19.2 k to 17.8 k instructions (callgrind). Typed-array internals do not depend on the
  // prototype, so they are still looked for.
  const array = Array.isArray(object)
  if (array ? proto !== Array.prototype : proto !== Object.prototype && proto !== null) {
    const rich = describeRich(object)
    if (rich !== undefined) return problem(rich, true)
  } else if (ArrayBuffer.isView(object)) {
    return problem(`is a ${constructorName(object)} (JSON would return an object of numbers)`, true)
  }
  if (array) {
    ancestors.push(object)
    for (let i = 0; i < object.length; i++) {
      const found =
        i in object
          ? walk(object[i], rules, ancestors, depth + 1)
          : problem('is a hole (JSON would write null)', true)
      if (found !== undefined) {
        found.inner.push(`[${i}]`)
        return found
      }
    }
    ancestors.pop()
    return undefined
  }
  const plain = proto === Object.prototype || proto === null
  if (rules.strict) {
    if (!plain)
      return problem(
        `is an instance of ${constructorName(object)} (JSON would return a plain object)`,
        true
      )
    if (Object.getOwnPropertySymbols(object).length > 0)
      return problem('has symbol keys (JSON would drop them)', true)
  } else if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    // JSON's own answer for such values (a Decimal, a Moment): what the old codec stored, kept.
    return undefined
  }
  ancestors.push(object)
  for (const key of Object.keys(object)) {
    const item = (object as Record<string, unknown>)[key]
    if (item === undefined) continue
    const found = walk(item, rules, ancestors, depth + 1)
    if (found !== undefined) {
      found.inner.push(propertyPath(key))
      return found
    }
  }
  ancestors.pop()
  return undefined
}

/** Types JSON corrupts and V8's structured format round-trips. */
function describeRich(object: object): string | undefined {
  if (object instanceof Date) return 'is a Date (JSON would return a string)'
  if (object instanceof Map) return 'is a Map (JSON would return {})'
  if (object instanceof Set) return 'is a Set (JSON would return {})'
  if (ArrayBuffer.isView(object))
    return `is a ${constructorName(object)} (JSON would return an object of numbers)`
  if (object instanceof ArrayBuffer) return 'is an ArrayBuffer (JSON would return {})'
  if (object instanceof RegExp) return 'is a RegExp (JSON would return {})'
  if (object instanceof Error) return 'is an Error (JSON would return {})'
  return undefined
}

function constructorName(object: object): string {
  const name = (object as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== '' ? name : 'an unnamed class'
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function propertyPath(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

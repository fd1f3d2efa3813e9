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
  return walk(value, rules, path, new Set(), 0)
}

function walk(
  value: unknown,
  rules: LosslessRules,
  path: string,
  ancestors: Set<object>,
  depth: number
): LossyPart | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      if (!Number.isFinite(value))
        return { path, problem: `is ${value} (JSON would write null)`, cloneable: true }
      if (Object.is(value, -0))
        return { path, problem: 'is -0 (JSON would write 0)', cloneable: true }
      return undefined
    case 'bigint':
      return { path, problem: 'is a BigInt (JSON cannot hold it)', cloneable: true }
    case 'undefined':
      return {
        path,
        problem: 'is undefined (JSON would write null or leave it out)',
        cloneable: true,
      }
    case 'function':
      return { path, problem: 'is a function (no serializer can store it)', cloneable: false }
    case 'symbol':
      return { path, problem: 'is a symbol (no serializer can store it)', cloneable: false }
    case 'object':
      break
  }
  if (value === null) return undefined
  const object = value as object
  if (depth > MAX_DEPTH)
    return { path, problem: `is nested deeper than ${MAX_DEPTH} levels`, cloneable: false }
  if (ancestors.has(object))
    return { path, problem: 'is circular (JSON cannot hold it)', cloneable: true }
  const rich = describeRich(object)
  if (rich !== undefined) return { path, problem: rich, cloneable: true }
  if (Array.isArray(object)) {
    ancestors.add(object)
    for (let i = 0; i < object.length; i++) {
      const itemPath = `${path}[${i}]`
      if (!(i in object))
        return { path: itemPath, problem: 'is a hole (JSON would write null)', cloneable: true }
      const found = walk(object[i], rules, itemPath, ancestors, depth + 1)
      if (found !== undefined) return found
    }
    ancestors.delete(object)
    return undefined
  }
  const proto = Object.getPrototypeOf(object) as object | null
  const plain = proto === Object.prototype || proto === null
  if (rules.strict) {
    if (!plain)
      return {
        path,
        problem: `is an instance of ${constructorName(object)} (JSON would return a plain object)`,
        cloneable: true,
      }
    if (Object.getOwnPropertySymbols(object).length > 0)
      return { path, problem: 'has symbol keys (JSON would drop them)', cloneable: true }
  } else if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    // JSON's own answer for such values (a Decimal, a Moment): what the old codec stored, kept.
    return undefined
  }
  ancestors.add(object)
  for (const key of Object.keys(object)) {
    const item = (object as Record<string, unknown>)[key]
    if (item === undefined) continue
    const found = walk(item, rules, `${path}${propertyPath(key)}`, ancestors, depth + 1)
    if (found !== undefined) return found
  }
  ancestors.delete(object)
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

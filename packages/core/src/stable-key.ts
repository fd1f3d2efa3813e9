import { sha256 } from './digest.js'
import { InvalidArgumentError } from './errors.js'

/**
 * A key for a call from the function and its arguments: `<name>:<source hash>:<arguments hash>`.
 *
 * - Stable: the same arguments give the same key in every process and after a restart (object keys
 *   are sorted, Map and Set members ordered by their encoding), so processes sharing a Redis share
 *   entries.
 * - Collision-safe: every value is written with its type and length (`f('1')`, `f(1)`,
 *   `f('a', 'b')` and `f('a,b')` all differ) and the encoding hashed with SHA-256; the function's
 *   source is hashed in, so two functions that share a name do not share entries, and a changed
 *   function body starts afresh. Two closures of the same source over different data do share
 *   entries: give such a function its own `key`, or its own namespace.
 *
 * Throws `InvalidArgumentError` for an argument that cannot be keyed (a function, a symbol, a cycle).
 *
 * @example
 * ```ts
 * import { callKey } from '@cachewire/core'
 * async function findUser(id: number) { return { id } }
 * callKey(findUser, [7]) // 'findUser:4f1c2a9e:Zx…' (43 base64url characters of SHA-256)
 * ```
 */
export function callKey(fn: (...args: never[]) => unknown, args: readonly unknown[]): string {
  return `${functionKey(fn)}:${argumentsKey(args)}`
}

/** The part of `callKey` that depends on the function only: `<name>:<source hash>`. Compute it once per function. */
export function functionKey(fn: (...args: never[]) => unknown): string {
  return `${fn.name === '' ? 'anonymous' : fn.name}:${sourceHash(fn)}`
}

/** The part of `callKey` that depends on the arguments: SHA-256 of their typed encoding, base64url. */
export function argumentsKey(args: readonly unknown[]): string {
  return hash(encode(args, 'arguments', new Set()))
}

/** SHA-256 of the function's source, first 8 hex digits: enough to tell functions apart, short in keys. */
function sourceHash(fn: (...args: never[]) => unknown): string {
  return sha256(Function.prototype.toString.call(fn), 'hex').slice(0, 8)
}

function hash(text: string): string {
  return sha256(text, 'base64url')
}

/** A type tag, then the value; strings are length-prefixed so no value can end another early. */
function encode(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'undefined':
      return 'u'
    case 'boolean':
      return value ? 't' : 'f'
    case 'number':
      return `n${Object.is(value, -0) ? '-0' : String(value)};`
    case 'bigint':
      return `b${value.toString()};`
    case 'string':
      return `s${value.length}:${value}`
    case 'function':
    case 'symbol':
      throw new InvalidArgumentError(
        path,
        'a value that can be part of a cache key (not a function or symbol)',
        value
      )
    case 'object':
      break
  }
  if (value === null) return 'z'
  const object = value as object
  if (ancestors.has(object))
    throw new InvalidArgumentError(path, 'a value without cycles', 'a circular value')
  ancestors.add(object)
  try {
    if (object instanceof Date) return `D${object.getTime()};`
    if (ArrayBuffer.isView(object)) {
      const bytes = Buffer.from(object.buffer, object.byteOffset, object.byteLength)
      return `B${object.constructor.name}:${bytes.length}:${bytes.toString('base64')}`
    }
    if (Array.isArray(object))
      return `[${object.length}:${object.map((item, i) => encode(item, `${path}[${i}]`, ancestors)).join('')}]`
    if (object instanceof Map) {
      const entries = [...object]
        .map(
          ([k, v]) => encode(k, `${path} key`, ancestors) + encode(v, `${path} value`, ancestors)
        )
        .sort()
      return `M${entries.length}:${entries.join('')}`
    }
    if (object instanceof Set) {
      const items = [...object].map((item) => encode(item, `${path} member`, ancestors)).sort()
      return `S${items.length}:${items.join('')}`
    }
    const keys = Object.keys(object).sort()
    const fields = keys.map(
      (key) =>
        `${key.length}:${key}${encode((object as Record<string, unknown>)[key], `${path}.${key}`, ancestors)}`
    )
    return `{${keys.length}:${fields.join('')}}`
  } finally {
    ancestors.delete(object)
  }
}

const kCachewireError = Symbol.for('cachewire.error')

/**
 * The options an error is built with: the underlying error as `cause`. Declared here, not taken
 * from ES2022's lib type for it, so the published types compile for consumers whose TypeScript
 * `lib` predates ES2022.
 */
export interface ErrorCauseOptions {
  cause?: unknown
}

export type CachewireErrorCode =
  | 'CACHEWIRE_INVALID_OPTION'
  | 'CACHEWIRE_INVALID_ARGUMENT'
  | 'CACHEWIRE_STORE_TIMEOUT'
  | 'CACHEWIRE_STORE_UNAVAILABLE'
  | 'CACHEWIRE_STORE_ERROR'
  | 'CACHEWIRE_ENTRY_DECODE'
  | 'CACHEWIRE_QUEUE_FULL'
  | 'CACHEWIRE_CLOSED'
  | 'CACHEWIRE_SERIALIZE'
  | 'CACHEWIRE_UNSUPPORTED'

/**
 * Base class of every error cachewire throws or emits. `instanceof` works across an ESM and a
 * CJS copy of the package, because it checks a registered symbol instead of the prototype chain.
 *
 * @example
 * ```ts
 * import { CachewireError } from '@cachewire/core'
 * cache.on('error', (error) => {
 *   if (error instanceof CachewireError) console.warn(error.code, error.message)
 * })
 * ```
 */
export class CachewireError extends Error {
  readonly code: CachewireErrorCode
  /**
   * Set on an error emitted by a `Cache`: how many errors of the same kind (code and operation)
   * were counted but not emitted in the second before this one. Error events are rate-limited to
   * one per kind per second, so an outage does not flood a log.
   */
  suppressed?: number
  constructor(code: CachewireErrorCode, message: string, options?: ErrorCauseOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
  get [kCachewireError](): true {
    return true
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false
    if ((value as Record<symbol, unknown>)[kCachewireError] !== true) return false
    // Subclasses keep their own identity: `x instanceof StoreTimeoutError` must not match a DecodeError.
    if (this === CachewireError) return true
    return (value as { constructor?: { name?: string } }).constructor?.name === this.name
  }
}

/** Thrown when an option is missing, of the wrong type or out of range, at construction time. */
export class InvalidOptionError extends CachewireError {
  readonly option: string
  constructor(option: string, expected: string, received: unknown) {
    super(
      'CACHEWIRE_INVALID_OPTION',
      `expected options.${option} to be ${expected}, got ${describe(received)}`
    )
    this.option = option
  }
}

/** Thrown for a bad argument to a method (an empty key, a non-integer increment). */
export class InvalidArgumentError extends CachewireError {
  readonly argument: string
  constructor(argument: string, expected: string, received: unknown, options?: ErrorCauseOptions) {
    super(
      'CACHEWIRE_INVALID_ARGUMENT',
      `expected ${argument} to be ${expected}, got ${describe(received)}`,
      options
    )
    this.argument = argument
  }
}

/** A store call did not answer within its deadline. Emitted, never thrown on the read path. */
export class StoreTimeoutError extends CachewireError {
  readonly operation: string
  constructor(operation: string, deadlineMs: number) {
    super('CACHEWIRE_STORE_TIMEOUT', `store ${operation} did not answer within ${deadlineMs} ms`)
    this.operation = operation
  }
}

/**
 * Why a store could not answer: its circuit breaker is open (it was not asked), its own queue
 * was full or waited too long (it was not asked), it did not answer within its deadline, or it
 * failed. A read so skipped is a miss; a write, a dropped write.
 */
export type UnavailableReason =
  'breaker-open' | 'queue-full' | 'queue-timeout' | 'timeout' | 'error'

export interface StoreUnavailableOptions extends ErrorCauseOptions {
  /** @default 'breaker-open' */
  reason?: UnavailableReason | undefined
  /** The store operation that could not answer (`'get'`, `'has'`, …). */
  operation?: string | undefined
}

/**
 * The store could not answer. Emitted (and counted as skipped) when a breaker or the store's own
 * queue skips a call; thrown by strict reads (`get(key, { strict: true })`), which must not
 * mistake "could not ask" for "absent". `reason` says why; `cause` holds the timeout or store
 * error, when there was one.
 *
 * @example
 * ```ts
 * import { StoreUnavailableError } from '@cachewire/core'
 * try {
 *   await cache.has('revoked:abc', { strict: true })
 * } catch (error) {
 *   if (error instanceof StoreUnavailableError) console.warn(error.reason) // 'timeout', 'error', 'breaker-open', …
 * }
 * ```
 */
export class StoreUnavailableError extends CachewireError {
  readonly reason: UnavailableReason
  readonly operation: string | undefined
  constructor(
    message = 'store skipped: circuit breaker is open',
    options: StoreUnavailableOptions = {}
  ) {
    super(
      'CACHEWIRE_STORE_UNAVAILABLE',
      message,
      options.cause === undefined ? undefined : { cause: options.cause }
    )
    this.reason = options.reason ?? 'breaker-open'
    this.operation = options.operation
  }
}

/** A store call failed; the original error is the `cause`. */
export class StoreError extends CachewireError {
  readonly operation: string
  constructor(operation: string, cause: unknown) {
    super(
      'CACHEWIRE_STORE_ERROR',
      `store ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause }
    )
    this.operation = operation
  }
}

/** A stored value could not be decoded. The entry is treated as a miss and deleted. */
export class DecodeError extends CachewireError {
  readonly key: string
  constructor(key: string, cause?: unknown) {
    super(
      'CACHEWIRE_ENTRY_DECODE',
      `stored value for key ${JSON.stringify(key)} could not be decoded`,
      { cause }
    )
    this.key = key
  }
}

/**
 * A bounded queue is full: the write-behind queue with `onFull: 'reject'`, or a cache's queue of
 * invalidations waiting for the store (the invalidation then resolves `status: 'failed'`).
 */
export class QueueFullError extends CachewireError {
  constructor(
    maxQueue: number,
    message = `write-behind queue is full (maxQueue ${maxQueue}); the write was not acknowledged`
  ) {
    super('CACHEWIRE_QUEUE_FULL', message)
  }
}

/** The object was closed and takes no more work. */
export class ClosedError extends CachewireError {
  constructor(what: string) {
    super('CACHEWIRE_CLOSED', `${what} is closed`)
  }
}

/**
 * A value the cache's serializer cannot hold without changing it: a `Date` or a `Map` under the
 * JSON serializer, a function or a symbol under any. Thrown by `set` (and everything that sets),
 * before the store is touched; `path` says where in the value (`value.createdAt`).
 */
export class SerializationError extends CachewireError {
  readonly key: string
  readonly path: string
  constructor(key: string, path: string, problem: string, options?: ErrorCauseOptions) {
    super(
      'CACHEWIRE_SERIALIZE',
      `the value for key ${JSON.stringify(key)} cannot be stored: ${path} ${problem}`,
      options
    )
    this.key = key
    this.path = path
  }
}

/** The store lacks a method the call needs (`add` and `replace` need `setIf`, say). */
export class UnsupportedError extends CachewireError {
  readonly operation: string
  constructor(operation: string, store: string, needs: string) {
    super(
      'CACHEWIRE_UNSUPPORTED',
      `${operation} is not supported by the ${store} store (it needs ${needs})`
    )
    this.operation = operation
  }
}

/** Error classes by code, for users who switch on `error.code`. */
export const errors = {
  CACHEWIRE_INVALID_OPTION: InvalidOptionError,
  CACHEWIRE_INVALID_ARGUMENT: InvalidArgumentError,
  CACHEWIRE_STORE_TIMEOUT: StoreTimeoutError,
  CACHEWIRE_STORE_UNAVAILABLE: StoreUnavailableError,
  CACHEWIRE_STORE_ERROR: StoreError,
  CACHEWIRE_ENTRY_DECODE: DecodeError,
  CACHEWIRE_QUEUE_FULL: QueueFullError,
  CACHEWIRE_CLOSED: ClosedError,
  CACHEWIRE_SERIALIZE: SerializationError,
  CACHEWIRE_UNSUPPORTED: UnsupportedError,
} as const

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (typeof value !== 'object') return typeof value
  // A class instance says what it is (a wrong client, say): "an object (RedisClient)".
  const kind = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)
    ?.constructor?.name
  return typeof kind === 'string' && kind !== '' && kind !== 'Object'
    ? `an object (${kind})`
    : 'an object'
}

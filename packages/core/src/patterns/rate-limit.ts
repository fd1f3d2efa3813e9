import { sha256 } from '../digest.js'
import { InvalidArgumentError, InvalidOptionError, StoreUnavailableError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'
import { RESERVED_KEY_PREFIX } from '../namespaces.js'
import { readWindow } from '../rate-window.js'
import { storeAccess, type StoreAccess } from '../store-access.js'
import type { WindowHitOptions } from '../types.js'
import {
  isPolicyName,
  policyField,
  rateLimitFields,
  type RateLimitFields,
} from './rate-limit-fields.js'

export type { RateLimitFields } from './rate-limit-fields.js'

export interface RateLimitOptions {
  /** Units (requests, unless a call says `cost`) allowed per window. */
  limit: number
  /** The window: `'1m'`, `'1h'`, or milliseconds (1000 or more). Whole seconds in the fields. */
  window: Duration
  /**
   * `'sliding'`: a sliding-window counter (the previous fixed window's count, weighted by how much
   * of it is still inside the window, plus the current one): no burst of 2 × limit at a window
   * edge, O(1) memory per client. `'fixed'`: a plain counter per fixed window.
   * @default 'sliding'
   */
  algorithm?: 'fixed' | 'sliding'
  /**
   * The policy's name in the fields, and its counters' namespace in the store: two limiters with
   * one name share counts. Printable ASCII. @default 'default'
   */
  name?: string
  /**
   * When the store cannot answer: `'open'` lets the request through (no fields sent), `'closed'`
   * refuses it (`allowed: false`, `unavailable: true`; the handler answers 503). @default 'open'
   */
  failMode?: 'open' | 'closed'
}

/** The answer for one request. */
export interface RateLimitDecision {
  allowed: boolean
  limit: number
  /** Units left in the window after this request. */
  remaining: number
  /** Seconds within which the client can use no more than `remaining` (the `t` of the RateLimit field). */
  resetSeconds: number
  /** Seconds to wait before retrying, when refused. */
  retryAfterSeconds: number | undefined
  /** The store could not be asked; `allowed` is the `failMode`'s answer. */
  unavailable: boolean
  /** `RateLimit-Policy`, `RateLimit` and (when refused) `Retry-After`, ready to set. Empty when unavailable and open. */
  fields: Partial<RateLimitFields>
}

/** The parts of Node's `IncomingMessage` a handler reads (Express's `req` and Koa's `ctx.req` are ones). */
export interface RequestLike {
  headers: Record<string, string | string[] | undefined>
  socket?: { remoteAddress?: string | undefined } | undefined
}

/** The parts of Node's `ServerResponse` a handler writes. */
export interface ResponseLike {
  statusCode: number
  setHeader(name: string, value: string): unknown
  end(body?: string): unknown
}

export interface RateLimitHandlerOptions<Req extends RequestLike> {
  /** Whose quota a request uses (a user id, an API key, an IP); `undefined` skips limiting. @default the socket's remote address */
  key?: (request: Req) => string | undefined
  /** Units a request costs. @default 1 */
  cost?: (request: Req) => number
}

const RATE_LIMIT_OPTIONS = ['limit', 'window', 'algorithm', 'name', 'failMode'] as const
const HANDLER_OPTIONS = ['key', 'cost'] as const

/**
 * A rate limiter on a cache's store: atomic on memory, Redis and Redis Cluster (one Lua script on
 * one key, Redis time), so every process sharing the store counts together. Client keys are
 * hashed (SHA-256) before they reach the store. `check` answers a request; `handler` is a
 * framework-neutral gate over Node's request and response, for thin Express or Koa middleware.
 *
 * @example
 * ```ts
 * import { Cache, rateLimit } from '@cachewire/core'
 * const limiter = rateLimit(new Cache(), { limit: 100, window: '1m' })
 * const decision = await limiter.check('user:42')
 * // { allowed: true, remaining: 99, resetSeconds: 60, fields: { 'RateLimit-Policy': '"default";q=100;w=60', RateLimit: '"default";r=99;t=60' }, … }
 * ```
 */
export function rateLimit(cache: object, options: RateLimitOptions): RateLimiter {
  return new RateLimiter(cache, options)
}

export class RateLimiter {
  readonly name: string
  readonly limit: number
  readonly windowMs: number
  readonly #access: StoreAccess
  readonly #sliding: boolean
  readonly #failOpen: boolean
  readonly #policy: string
  readonly #prefix: string

  constructor(cache: object, options: RateLimitOptions) {
    const access = storeAccess(cache)
    if (access === undefined) throw new InvalidOptionError('cache', 'a cachewire Cache', cache)
    if (typeof access.store.hitWindow !== 'function')
      throw new InvalidOptionError(
        'cache',
        `a Cache whose store counts rate windows (the ${access.store.name} store has no hitWindow)`,
        access.store.name
      )
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('', 'an options object ({ limit, window })', options)
    rejectUnknownOptions(options, RATE_LIMIT_OPTIONS, '')
    if (!Number.isSafeInteger(options.limit) || options.limit < 1)
      throw new InvalidOptionError('limit', 'a positive integer', options.limit)
    const name = options.name ?? 'default'
    if (!isPolicyName(name))
      throw new InvalidOptionError('name', 'printable ASCII, 1 to 64 characters', options.name)
    const algorithm = options.algorithm ?? 'sliding'
    if (algorithm !== 'fixed' && algorithm !== 'sliding')
      throw new InvalidOptionError('algorithm', "'fixed' or 'sliding'", options.algorithm)
    const failMode = options.failMode ?? 'open'
    if (failMode !== 'open' && failMode !== 'closed')
      throw new InvalidOptionError('failMode', "'open' or 'closed'", options.failMode)
    this.#access = access
    this.name = name
    this.limit = options.limit
    this.windowMs = parseDuration(options.window, 'window')
    this.#sliding = algorithm === 'sliding'
    this.#failOpen = failMode === 'open'
    this.#policy = policyField(name, this.limit, Math.max(1, Math.ceil(this.windowMs / 1000)))
    this.#prefix = `${RESERVED_KEY_PREFIX}rate:${name}:`
  }

  /** Counts one request (of `cost` units) for `key` and says whether it may proceed. Never throws for store faults: see `failMode`. */
  async check(key: string, options: { cost?: number } = {}): Promise<RateLimitDecision> {
    if (typeof key !== 'string' || key.length === 0)
      throw new InvalidArgumentError('key', 'a non-empty string', key)
    const cost = options.cost ?? 1
    if (!Number.isSafeInteger(cost) || cost < 0)
      throw new InvalidArgumentError('options.cost', 'a non-negative integer', cost)
    const hit: WindowHitOptions = {
      limit: this.limit,
      windowMs: this.windowMs,
      cost,
      sliding: this.#sliding,
    }
    const storeKey = this.#prefix + sha256(key, 'base64url')
    const store = this.#access.store
    let state
    try {
      state = await this.#access.strict('hitWindow', () =>
        (store.hitWindow as NonNullable<typeof store.hitWindow>).call(store, storeKey, hit)
      )
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error
      return this.#unavailable()
    }
    const reading = readWindow(state, hit)
    const retryAfter = state.allowed ? undefined : reading.retryAfterSeconds
    return {
      allowed: state.allowed,
      limit: this.limit,
      remaining: reading.remaining,
      resetSeconds: reading.resetSeconds,
      retryAfterSeconds: retryAfter,
      unavailable: false,
      fields: rateLimitFields(
        this.#policy,
        this.name,
        reading.remaining,
        reading.resetSeconds,
        retryAfter
      ),
    }
  }

  /**
   * A gate over Node's request and response: sets the fields, and when the request is refused
   * answers it (429 with `Retry-After`, or 503 when the store is down and `failMode` is closed).
   * Resolves whether the request may go on.
   *
   * @example
   * ```ts
   * const gate = limiter.handler({ key: (req) => req.headers['x-api-key'] as string | undefined })
   * app.use((req, res, next) => void gate(req, res).then((ok) => ok && next(), next)) // Express
   * ```
   */
  handler<Req extends RequestLike>(
    options: RateLimitHandlerOptions<Req> = {}
  ): (request: Req, response: ResponseLike) => Promise<boolean> {
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('', 'an options object', options)
    rejectUnknownOptions(options, HANDLER_OPTIONS, '')
    if (options.key !== undefined && typeof options.key !== 'function')
      throw new InvalidOptionError('key', 'a function of the request', options.key)
    if (options.cost !== undefined && typeof options.cost !== 'function')
      throw new InvalidOptionError('cost', 'a function of the request', options.cost)
    const keyOf = options.key ?? ((request: Req) => request.socket?.remoteAddress)
    const costOf = options.cost
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the gate is a named function (for stack traces), not an arrow
    const limiter = this
    return async function rateLimitGate(request: Req, response: ResponseLike): Promise<boolean> {
      const key = keyOf(request)
      if (key === undefined || key === '') return true
      const decision = await limiter.check(
        key,
        costOf === undefined ? {} : { cost: costOf(request) }
      )
      for (const [name, value] of Object.entries(decision.fields)) response.setHeader(name, value)
      if (decision.allowed) return true
      response.statusCode = decision.unavailable ? 503 : 429
      response.setHeader('Content-Type', 'text/plain; charset=utf-8')
      response.end(decision.unavailable ? 'Service Unavailable' : 'Too Many Requests')
      return false
    }
  }

  #unavailable(): RateLimitDecision {
    if (this.#failOpen)
      return {
        allowed: true,
        limit: this.limit,
        remaining: this.limit,
        resetSeconds: 0,
        retryAfterSeconds: undefined,
        unavailable: true,
        fields: {},
      }
    return {
      allowed: false,
      limit: this.limit,
      remaining: 0,
      resetSeconds: 1,
      retryAfterSeconds: 1,
      unavailable: true,
      fields: { 'Retry-After': '1' },
    }
  }
}

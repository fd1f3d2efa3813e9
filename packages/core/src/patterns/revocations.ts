import { sha256 } from '../digest.js'
import { InvalidArgumentError, InvalidOptionError, StoreUnavailableError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { Clock } from '../clock.js'
import type { ReadOptions } from '../reads.js'
import type { SetOptions } from '../types.js'
import { RevocationFront } from './revocation-front.js'
import type { RequestLike, ResponseLike } from './rate-limit.js'

/**
 * Keeps every process's local front honest: tells the others of a revocation and resolves only
 * once each has applied it (or can no longer trust its front), and tells this process when it
 * may trust its own front. `RedisRevocationSync` (`@cachewire/core/redis`) is one, over pub/sub.
 */
export interface RevocationSync {
  /** Subscribes; `revoked` is called for peers' revocations, `lost` when some may have been missed. */
  start(listener: { revoked(hash: string, until: number): void; lost(): void }): Promise<void>
  /** Whether this process's front may answer now (subscribed, lease held, nothing missed). */
  trusted(): boolean
  /** Tells every process of `hash`; resolves once each applied it or its lease lapsed. */
  broadcast(hash: string, until: number): Promise<void>
  close(): Promise<void>
}

/** What a revocation list needs of its cache (a `Cache`, or a namespace view of one). */
export interface RevocationStore {
  set(key: string, value: unknown, options?: SetOptions): Promise<boolean>
  ttl(key: string, options?: ReadOptions): Promise<number | undefined>
}

export interface RevocationOptions {
  /**
   * Enables the local front and keeps it honest across processes. Without one every check asks the
   * store (one PTTL), which is always exact.
   */
  sync?: RevocationSync
  /** Front size, in token hashes. @default 100_000 */
  maxEntries?: number
  /** How long a "not revoked" answer stays in the front, at most (the sync keeps it honest before). @default '1m' */
  frontTtl?: Duration
  /** Time source for expiry instants. @default Date.now */
  clock?: Clock
}

const OPTIONS = ['sync', 'maxEntries', 'frontTtl', 'clock'] as const

/**
 * A token revocation list (logout, a stolen refresh token): `revoke(token, until)` keeps the
 * token's SHA-256 (never the token) until the token would have expired anyway; `isRevoked(token)`
 * fails closed — when the store cannot answer it throws `StoreUnavailableError`, it never says
 * "not revoked" for a check it could not make. With a `sync`, a local front answers repeated checks
 * from memory, and `revoke` resolves only once every process's front knows.
 *
 * @example
 * ```ts
 * import { Cache, revocations } from '@cachewire/core'
 * const revoked = revocations(new Cache().namespace('revoked'))
 * await revoked.revoke(refreshToken, { until: claims.exp * 1000 })
 * await revoked.isRevoked(refreshToken) // true
 * ```
 */
export function revocations(
  cache: RevocationStore,
  options: RevocationOptions = {}
): RevocationList {
  return new RevocationList(cache, options)
}

export class RevocationList {
  readonly #cache: RevocationStore
  readonly #sync: RevocationSync | undefined
  readonly #front: RevocationFront | undefined
  readonly #clock: Clock
  #started: Promise<void> | undefined

  constructor(cache: RevocationStore, options: RevocationOptions = {}) {
    if (typeof cache?.set !== 'function' || typeof cache.ttl !== 'function')
      throw new InvalidOptionError('cache', 'a cachewire Cache (or a namespace view)', cache)
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('', 'an options object', options)
    rejectUnknownOptions(options, OPTIONS, '')
    const maxEntries = options.maxEntries ?? 100_000
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new InvalidOptionError('maxEntries', 'a positive integer', maxEntries)
    if (options.sync !== undefined && typeof options.sync?.broadcast !== 'function')
      throw new InvalidOptionError('sync', 'a RevocationSync (RedisRevocationSync)', options.sync)
    if (options.clock !== undefined && typeof options.clock !== 'function')
      throw new InvalidOptionError('clock', 'a function returning milliseconds', options.clock)
    const frontTtlMs = parseDuration(options.frontTtl ?? '1m', 'frontTtl')
    this.#cache = cache
    this.#sync = options.sync
    this.#front =
      options.sync === undefined ? undefined : new RevocationFront(maxEntries, frontTtlMs)
    this.#clock = options.clock ?? Date.now
  }

  /** Joins the sync (subscribes, takes a lease). Idempotent; `isRevoked` works before it, asking the store. */
  start(): Promise<void> {
    const sync = this.#sync
    const front = this.#front
    if (sync === undefined || front === undefined) return Promise.resolve()
    this.#started ??= sync.start({
      revoked: (hash, until) => front.revoked(hash, until, this.#clock()),
      lost: () => front.clear(),
    })
    return this.#started
  }

  /**
   * Revokes `token` until `until` (a `Date` or ms since the epoch: the token's own expiry). Resolves
   * once the revocation is stored and, with a sync, applied by every process. Rejects with
   * `StoreUnavailableError` if the store did not take it: a revocation is never dropped silently.
   * Resolves `false` for a token already expired (nothing to keep).
   */
  async revoke(token: string, options: { until: Date | number }): Promise<boolean> {
    const hash = hashToken(token)
    const until = options?.until instanceof Date ? options.until.getTime() : options?.until
    if (typeof until !== 'number' || !Number.isFinite(until))
      throw new InvalidArgumentError(
        'options.until',
        "a Date or ms since the epoch (the token's expiry)",
        until
      )
    const now = this.#clock()
    if (until <= now) return false
    const stored = await this.#cache.set(keyOf(hash), until, { ttl: `${until - now}ms` })
    if (!stored)
      throw new StoreUnavailableError('revoke could not be stored: the store did not take it', {
        reason: 'error',
        operation: 'revoke',
      })
    this.#front?.revoked(hash, until, now)
    await this.#sync?.broadcast(hash, until)
    return true
  }

  /**
   * Whether `token` is revoked. Fails closed: rejects with `StoreUnavailableError` when the store
   * cannot answer (timeout, error, open breaker), never resolving `false` for a check not made.
   */
  async isRevoked(token: string): Promise<boolean> {
    const hash = hashToken(token)
    const now = this.#clock()
    const front = this.#front
    const trusted = front !== undefined && this.#sync?.trusted() === true
    if (trusted) {
      const known = front.lookup(hash, now)
      if (known !== undefined) return known
    }
    const generation = front?.generation ?? 0
    const ttl = await this.#cache.ttl(keyOf(hash), { strict: true })
    if (trusted) front.remember(hash, ttl === undefined ? undefined : now + ttl, generation, now)
    return ttl !== undefined
  }

  /**
   * A gate over Node's request and response: a request whose token is revoked gets 401; one whose
   * check could not be made gets 503 (fail closed). Resolves whether it may go on.
   *
   * @example
   * ```ts
   * const gate = revoked.handler({ token: (req) => req.headers.authorization?.replace(/^Bearer /, '') })
   * app.use((req, res, next) => void gate(req, res).then((ok) => ok && next(), next)) // Express
   * ```
   */
  handler<Req extends RequestLike>(options: {
    token: (request: Req) => string | undefined
  }): (request: Req, response: ResponseLike) => Promise<boolean> {
    if (typeof options?.token !== 'function')
      throw new InvalidOptionError(
        'token',
        'a function of the request returning the token (or undefined)',
        options?.token
      )
    const tokenOf = options.token
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the gate is a named function (for stack traces), not an arrow
    const list = this
    return async function revocationGate(request: Req, response: ResponseLike): Promise<boolean> {
      const token = tokenOf(request)
      if (token === undefined || token === '') return true
      let revoked: boolean
      try {
        revoked = await list.isRevoked(token)
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error
        response.statusCode = 503
        response.setHeader('Retry-After', '1')
        response.end('Service Unavailable: the revocation list could not be checked')
        return false
      }
      if (!revoked) return true
      response.statusCode = 401
      response.setHeader(
        'WWW-Authenticate',
        'Bearer error="invalid_token", error_description="The token has been revoked"'
      )
      response.end('Unauthorized: the token has been revoked')
      return false
    }
  }

  /** Entries in the local front (0 without a sync). */
  get frontSize(): number {
    return this.#front?.size ?? 0
  }

  async close(): Promise<void> {
    await this.#sync?.close()
  }
}

/** SHA-256, base64url: the store never holds a token, and keys have one length whatever the token. */
function hashToken(token: string): string {
  if (typeof token !== 'string' || token.length === 0)
    throw new InvalidArgumentError('token', 'a non-empty string', token)
  return sha256(token, 'base64url')
}

function keyOf(hash: string): string {
  return `revoked:${hash}`
}

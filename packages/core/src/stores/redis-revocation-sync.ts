import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { InvalidOptionError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { RevocationSync } from '../patterns/revocations.js'
import { duplicateIoredis } from './redis-driver-ioredis.js'
import { isNodeRedisClient } from './redis-driver-node-redis.js'
import type { IoredisClient } from './redis-topology.js'

export interface RedisRevocationSyncOptions {
  /** Publishes and runs the lease scripts; a duplicate of it subscribes. */
  client: IoredisClient
  /** Channel and key stem shared by every process of one revocation list. @default 'cachewire:revocations' */
  channel?: string
  /**
   * How long a process may trust its front without renewing its lease; also the longest a
   * `revoke` waits for a process that stopped answering (partitioned, frozen). Renewed every third.
   * @default '2s'
   */
  lease?: Duration
}

const OPTIONS = ['client', 'channel', 'lease'] as const

/**
 * Renews a member's lease if it has applied every revocation so far (its `applied` sequence is
 * the current one); otherwise drops it, so it must clear its front first. Both keys share a hash
 * tag, so the script runs on one Cluster slot.
 */
const RENEW = {
  numberOfKeys: 2,
  lua: `if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if tonumber(ARGV[2]) < seq then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return {0, seq}
end
local lease = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease * 10)
return {1, seq}`,
}

/** Takes the next sequence number and lists the members whose lease is still running, with server time. */
const ANNOUNCE = {
  numberOfKeys: 2,
  lua: `if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 2592000000)
local members = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf', 'WITHSCORES')
table.insert(members, 1, now)
table.insert(members, 1, seq)
return members`,
}

interface SyncCommands {
  cachewireRevocationRenew(
    members: string,
    seq: string,
    id: string,
    applied: number,
    leaseMs: number
  ): Promise<[number, number]>
  cachewireRevocationAnnounce(members: string, seq: string): Promise<Array<string | number>>
}

/**
 * Keeps the local fronts of a revocation list honest across processes, over Redis:
 *
 * - Each process holds a **lease** (a member of a sorted set, scored with its expiry in server
 *   time) and trusts its front only while the lease runs. It renews every `lease / 3`, and the
 *   renewal is granted only if it has applied every revocation announced so far (a sequence
 *   number); otherwise it clears its front first.
 * - `broadcast` takes the next sequence number, lists the members with a running lease, publishes
 *   the revocation, and resolves once each has acknowledged it — or, for one that does not answer,
 *   once its lease has run out, after which it cannot trust its front without a renewal, which it
 *   will not get before it has caught up.
 *
 * So when `revoke()` resolves, no process answers "not revoked" from memory for that token. The
 * cost: a revoke takes a round of acknowledgements (about one Redis round trip), or up to `lease`
 * when a process is frozen or cut off.
 *
 * @example
 * ```ts
 * import { Cache, revocations } from '@cachewire/core'
 * import { RedisStore, RedisRevocationSync } from '@cachewire/core/redis'
 * const list = revocations(new Cache({ store: new RedisStore({ client: redis }) }), { sync: new RedisRevocationSync({ client: redis }) })
 * await list.start()
 * ```
 */
export class RedisRevocationSync implements RevocationSync {
  readonly channel: string
  readonly #client: IoredisClient
  readonly #leaseMs: number
  readonly #id = randomBytes(8).toString('hex')
  readonly #membersKey: string
  readonly #seqKey: string
  readonly #waiters = new Map<number, { members: Map<string, number>; done: () => void }>()
  #subscriber: IoredisClient | undefined
  #listener: { revoked(hash: string, until: number): void; lost(): void } | undefined
  /** The highest sequence number up to which every revocation has been applied here (contiguous). */
  #applied = -1
  /** Sequence numbers applied above `#applied` (messages may arrive out of order on a Cluster). */
  readonly #seen = new Set<number>()
  #subscribed = false
  /** performance.now() after which the front may not be trusted. */
  #trustedUntil = 0
  #renewTimer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: RedisRevocationSyncOptions) {
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('', 'an options object ({ client, channel?, lease? })', options)
    rejectUnknownOptions(options, OPTIONS, '')
    // ioredis only for now (node-redis clients are refused here, not half-served): RedisStore and RedisBus take both.
    if (isNodeRedisClient(options.client) || typeof options.client?.publish !== 'function') {
      throw new InvalidOptionError(
        'client',
        'an ioredis Redis or Cluster instance (node-redis is not supported here yet)',
        options.client
      )
    }
    this.channel = options.channel ?? 'cachewire:revocations'
    if (typeof this.channel !== 'string' || this.channel.length === 0 || /[{}]/.test(this.channel))
      throw new InvalidOptionError('channel', 'a non-empty string without braces', this.channel)
    this.#leaseMs = parseDuration(options.lease ?? '2s', 'lease', { kind: 'timeout' })
    this.#client = options.client
    // One hash tag: both keys on one Cluster slot, so each script touches one slot.
    this.#membersKey = `{${this.channel}}:members`
    this.#seqKey = `{${this.channel}}:seq`
    if (
      typeof (this.#client as unknown as Record<string, unknown>).cachewireRevocationRenew !==
      'function'
    )
      this.#client.defineCommand('cachewireRevocationRenew', RENEW)
    if (
      typeof (this.#client as unknown as Record<string, unknown>).cachewireRevocationAnnounce !==
      'function'
    )
      this.#client.defineCommand('cachewireRevocationAnnounce', ANNOUNCE)
  }

  async start(listener: {
    revoked(hash: string, until: number): void
    lost(): void
  }): Promise<void> {
    this.#listener = listener
    const subscriber = duplicateIoredis(this.#client)
    this.#subscriber = subscriber
    subscriber.on('error', () => {
      // Reconnects are ioredis's job; an unhandled 'error' event would crash the process.
    })
    subscriber.on('close', () => this.#lost())
    subscriber.on('ready', () => {
      if (!this.#subscribed) return
      // ioredis resubscribes by itself; messages sent meanwhile are lost, and the next renewal will say so.
      void this.#renew()
    })
    subscriber.on('message', (channel: string, text: string) => this.#message(channel, text))
    await (subscriber as Redis).subscribe(this.channel, this.#ackChannel(this.#id))
    this.#subscribed = true
    await this.#renew()
  }

  trusted(): boolean {
    return this.#subscribed && performance.now() < this.#trustedUntil
  }

  async broadcast(hash: string, until: number): Promise<void> {
    const reply = await this.#scripts.cachewireRevocationAnnounce(this.#membersKey, this.#seqKey)
    // Measured after the reply: a lease end computed from here is never earlier than the member's own.
    const started = performance.now()
    const seq = Number(reply[0])
    const serverNow = Number(reply[1])
    // Members to hear from, each with the local instant its lease runs out (server durations, local clock).
    const members = new Map<string, number>()
    for (let i = 2; i + 1 < reply.length; i += 2) {
      const id = String(reply[i])
      if (id !== this.#id) members.set(id, started + (Number(reply[i + 1]) - serverNow))
    }
    // Our own front learnt it already (the list did).
    this.#mark(seq)
    if (members.size === 0) {
      await this.#client.publish(
        this.channel,
        JSON.stringify({ h: hash, u: until, s: seq, f: this.#id })
      )
      return
    }
    const acknowledged = new Promise<void>((resolve) =>
      this.#waiters.set(seq, { members, done: resolve })
    )
    await this.#client.publish(
      this.channel,
      JSON.stringify({ h: hash, u: until, s: seq, f: this.#id })
    )
    const lastLease = Math.max(...members.values())
    let timer: NodeJS.Timeout | undefined
    const leasesOut = new Promise<void>(
      (resolve) => (timer = setTimeout(resolve, Math.max(0, lastLease - performance.now()) + 5))
    )
    // A member that never answers is waited for until its lease runs out, not longer.
    const sweep = setInterval(() => this.#expire(seq), Math.max(10, Math.floor(this.#leaseMs / 20)))
    try {
      await Promise.race([acknowledged, leasesOut])
    } finally {
      clearTimeout(timer)
      clearInterval(sweep)
      this.#waiters.delete(seq)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#renewTimer)
    this.#subscribed = false
    this.#trustedUntil = 0
    const subscriber = this.#subscriber
    this.#subscriber = undefined
    await this.#client.zrem(this.#membersKey, this.#id).catch(() => 0)
    if (subscriber !== undefined) await subscriber.quit().catch(() => subscriber.disconnect())
    for (const waiter of this.#waiters.values()) waiter.done()
  }

  #message(channel: string, text: string): void {
    const message = parse(text)
    if (message === undefined) return
    if (channel === this.#ackChannel(this.#id)) {
      const waiter = this.#waiters.get(message.s)
      if (waiter === undefined) return
      waiter.members.delete(message.f)
      if (waiter.members.size === 0) waiter.done()
      return
    }
    if (channel !== this.channel || message.f === this.#id) return
    if (message.h !== undefined && message.u !== undefined)
      this.#listener?.revoked(message.h, message.u)
    // A lost message leaves a gap below: the next renewal sees it and the front is cleared then.
    this.#mark(message.s)
    void this.#client
      .publish(this.#ackChannel(message.f), JSON.stringify({ s: message.s, f: this.#id }))
      .catch(() => 0)
  }

  #mark(seq: number): void {
    if (seq <= this.#applied) return
    this.#seen.add(seq)
    while (this.#seen.delete(this.#applied + 1)) this.#applied++
  }

  /** Drops members whose lease has run out from a broadcast's wait. */
  #expire(seq: number): void {
    const waiter = this.#waiters.get(seq)
    if (waiter === undefined) return
    const now = performance.now()
    for (const [id, until] of waiter.members) if (until <= now) waiter.members.delete(id)
    if (waiter.members.size === 0) waiter.done()
  }

  #lost(): void {
    this.#trustedUntil = 0
    this.#listener?.lost()
  }

  async #renew(): Promise<void> {
    if (this.#closed) return
    clearTimeout(this.#renewTimer)
    const sent = performance.now()
    try {
      let [granted, seq] = await this.#scripts.cachewireRevocationRenew(
        this.#membersKey,
        this.#seqKey,
        this.#id,
        this.#applied,
        this.#leaseMs
      )
      if (granted !== 1) {
        // Behind: revocations were announced that this front may not know. Forget it all, then catch up.
        this.#lost()
        this.#applied = Math.max(this.#applied, Number(seq))
        for (const seen of this.#seen) if (seen <= this.#applied) this.#seen.delete(seen)
        while (this.#seen.delete(this.#applied + 1)) this.#applied++
        ;[granted, seq] = await this.#scripts.cachewireRevocationRenew(
          this.#membersKey,
          this.#seqKey,
          this.#id,
          this.#applied,
          this.#leaseMs
        )
      }
      // Trust runs from before the request was sent: it ends no later than the lease Redis granted.
      if (granted === 1 && this.#subscribed) this.#trustedUntil = sent + this.#leaseMs
    } catch {
      // Not renewed: the front stops being trusted when the current lease runs out.
    }
    if (!this.#closed) {
      this.#renewTimer = setTimeout(
        () => void this.#renew(),
        Math.max(1, Math.floor(this.#leaseMs / 3))
      )
      this.#renewTimer.unref()
    }
  }

  #ackChannel(id: string): string {
    return `${this.channel}:ack:${id}`
  }

  get #scripts(): SyncCommands {
    return this.#client as unknown as SyncCommands
  }
}

/** Messages are untrusted input: anything not of the expected shape is ignored. */
function parse(text: string): { h?: string; u?: number; s: number; f: string } | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof raw !== 'object' || raw === null) return undefined
  const { h, u, s, f } = raw as Record<string, unknown>
  if (typeof s !== 'number' || typeof f !== 'string') return undefined
  if (h !== undefined && (typeof h !== 'string' || typeof u !== 'number')) return undefined
  return { h: h as string | undefined, u: u as number | undefined, s, f }
}

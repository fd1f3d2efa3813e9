import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { InvalidOptionError } from '../errors.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { Bus, InvalidationMessage } from '../types.js'
import type { RedisClient } from './redis-store.js'

export interface RedisBusOptions {
  /** The client to publish on; a duplicate of it subscribes (a subscribed connection can do nothing else). */
  client: RedisClient
  /** Pub/sub channel; every process sharing the store must use the same one. @default 'cachewire:invalidate' */
  channel?: string
}

/**
 * Invalidation messages over Redis pub/sub, for `TieredStore`. Each process ignores its own
 * messages. Pub/sub drops messages while a subscriber is disconnected, so after a reconnect the
 * subscriber is told (`onReconnect`) and the tiered store empties its L1.
 *
 * @example
 * ```ts
 * import { RedisBus } from '@cachewire/core/redis'
 * const bus = new RedisBus({ client: redis, channel: 'app:invalidate' })
 * ```
 */
export class RedisBus implements Bus {
  readonly channel: string
  readonly #client: RedisClient
  readonly #origin = randomBytes(8).toString('hex')
  #subscriber: RedisClient | undefined

  constructor(options: RedisBusOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an options object ({ client, channel? })', options)
    rejectUnknownOptions(options, ['client', 'channel'], '')
    if (typeof options.client?.publish !== 'function') throw new InvalidOptionError('client', 'an ioredis Redis or Cluster instance', options.client)
    this.channel = options.channel ?? 'cachewire:invalidate'
    if (typeof this.channel !== 'string' || this.channel.length === 0) throw new InvalidOptionError('channel', 'a non-empty string', this.channel)
    this.#client = options.client
  }

  async publish(message: InvalidationMessage): Promise<void> {
    await this.#client.publish(this.channel, JSON.stringify({ origin: this.#origin, ...message }))
  }

  async subscribe(handler: (message: InvalidationMessage) => void, onReconnect?: () => void): Promise<void> {
    const subscriber = this.#client.duplicate() as RedisClient
    this.#subscriber = subscriber
    let readyOnce = false
    subscriber.on('ready', () => {
      // Messages sent while we were away are lost; whoever holds copies must drop them.
      if (readyOnce) onReconnect?.()
      readyOnce = true
    })
    subscriber.on('error', () => {
      // Reconnects are ioredis's job; an unhandled 'error' event would crash the process.
    })
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.channel) return
      const message = parseMessage(text)
      if (message !== undefined && message.origin !== this.#origin) handler(message.body)
    })
    await (subscriber as Redis).subscribe(this.channel)
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber
    this.#subscriber = undefined
    if (subscriber !== undefined) await subscriber.quit().catch(() => subscriber.disconnect())
  }
}

/** Messages are untrusted input: anything that is not one of the four shapes is ignored. */
function parseMessage(text: string): { origin: string; body: InvalidationMessage } | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof raw !== 'object' || raw === null) return undefined
  const { origin, op, keys, tags, pattern } = raw as Record<string, unknown>
  if (typeof origin !== 'string') return undefined
  const strings = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string')
  if (op === 'keys' && strings(keys)) return { origin, body: { op, keys } }
  if (op === 'tags' && strings(tags)) return { origin, body: { op, tags } }
  if (op === 'pattern' && typeof pattern === 'string') return { origin, body: { op, pattern } }
  if (op === 'clear') return { origin, body: { op } }
  return undefined
}

import { randomBytes } from 'node:crypto'
import { InvalidOptionError } from '../errors.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { Bus, InvalidationMessage } from '../types.js'
import type { RedisClient } from './redis-client.js'
import { duplicateIoredis, isIoredisClient } from './redis-driver-ioredis.js'
import {
  isNodeRedisClient,
  isNodeRedisCluster,
  type NodeRedisAnyClient,
} from './redis-driver-node-redis.js'
import { ACCEPTED_CLIENTS } from './redis-store-options.js'
import type { IoredisClient } from './redis-topology.js'

/** A subscribed connection of either library, reduced to what closing it needs. */
interface Subscriber {
  close(): Promise<void>
}

export interface RedisBusOptions {
  /** The client to publish on (ioredis or node-redis); a duplicate of it subscribes (a subscribed connection can do nothing else). */
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
  #subscriber: Subscriber | undefined

  constructor(options: RedisBusOptions) {
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('', 'an options object ({ client, channel? })', options)
    rejectUnknownOptions(options, ['client', 'channel'], '')
    if (!isIoredisClient(options.client) && !isNodeRedisClient(options.client))
      throw new InvalidOptionError('client', ACCEPTED_CLIENTS, options.client)
    this.channel = options.channel ?? 'cachewire:invalidate'
    if (typeof this.channel !== 'string' || this.channel.length === 0)
      throw new InvalidOptionError('channel', 'a non-empty string', this.channel)
    this.#client = options.client
  }

  async publish(message: InvalidationMessage): Promise<void> {
    const text = JSON.stringify({ origin: this.#origin, ...message })
    if (isIoredisClient(this.#client)) await this.#client.publish(this.channel, text)
    else if (isNodeRedisCluster(this.#client))
      await this.#client.sendCommand(this.channel, false, ['PUBLISH', this.channel, text])
    else await this.#client.sendCommand(['PUBLISH', this.channel, text])
  }

  async subscribe(
    handler: (message: InvalidationMessage) => void,
    onReconnect?: () => void
  ): Promise<void> {
    const receive = (text: string): void => {
      const message = parseMessage(text)
      if (message !== undefined && message.origin !== this.#origin) handler(message.body)
    }
    if (isIoredisClient(this.#client))
      await this.#subscribeIoredis(this.#client, receive, onReconnect)
    else await this.#subscribeNodeRedis(this.#client, receive, onReconnect)
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber
    this.#subscriber = undefined
    await subscriber?.close()
  }

  async #subscribeIoredis(
    client: IoredisClient,
    receive: (text: string) => void,
    onReconnect: (() => void) | undefined
  ): Promise<void> {
    const subscriber = duplicateIoredis(client)
    this.#subscriber = {
      close: () =>
        subscriber.quit().then(
          () => undefined,
          () => subscriber.disconnect()
        ),
    }
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
      if (channel === this.channel) receive(text)
    })
    await subscriber.subscribe(this.channel)
  }

  /**
   * node-redis: a duplicate, connected here, in subscriber mode. It resubscribes by itself after
   * a reconnect; each `ready` after the first says messages may have been lost meanwhile.
   */
  async #subscribeNodeRedis(
    client: NodeRedisAnyClient,
    receive: (text: string) => void,
    onReconnect: (() => void) | undefined
  ): Promise<void> {
    const subscriber = client.duplicate() as NodeRedisAnyClient & {
      subscribe(
        channel: string,
        listener: (message: string, channel: string) => void
      ): Promise<unknown>
      close?: () => Promise<unknown>
      quit?: () => Promise<unknown>
      destroy?: () => unknown
      disconnect?: () => unknown
    }
    let readyOnce = false
    subscriber.on('ready', () => {
      if (readyOnce) onReconnect?.()
      readyOnce = true
    })
    subscriber.on('error', () => {
      // Reconnects are node-redis's job; an unhandled 'error' event would crash the process.
    })
    this.#subscriber = {
      close: async () => {
        if (!subscriber.isOpen) return
        // v5 names them close/destroy; v4 quit/disconnect.
        await (subscriber.close ?? subscriber.quit)
          ?.call(subscriber)
          .catch(() => (subscriber.destroy ?? subscriber.disconnect)?.call(subscriber))
      },
    }
    await subscriber.connect()
    readyOnce = true
    await subscriber.subscribe(this.channel, (text) => receive(text))
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
  const strings = (value: unknown): value is string[] =>
    Array.isArray(value) && value.every((item) => typeof item === 'string')
  if (op === 'keys' && strings(keys)) return { origin, body: { op, keys } }
  if (op === 'tags' && strings(tags)) return { origin, body: { op, tags } }
  if (op === 'pattern' && typeof pattern === 'string') return { origin, body: { op, pattern } }
  if (op === 'clear') return { origin, body: { op } }
  return undefined
}

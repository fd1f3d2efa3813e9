import { parseDuration, type Duration } from '../duration.js'
import { InvalidOptionError } from '../errors.js'
import { rejectUnknownOptions } from '../known-options.js'
import { withDeadline } from '../resilience/deadline.js'
import type { WriteJournal } from '../patterns/write-behind-options.js'
import { isNodeRedisClient } from './redis-driver-node-redis.js'
import type { IoredisClient } from './redis-topology.js'

export interface RedisJournalOptions {
  client: IoredisClient
  /** The stream's key; one per writer (per persisted table, say). */
  key: string
  /** The stream's TTL, renewed by every append: a journal nobody writes to for this long is dropped. @default '7d' */
  retention?: Duration
  /** Deadline of an append; a write whose journal entry times out is rejected, not acknowledged. @default '1s' */
  timeout?: Duration
}

const KNOWN = ['client', 'key', 'retention', 'timeout'] as const

/**
 * A write-behind journal in a Redis Stream: XADD before a write is acknowledged, XDEL once it is
 * persisted, XRANGE on start to replay what a crashed process left. One stream key, so it works
 * on a Cluster. Values are stored as JSON, with the write's version, so a writer that replays them
 * keeps handing out versions above theirs.
 *
 * @example
 * ```ts
 * import { Cache, WriteBehind } from '@cachewire/core'
 * import { RedisJournal } from '@cachewire/core/redis'
 *
 * const writer = new WriteBehind(cache, { persist, journal: new RedisJournal({ client: redis, key: 'app:users:journal' }) })
 * await writer.ready() // writes a crashed process acknowledged are queued again
 * ```
 */
export class RedisJournal<T> implements WriteJournal<T> {
  readonly #client: IoredisClient
  readonly #key: string
  readonly #retentionMs: number
  readonly #deadlineMs: number

  constructor(options: RedisJournalOptions) {
    if (typeof options === 'object' && options !== null) rejectUnknownOptions(options, KNOWN, '')
    // ioredis only for now (node-redis clients are refused here, not half-served): RedisStore and RedisBus take both.
    if (isNodeRedisClient(options?.client) || typeof options?.client?.xadd !== 'function') {
      throw new InvalidOptionError(
        'client',
        'an ioredis Redis or Cluster instance (node-redis is not supported here yet)',
        options?.client
      )
    }
    if (typeof options.key !== 'string' || options.key.length === 0)
      throw new InvalidOptionError('key', 'a non-empty string', options.key)
    this.#client = options.client
    this.#key = options.key
    this.#retentionMs = parseDuration(options.retention ?? '7d', 'retention')
    this.#deadlineMs = parseDuration(options.timeout ?? '1s', 'timeout', { kind: 'timeout' })
  }

  async append(key: string, value: T, version: number): Promise<string> {
    const work = async (): Promise<string> => {
      const id = await this.#client.xadd(
        this.#key,
        '*',
        'k',
        key,
        'v',
        JSON.stringify(value),
        'n',
        String(version)
      )
      await this.#client.pexpire(this.#key, this.#retentionMs)
      return id as string
    }
    return withDeadline(work(), this.#deadlineMs, 'journal append')
  }

  async acknowledge(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500)
      await this.#client.xdel(this.#key, ...ids.slice(i, i + 500))
  }

  async replay(): Promise<ReadonlyArray<{ id: string; key: string; value: T; version?: number }>> {
    const entries: { id: string; key: string; value: T; version?: number }[] = []
    let start = '-'
    for (;;) {
      const page = await this.#client.xrange(this.#key, start, '+', 'COUNT', 1000)
      for (const [id, fields] of page) {
        const record = fieldsToRecord(fields)
        if (record.k === undefined || record.v === undefined) continue
        try {
          const version = record.n === undefined ? undefined : Number(record.n)
          entries.push({
            id,
            key: record.k,
            value: JSON.parse(record.v) as T,
            ...(Number.isSafeInteger(version) ? { version } : {}),
          })
        } catch {
          // A corrupt entry cannot be persisted; leave it in the stream for a person to look at.
        }
      }
      if (page.length < 1000) return entries
      start = `(${(page[page.length - 1] as [string, string[]])[0]}`
    }
  }
}

function fieldsToRecord(fields: string[]): { k?: string; v?: string; n?: string } {
  const record: { k?: string; v?: string; n?: string } = {}
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'k') record.k = fields[i + 1]
    else if (fields[i] === 'v') record.v = fields[i + 1]
    else if (fields[i] === 'n') record.n = fields[i + 1]
  }
  return record
}

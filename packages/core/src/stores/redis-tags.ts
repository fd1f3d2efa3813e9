import { flatStrings, type RedisDriver } from './redis-driver.js'
import type { RedisRunner, RunFlags } from './redis-runner.js'
import { SCRIPTS } from './redis-scripts.js'

/** Members released from a tag index per script call: bounded arguments, bounded time inside Redis. */
const RELEASE_BATCH = 500

export interface RedisTagIndexParts {
  runner: RedisRunner
  reads: RedisDriver
  writes: RedisDriver
  tagPrefix: string
  entryPrefix: string
  /** Each command of bulk work gets at least this long (read when the work starts). */
  commandTimeoutMs: () => number
}

/**
 * A RedisStore's tag indexes: one sorted set per tag, member = entry key, score = the member's
 * generation, expiring with its entries. Every command touches one key, so nothing raises
 * CROSSSLOT on a Cluster.
 */
export class RedisTagIndex {
  readonly #parts: RedisTagIndexParts

  constructor(parts: RedisTagIndexParts) {
    this.#parts = parts
  }

  /** Records `key` under each tag, bumping its generation there. */
  async file(key: string, tags: readonly string[], ttlMs: number): Promise<void> {
    if (tags.length === 0) return
    const { runner, writes, tagPrefix } = this.#parts
    await Promise.all(
      tags.map((tag) => {
        const tagKey = tagPrefix + tag
        return runner.run('write', tagKey, 'set', () =>
          writes.script(SCRIPTS.cachewireTagAdd, tagKey, [key, String(ttlMs)])
        )
      })
    )
  }

  async count(tags: readonly string[]): Promise<number> {
    const { runner, reads, tagPrefix, entryPrefix } = this.#parts
    const flags: RunFlags = { timeoutMs: this.#parts.commandTimeoutMs() }
    const memberLists = await Promise.all(
      [...new Set(tags)].map((tag) => {
        const tagKey = tagPrefix + tag
        return runner.run(
          'read',
          tagKey,
          'countTagged',
          async () => flatStrings(await reads.command(tagKey, ['ZRANGE', tagKey, '0', '-1'])),
          flags
        )
      })
    )
    const keys = [...new Set(memberLists.flat())]
    // One key per command, as in invalidate: a Cluster refuses multi-key EXISTS across slots.
    const counts = await Promise.all(
      keys.map((key) => {
        const fullKey = entryPrefix + key
        return runner.run(
          'read',
          fullKey,
          'countTagged',
          () => reads.command(fullKey, ['EXISTS', fullKey]),
          flags
        )
      })
    )
    return counts.filter((count) => count === 1).length
  }

  /**
   * Reads each tag's index, removes the entries, then removes from the index only the members
   * whose generation is still the one read. Nothing is taken from an index before its entries
   * are gone, so an invalidation cut short (a timeout, a lost connection, a reshard) loses
   * nothing: retried, it finds what is left. A key set again meanwhile keeps its index record.
   * Resolves the keys whose entries were removed.
   */
  async invalidate(tags: readonly string[], guard: RunFlags): Promise<string[]> {
    const { runner, reads, writes, tagPrefix, entryPrefix } = this.#parts
    const flags: RunFlags = { ...guard, timeoutMs: this.#parts.commandTimeoutMs() }
    const indexes = await Promise.all(
      [...new Set(tags)].map(async (tag) => {
        const tagKey = tagPrefix + tag
        // Flat member, score, member, score…: RESP3 pairs and doubles are flattened to strings.
        const flat = await runner.run(
          'read',
          tagKey,
          'invalidateTags',
          async () =>
            flatStrings(await reads.command(tagKey, ['ZRANGE', tagKey, '0', '-1', 'WITHSCORES'])),
          flags
        )
        return { tagKey, flat }
      })
    )
    const keys = new Set<string>()
    for (const { flat } of indexes)
      for (let i = 0; i < flat.length; i += 2) keys.add(flat[i] as string)
    const members = [...keys]
    // One key per command: multi-key UNLINK would raise CROSSSLOT on a Cluster.
    const counts = await Promise.all(
      members.map((key) => {
        const fullKey = entryPrefix + key
        return runner.run(
          'write',
          fullKey,
          'invalidateTags',
          () => writes.command(fullKey, ['UNLINK', fullKey]),
          flags
        )
      })
    )
    await Promise.all(indexes.map(({ tagKey, flat }) => this.#release(tagKey, flat, flags)))
    return members.filter((_, i) => Number(counts[i]) > 0)
  }

  /** Removes the read members from a tag index, each only if its generation has not moved. */
  async #release(tagKey: string, flat: readonly string[], flags: RunFlags): Promise<void> {
    const { runner, writes } = this.#parts
    for (let start = 0; start < flat.length; start += RELEASE_BATCH * 2) {
      const batch = flat.slice(start, start + RELEASE_BATCH * 2)
      await runner.run(
        'write',
        tagKey,
        'invalidateTags',
        () => writes.script(SCRIPTS.cachewireTagRelease, tagKey, batch),
        flags
      )
    }
  }
}

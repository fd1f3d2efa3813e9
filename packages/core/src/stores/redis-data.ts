import type { StoreMeasure, WindowHitOptions, WindowState } from '../types.js'
import type { RedisDriver, RedisNodeConnection, RedisScript } from './redis-driver.js'
import type { RedisRunner, RunFlags } from './redis-runner.js'

/**
 * The rate-limit window of `rate-window.ts` (`applyWindowHit`), as one Lua script on one key (a
 * hash: window index `i`, current count `c`, previous count `p`), so it is atomic on Redis and on
 * a Cluster alike (no CROSSSLOT). Time is the server's (TIME), so every process agrees on windows
 * whatever their clocks; Redis 5+ replicates the script's effects, which allows TIME before a write.
 */
export const WINDOW_SCRIPT = {
  name: 'cachewireWindow',
  numberOfKeys: 1,
  lua: `if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local windowMs = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local sliding = ARGV[4] == '1'
local index = math.floor(now / windowMs)
local elapsed = now - index * windowMs
local stored = redis.call('HMGET', KEYS[1], 'i', 'c', 'p')
local storedIndex = tonumber(stored[1])
local current, previous = 0, 0
if storedIndex == index then
  current = tonumber(stored[2]) or 0
  previous = tonumber(stored[3]) or 0
elseif storedIndex == index - 1 then
  previous = tonumber(stored[2]) or 0
end
if not sliding then previous = 0 end
local used = current
if sliding then used = previous * ((windowMs - elapsed) / windowMs) + current end
local allowed = 0
if used + cost <= limit then
  allowed = 1
  current = current + cost
end
redis.call('HSET', KEYS[1], 'i', string.format('%d', index), 'c', current, 'p', previous)
redis.call('PEXPIRE', KEYS[1], windowMs * 2)
return {allowed, current, previous, elapsed}`,
} as const satisfies RedisScript

export async function hitRedisWindow(
  driver: RedisDriver,
  fullKey: string,
  options: WindowHitOptions
): Promise<WindowState> {
  const args = [
    String(options.windowMs),
    String(options.limit),
    String(options.cost),
    options.sliding ? '1' : '0',
  ]
  const [allowed, current, previous, elapsedMs] = (await driver.script(
    WINDOW_SCRIPT,
    fullKey,
    args
  )) as [number, number, number, number]
  return { allowed: allowed === 1, current, previous, elapsedMs }
}

/** PTTL: ms left, `undefined` when absent, `Infinity` for a key without expiry (never one of ours). */
export async function redisTtl(driver: RedisDriver, fullKey: string): Promise<number | undefined> {
  const ms = Number(await driver.command(fullKey, ['PTTL', fullKey]))
  if (ms === -2) return undefined
  return ms === -1 ? Infinity : Math.max(1, ms)
}

/** Up to this many keys in the whole database, entries are counted exactly (SCAN); above it, sampled. */
const EXACT_UP_TO = 10_000
/** RANDOMKEY draws per master when sampling. */
const SAMPLES = 256
/** MEMORY USAGE calls per pipeline. */
const BATCH = 500

/**
 * Entries under `entryPrefix` and the bytes Redis holds for them, per master. DBSIZE is the whole
 * database, not our prefix, so: when the database is small (≤ 10,000 keys) the prefix is SCANned
 * and every entry's MEMORY USAGE summed (exact); when large, RANDOMKEY samples give the share of
 * keys that are ours and their mean size (an estimate, `exact: false`). A counter kept on every
 * set and delete would drift, because Redis expires keys without telling anyone.
 */
export async function measureRedis(
  driver: RedisDriver,
  entryPrefix: string,
  match: string,
  scanCount: number
): Promise<StoreMeasure> {
  const nodes = driver.masters().map(({ connection }) => connection)
  const sizes = await Promise.all(nodes.map(async (node) => Number(await node.send(['DBSIZE']))))
  const total = sizes.reduce((sum, size) => sum + size, 0)
  let entries = 0
  let bytes = 0
  const exact = total <= EXACT_UP_TO
  for (const [i, node] of nodes.entries()) {
    if (exact) {
      const keys: string[] = []
      let cursor = '0'
      do {
        const [next, found] = await scanPage(node, cursor, match, scanCount)
        cursor = next
        keys.push(...found)
      } while (cursor !== '0')
      entries += keys.length
      bytes += await memoryUsage(node, keys)
    } else {
      const draws = Array.from({ length: SAMPLES }, () => ['RANDOMKEY'])
      const drawn = (await node.pipeline(draws))
        .map(([, key]) => key)
        .filter((key): key is string => typeof key === 'string')
      const ours = drawn.filter((key) => key.startsWith(entryPrefix))
      if (drawn.length === 0 || ours.length === 0) continue
      const nodeEntries = Math.round(((sizes[i] as number) * ours.length) / drawn.length)
      entries += nodeEntries
      bytes += Math.round((nodeEntries * (await memoryUsage(node, ours))) / ours.length)
    }
  }
  return { entries, bytes, exact, measuredAt: Date.now() }
}

async function memoryUsage(node: RedisNodeConnection, keys: readonly string[]): Promise<number> {
  let bytes = 0
  for (let start = 0; start < keys.length; start += BATCH) {
    const commands = keys
      .slice(start, start + BATCH)
      .map((key) => ['MEMORY', 'USAGE', key, 'SAMPLES', '0'])
    for (const [error, used] of await node.pipeline(commands))
      if (error === null && typeof used === 'number') bytes += used
  }
  return bytes
}

/** One SCAN call on one node: the next cursor and the keys found. */
export async function scanPage(
  node: RedisNodeConnection,
  cursor: string,
  match: string,
  count: number
): Promise<[string, string[]]> {
  const [next, keys] = (await node.send([
    'SCAN',
    cursor,
    'MATCH',
    match,
    'COUNT',
    String(count),
  ])) as [unknown, unknown]
  return [String(next), Array.isArray(keys) ? keys.map(String) : []]
}

/** SCAN each master (a Cluster spreads keys over several) and UNLINK what matches, one key per command. */
export async function scanAndUnlink(
  runner: RedisRunner,
  match: string,
  flags: RunFlags,
  scanCount: number
): Promise<number> {
  let removed = 0
  const writers = new Map(runner.masters('write').map(({ node, connection }) => [node, connection]))
  for (const { node, connection } of runner.masters('read')) {
    const writer = writers.get(node) ?? connection
    let cursor = '0'
    do {
      const [next, keys] = await runner.runOnNode(
        'read',
        node,
        'scan',
        () => scanPage(connection, cursor, match, scanCount),
        flags
      )
      cursor = next
      if (keys.length > 0) {
        const results = await runner.runOnNode(
          'write',
          node,
          'unlink',
          () => writer.pipeline(keys.map((key) => ['UNLINK', key])),
          flags
        )
        for (const [error, count] of results)
          if (error === null && typeof count === 'number') removed += count
      }
    } while (cursor !== '0')
  }
  return removed
}

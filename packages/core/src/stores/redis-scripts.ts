import { WINDOW_SCRIPT } from './redis-data.js'
import type { RedisScript } from './redis-driver.js'

/**
 * The Lua a RedisStore runs. Each script touches one key only, so every one is safe on a Cluster
 * (no CROSSSLOT).
 */
export const SCRIPTS = {
  // File a member under a tag. The tag index is a sorted set whose score is the member's
  // generation, bumped on every add: an invalidation removes a member only if its generation is
  // the one it read, so a key set again meanwhile stays reachable from its tag. The index
  // outlives its longest member.
  cachewireTagAdd: {
    name: 'cachewireTagAdd',
    numberOfKeys: 1,
    lua: `local generation = redis.call('ZSCORE', KEYS[1], ARGV[1])
if generation then generation = tonumber(generation) + 1 else generation = 1 end
redis.call('ZADD', KEYS[1], generation, ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return generation`,
  },
  // Remove members whose entries are gone, each only if its generation is still the one read
  // (ARGV: member, generation, member, generation, ...). ZREM is allowed when Redis is out of
  // memory, so invalidation works there too.
  cachewireTagRelease: {
    name: 'cachewireTagRelease',
    numberOfKeys: 1,
    lua: `local removed = 0
for i = 1, #ARGV, 2 do
  local generation = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if generation and tonumber(generation) == tonumber(ARGV[i + 1]) then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed`,
  },
  // Delete a lock only if the caller still owns it (its token), never someone else's.
  cachewireUnlock: {
    name: 'cachewireUnlock',
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  },
  // A rate-limit window hit (see redis-data.ts).
  cachewireWindow: WINDOW_SCRIPT,
  // INCRBY that gives a new counter its TTL and leaves an existing counter's TTL alone.
  cachewireIncrement: {
    name: 'cachewireIncrement',
    numberOfKeys: 1,
    lua: `local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value`,
  },
  // Add a member to a set of at most ARGV[2] live members (ARGV: member, max, ttlMs). A sorted
  // set scored by each member's expiry on the server's clock: expired members are dropped first,
  // a present member's lifetime is renewed, a new one is refused when the set is full. The key
  // lives as long as its longest-lived member. Returns { added, member, size }.
  cachewireBoundedAdd: {
    name: 'cachewireBoundedAdd',
    numberOfKeys: 1,
    lua: `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local max = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local added = 0
local member = 0
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score then
  member = 1
  if tonumber(score) < now + ttl then redis.call('ZADD', KEYS[1], now + ttl, ARGV[1]) end
elseif redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  added = 1
  member = 1
end
local size = redis.call('ZCARD', KEYS[1])
if size > 0 and redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return { added, member, size }`,
  },
} as const satisfies Record<string, RedisScript>

import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { Cluster, type Redis } from 'ioredis'
import { Cache, DecodeError } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { figures, measure, msUntil, sampleCalls } from '../helpers/measure.js'
import { registerCleanup } from '../setup/cleanup.js'
import { privateClusterBasePort } from '../setup/redis-cluster.js'
import { describeCluster, usePrivateCluster } from '../setup/redis.js'

const run = promisify(execFile)
const stateDir = fileURLToPath(new URL('../../.redis-cluster/', import.meta.url))
/** Not about deadlines: room for a loaded machine. */
const TIMEOUT = '250ms'
const MARGIN_MS = 750

/**
 * What a user writes from the README: a plain Cluster (auto-pipelining off, as the README says).
 * The store adds the slot map refresh.
 */
function userCluster(nodes: Array<{ host: string; port: number }>): Cluster {
  const client = new Cluster(nodes, { redisOptions: { connectTimeout: 2000 } })
  client.on('error', () => {})
  registerCleanup(() => client.disconnect())
  return client
}

function cacheOn(client: Cluster, prefix: string): { cache: Cache; errors: Error[] } {
  const cache = new Cache({
    store: new RedisStore({ client, prefix, timeout: TIMEOUT }),
    invalidationQueue: { closeTimeout: '5s' },
  })
  const errors: Error[] = []
  cache.on('error', (error) => errors.push(error))
  registerCleanup(() => cache.close())
  return { cache, errors }
}

async function ready(client: Cluster): Promise<void> {
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve))
}

/** An error event with its cause, as one line. */
function describeError(error: Error): string {
  return `${error.message} ${String((error as { cause?: Error }).cause?.message ?? '')}`
}

/**
 * What a Cluster client does from `since` on (its events, and every 500 ms its status and each
 * node's queues), for a failure report.
 */
function watchClient(client: Cluster, since: number): { timeline: string[]; stop(): void } {
  const timeline: string[] = []
  const mark = (event: string) => (detail?: unknown) =>
    timeline.push(
      `${Math.round(performance.now() - since)}:${event}${
        detail instanceof Error
          ? `:${detail.message.slice(0, 60)}`
          : detail !== undefined && (detail as Redis).options !== undefined
            ? `:${(detail as Redis).options.port}`
            : ''
      }`
    )
  const events = [
    'ready',
    'close',
    'reconnecting',
    'end',
    '+node',
    '-node',
    'refresh',
    'node error',
  ]
  const listeners = events.map((event) => [event, mark(event)] as const)
  for (const [event, listener] of listeners) client.on(event, listener)
  type Queue = { length: number }
  const sampler = setInterval(() => {
    const nodes = client.nodes('all').map((node) => {
      const { commandQueue, offlineQueue } = node as unknown as Record<string, Queue>
      return `${node.options.port}/${node.status}/${commandQueue?.length}/${offlineQueue?.length}`
    })
    const { offlineQueue } = client as unknown as Record<string, Queue>
    mark(`${client.status}/${offlineQueue?.length} ${nodes.join(' ')}`)()
  }, 500)
  const stop = (): void => {
    clearInterval(sampler)
    for (const [event, listener] of listeners) client.off(event, listener)
  }
  registerCleanup(stop)
  return { timeline, stop }
}

/**
 * Where reads of `slot` go, against where the cluster says it is, the store's breakers for that
 * node, and what the owner answers asked directly (past the Cluster's routing and the breaker):
 * enough to tell a stale slot map from a breaker left open from a cluster that cannot serve.
 */
async function whereReadsGo(
  client: Cluster,
  healthy: Redis,
  cache: Cache,
  slot: number,
  fullKey: string
): Promise<Record<string, unknown>> {
  const route = client.slots[slot]?.[0]
  const map = (await healthy.call('CLUSTER', 'SLOTS')) as Array<
    [number, number, ...[string, number][]]
  >
  const owner = client
    .nodes('master')
    .find((node) => `${node.options.host}:${node.options.port}` === route)
  const info = owner === undefined ? '' : String(await owner.call('CLUSTER', 'INFO').catch(String))
  const exists = await owner?.call('EXISTS', fullKey).catch((error: Error) => error.message)
  return {
    client: client.slots[slot]?.join(','),
    cluster: map
      .filter(([from, to]) => slot >= from && slot <= to)
      .map(([, , ...owners]) => owners.map(([host, port]) => `${host}:${port}`).join(','))
      .join(';'),
    breakers: cache
      .stats()
      .breakers.filter((b) => b.node === route)
      .map((b) => `${b.direction}=${b.state}`),
    ownerSays:
      owner === undefined
        ? 'no connection to the owner'
        : `${/cluster_state:\w+/.exec(info)?.[0] ?? info.slice(0, 60)} exists=${String(exists)}`,
  }
}

/** Each node of the cluster as `port role epoch link slots`, from `node`'s CLUSTER NODES: who is master of what now. */
async function clusterNodes(node: Redis): Promise<string[]> {
  const text = String(await node.call('CLUSTER', 'NODES'))
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [, address, flags, , , , epoch, link, ...ranges] = line.split(' ')
      return `${address?.split('@')[0]?.split(':')[1]} ${flags} e${epoch} ${link} ${ranges.join(',')}`
    })
}

/** Whether every master the client knows says the cluster is up (`cluster_state:ok`). */
async function clusterUp(client: Cluster): Promise<boolean> {
  const states = await Promise.all(
    client
      .nodes('master')
      .map((node) => node.call('CLUSTER', 'INFO').then(String, () => 'unreachable'))
  )
  return states.every((info) => info.includes('cluster_state:ok'))
}

/**
 * Which of `keys` the master at `owner` ("host:port") lists among its slots' keys: CLUSTER
 * GETKEYSINSLOT answers while the cluster says it is down, when reads of the keys themselves are
 * refused. A master the client does not know, or one that does not answer, holds nothing we can
 * show: those keys count as not held.
 */
async function heldInSlots(
  client: Cluster,
  owner: string | undefined,
  keys: readonly string[]
): Promise<boolean[]> {
  const node = client
    .nodes('master')
    .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === owner)
  if (node === undefined) return keys.map(() => false)
  const held = new Set<string>()
  const slots = new Set(
    await Promise.all(keys.map(async (key) => Number(await node.cluster('KEYSLOT', key))))
  )
  for (const slot of slots) {
    const listed = (await node
      .call('CLUSTER', 'GETKEYSINSLOT', slot, 1000)
      .catch(() => [])) as string[]
    for (const key of listed) held.add(key)
  }
  return keys.map((key) => held.has(key))
}

const REDIRECTION = /MOVED|ASK|TRYAGAIN|CLUSTERDOWN|slots allocation group|same node|redirections/

describeCluster('Redis Cluster faults (a private cluster)', () => {
  const cluster = usePrivateCluster(privateClusterBasePort(10))

  it('tag invalidations during a reshard remove every tagged entry, and no redirection reaches the app', async () => {
    const client = userCluster(cluster.nodes)
    await ready(client)
    const prefix = 'reshard:'
    const { cache, errors } = cacheOn(client, prefix)
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => cache.set(`other:${i}`, i, { ttl: '5m' }))
    )

    const masters = client.nodes('master')
    const ids = await Promise.all(
      masters.map(async (node) => String(await node.call('CLUSTER', 'MYID')))
    )
    const seed = `${masters[0]?.options.host}:${masters[0]?.options.port}`
    // Move 5,000 slots, a few keys per MIGRATE, while rounds of 600 tagged entries are written and
    // invalidated: every round overlaps slots that are moving.
    let resharding = true
    const reshard = run(
      'redis-cli',
      [
        '--cluster',
        'reshard',
        seed,
        '--cluster-from',
        ids[0] as string,
        '--cluster-to',
        ids[1] as string,
        '--cluster-slots',
        '5000',
        '--cluster-yes',
        '--cluster-pipeline',
        '5',
      ],
      { timeout: 120_000 }
    ).finally(() => (resharding = false))
    const traffic = sampleCalls(
      (i) =>
        i % 3 === 0
          ? cache.set(`other:${i % 100}`, i, { ttl: '5m' })
          : cache.get(`other:${i % 100}`),
      { durationMs: 3000, concurrency: 4 }
    )
    const statuses: string[] = []
    const removed: number[] = []
    let rounds = 0
    while (resharding && rounds < 200) {
      const keys = Array.from({ length: 600 }, (_, i) => `r${rounds}:item:${i}`)
      await Promise.all(
        keys.map((key) => cache.set(key, key, { ttl: '5m', tags: [`round:${rounds}`] }))
      )
      const result = await cache.invalidateTags([`round:${rounds}`])
      statuses.push(result.status)
      removed.push(result.removed)
      rounds++
    }
    const idle = await cache.whenIdle()
    const [during] = await Promise.all([traffic, reshard])

    // The slots are still now: a survivor of any round shows up on exactly one master.
    let left = 0
    for (const node of client.nodes('master')) {
      for await (const found of node.scanStream({
        match: `${prefix}k:r*`,
        count: 1000,
      }) as AsyncIterable<string[]>)
        left += found.length
    }
    const redirections = errors.filter((error) => REDIRECTION.test(describeError(error)))
    const applied = statuses.filter((status) => status === 'applied').length
    measure('reshard-during-tag-invalidation', {
      rounds,
      taggedPerRound: 600,
      applied,
      queued: statuses.length - applied,
      removedPerRound: `${Math.min(...removed)}..${Math.max(...removed)}`,
      drained: idle.drained,
      left,
      ...figures('traffic', during),
      redirectionErrors: redirections.length,
      errorEvents: errors.length,
      errors: errors.map((error) => describeError(error).slice(0, 160)),
    })

    expect(rounds).toBeGreaterThan(1)
    expect(statuses.every((status) => status === 'applied' || status === 'queued')).toBe(true)
    expect(idle.drained).toBe(true)
    expect(left).toBe(0)
    expect(during.rejected).toBe(0)
    expect(redirections).toEqual([])
    expect(await cache.get('other:1')).toBeDefined()
  }, 180_000)

  it('one frozen master: the other shards keep hitting, and the failed-over shard comes back', async () => {
    const client = userCluster(cluster.nodes)
    await ready(client)
    const { cache, errors } = cacheOn(client, 'frozen:')
    const keys = Array.from({ length: 300 }, (_, i) => `key:${i}`)
    await Promise.all(keys.map((key) => cache.set(key, key, { ttl: '5m' })))
    // Let the replicas catch up before the master goes away.
    for (const node of client.nodes('master')) await node.wait(1, 2000)
    const before = await sampleCalls((i) => cache.get(keys[i % keys.length] as string), {
      durationMs: 1000,
    })

    // The master serving most of these keys (the reshard above left the shares uneven).
    const slots = await Promise.all(
      keys.map(async (key) => Number(await client.cluster('KEYSLOT', `frozen:k:${key}`)))
    )
    const owners = keys.map((_, i) => client.slots[slots[i] as number]?.[0] as string)
    const counts = new Map<string, number>()
    for (const owner of owners) counts.set(owner, (counts.get(owner) ?? 0) + 1)
    const victimName = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] as string
    const victim = client
      .nodes('master')
      .find((node) => `${node.options.host}:${node.options.port}` === victimName) as Redis
    const onVictim = new Set(keys.filter((_, i) => owners[i] === victimName))
    const pid = Number(readFileSync(`${stateDir}${victim.options.port}/redis.pid`, 'utf8'))
    process.kill(pid, 'SIGSTOP')
    registerCleanup(() => void process.kill(pid, 'SIGCONT'))
    const frozenAt = performance.now()
    let healthyCalls = 0
    let healthyHits = 0
    const during = await sampleCalls(
      async (i) => {
        const key = keys[i % keys.length] as string
        const value = await cache.get(key)
        if (!onVictim.has(key)) {
          healthyCalls++
          if (value !== undefined) healthyHits++
        }
        return value
      },
      { durationMs: 1200 }
    )
    const breakers = cache
      .stats()
      .breakers.filter((b) => b.node !== 'cluster')
      .map((b) => `${b.node === victimName ? 'frozen' : 'healthy'}/${b.direction}=${b.state}`)

    // cluster-node-timeout is 2 s: a replica takes over. From when a healthy node says so, how long until every key hits?
    const healthy = client.nodes('master').find((node) => node !== victim) as Redis
    const victimSlot = slots[keys.indexOf([...onVictim][0] as string)] as number
    const ownerOf = async (slot: number): Promise<string | undefined> => {
      const map = (await healthy.call('CLUSTER', 'SLOTS')) as Array<
        [number, number, [string, number]]
      >
      const owner = map.find(([from, to]) => slot >= from && slot <= to)?.[2]
      return owner === undefined ? undefined : `${owner[0]}:${owner[1]}`
    }
    let promotedOwner: string | undefined
    const promotedMs = await msUntil(
      async () => {
        promotedOwner = await ownerOf(victimSlot)
        return promotedOwner !== undefined && promotedOwner !== victimName
      },
      { timeoutMs: 30_000, intervalMs: 20 }
    )
    const promotedAt = performance.now()
    await msUntil(
      async () =>
        (await Promise.all(keys.map((key) => cache.get(key)))).every(
          (value) => value !== undefined
        ),
      { timeoutMs: 30_000, intervalMs: 20 }
    )
    const hitsBackAfterPromotionMs = Math.round(performance.now() - promotedAt)
    const sinceFreezeMs = Math.round(performance.now() - frozenAt)
    const resumedAt = performance.now()
    const watch = watchClient(client, resumedAt)
    process.kill(pid, 'SIGCONT')
    // The resumed old master can answer a slot-map read queued while it was frozen with its stale
    // view, and for a moment its keys are routed to it (its breaker still half-open): misses, seen
    // in 2 of 8 CI runs. Data is lost only if the keys do not come back once the cluster settles,
    // so what counts is the last read of that wait: a read after it found all 195 keys missing
    // once, in a fresh-clone CI run, while the new master, just rejoined by the old one, answered
    // CLUSTERDOWN for a moment and its read breaker was open; and once more, in a busy-loop CI
    // run, all 195 missed for the whole wait. Which loss that was is told below.
    let values: unknown[] = []
    const allHit = async (): Promise<boolean> => {
      values = await Promise.all(keys.map((key) => cache.get(key)))
      return values.every((value) => value !== undefined)
    }
    const settledMs = await msUntil(allHit, { timeoutMs: 10_000, intervalMs: 50 }).catch(() =>
      Math.round(performance.now() - resumedAt)
    )
    // A cluster that says it is down (cluster_state:fail: on a starved machine a master missed its
    // heartbeats) answers CLUSTERDOWN for every key of the slots it is down for: those keys are
    // neither served nor lost. Once every master says the cluster is up, they are read again
    // (the busy-loop run above: the new master answered `cluster_state:fail` for the whole wait).
    let clusterUpAfterMs: number | undefined
    if (values.some((value) => value === undefined)) {
      clusterUpAfterMs = await msUntil(() => clusterUp(client), {
        timeoutMs: 30_000,
        intervalMs: 100,
      }).catch(() => undefined)
      if (clusterUpAfterMs !== undefined)
        await msUntil(allHit, { timeoutMs: 10_000, intervalMs: 50 }).catch(() => undefined)
    }
    const missing = keys.filter((_, i) => values[i] === undefined)
    // Whose loss a miss is. A key the cluster still holds is one the cache failed to serve. A key
    // the cluster no longer holds was lost by Redis only if its slot changed hands again after the
    // promotion: with cluster-replica-validity-factor 0, a replica still syncing may be promoted
    // (a second failover on a starved machine), and asynchronous replication keeps no promise then.
    // Otherwise something deleted it, which counts as lost as well.
    // A map that cannot be read counts as no second failover: every miss is then counted lost.
    const ownerNow =
      missing.length === 0 ? promotedOwner : await ownerOf(victimSlot).catch(() => promotedOwner)
    const failedOverAgain = ownerNow !== promotedOwner
    // A cluster still down when the wait ran out (a busy-loop CI run: the promoted master answered
    // `cluster_state:fail` for all 40 s) refuses every read, EXISTS too, so it cannot say whether
    // the cache served what it holds. Its owner's CLUSTER GETKEYSINSLOT still lists what it holds:
    // a key listed there is unserved while Redis is down, not lost; a key not listed is judged as
    // above.
    const stayedDown = missing.length > 0 && clusterUpAfterMs === undefined
    const heldByRedis = stayedDown
      ? await heldInSlots(
          client,
          ownerNow,
          missing.map((key) => `frozen:k:${key}`)
        )
      : await Promise.all(
          missing.map(async (key) => (await client.exists(`frozen:k:${key}`).catch(() => 1)) === 1)
        )
    const unservedWhileDown = stayedDown ? heldByRedis.filter(Boolean).length : 0
    const lostKeys = missing.filter((_, i) =>
      heldByRedis[i] === true ? !stayedDown : !failedOverAgain
    )
    const lost = lostKeys.length
    const goneWithSecondFailover = missing.length - lost - unservedWhileDown
    watch.stop()
    const lostRoute =
      missing.length === 0
        ? undefined
        : await whereReadsGo(
            client,
            healthy,
            cache,
            slots[keys.indexOf(missing[0] as string)] as number,
            `frozen:k:${missing[0] as string}`
          )
    const nodes = missing.length === 0 ? undefined : await clusterNodes(healthy).catch(String)
    measure('cluster-frozen-master', {
      ...figures('before', before),
      ...figures('during', during),
      keysOnFrozenMaster: onVictim.size,
      healthyHitRatio:
        healthyCalls === 0 ? 0 : Math.round((healthyHits / healthyCalls) * 100) / 100,
      breakers,
      promotedAfterMs: promotedMs,
      hitsBackAfterPromotionMs,
      allHitsBackSinceFreezeMs: sinceFreezeMs,
      hitsBackAfterResumeMs: settledMs,
      ...(clusterUpAfterMs === undefined ? {} : { clusterUpAfterMs }),
      ...(stayedDown ? { unservedWhileDown } : {}),
      lost,
      goneWithSecondFailover,
      ...(failedOverAgain ? { promotedOwner, ownerNow } : {}),
      ...(lostRoute === undefined ? {} : { lostRoute, nodes }),
      errorEvents: errors.length,
      ...(missing.length === 0
        ? {}
        : {
            status: client.status,
            timeline: watch.timeline.slice(0, 80),
            errors: errors.map((error) => describeError(error).slice(0, 200)),
          }),
    })

    expect(before.rejected + during.rejected).toBe(0)
    // Only the frozen master's slots are switched off.
    expect(healthyHits).toBe(healthyCalls)
    expect(
      breakers
        .filter((state) => state.startsWith('healthy/'))
        .every((state) => state.endsWith('=closed'))
    ).toBe(true)
    expect(
      breakers.some((state) => state.startsWith('frozen/read=') && !state.endsWith('=closed'))
    ).toBe(true)
    expect(during.max).toBeLessThan(250 + MARGIN_MS)
    // The slot map is re-read every 500 ms while a breaker is open: the new master is found without
    // waiting for the periodic refresh (2 s). A refresh that asks the frozen node first waits its
    // slotsRefreshTimeout (1 s): on a loaded machine, hits came back 0.4 to 1.2 s after the promotion.
    expect(hitsBackAfterPromotionMs).toBeLessThan(2000)
    // The cache deletes a value it cannot decode: none may have been, or a loss could pass for Redis's.
    expect(errors.filter((error) => error instanceof DecodeError)).toEqual([])
    expect(lost).toBe(0)
  }, 180_000)
})

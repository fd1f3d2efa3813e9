import { afterAll, beforeAll, expect, inject, it } from 'vitest'
import type { Cluster } from 'ioredis'
import {
  clusterNodes,
  createClusterClient,
  deleteKeysWithPrefix,
  describeCluster,
  uniquePrefix,
} from './redis.js'

describeCluster('the local Redis Cluster', () => {
  let client: Cluster
  const prefix = uniquePrefix()

  beforeAll(async () => {
    client = createClusterClient()
    // Wait for 'ready': only then has ioredis loaded the slot map and connected to every node.
    await new Promise((resolve, reject) => {
      client.once('ready', resolve)
      client.once('error', reject)
    })
  })

  afterAll(async () => {
    await deleteKeysWithPrefix(client, prefix)
  })

  it('is handed to tests as six loopback seed nodes', () => {
    expect(inject('redisCluster').ok).toBe(true)
    expect(clusterNodes()).toHaveLength(6)
    for (const node of clusterNodes()) expect(node.host).toBe('127.0.0.1')
  })

  it('has 3 masters, each with 1 connected, in-sync replica', async () => {
    // CLUSTER NODES: "<id> <ip:port@bus> <flags> <master-id|-> <ping> <pong> <epoch> <link> <slots...>"
    const lines = ((await client.cluster('NODES')) as string).trim().split('\n')
    const nodes = lines.map((line) => line.split(' '))
    const masters = nodes.filter(([, , flags]) => flags!.split(',').includes('master'))
    const replicas = nodes.filter(([, , flags]) => flags!.split(',').includes('slave'))
    expect(masters).toHaveLength(3)
    expect(replicas).toHaveLength(3)
    for (const [, , , , , , , link] of nodes) expect(link).toBe('connected')
    // Every master has exactly one replica pointing at it.
    expect(new Set(replicas.map(([, , , masterId]) => masterId))).toEqual(
      new Set(masters.map(([id]) => id))
    )

    expect(client.nodes('master')).toHaveLength(3)
    for (const replica of client.nodes('slave')) {
      expect(await replica.info('replication')).toMatch(/master_link_status:up/)
    }
  })

  it('stores and reads back keys in every master slot range', async () => {
    // CLUSTER SLOTS: [[start, end, [masterHost, masterPort, id], ...replicas], ...]
    const ranges = (await client.cluster('SLOTS')) as Array<[number, number, ...unknown[]]>
    expect(ranges.length).toBeGreaterThanOrEqual(3)
    const keyFor = new Map<number, string>()
    for (let i = 0; keyFor.size < ranges.length && i < 10_000; i++) {
      const key = `${prefix}${i}`
      const slot = (await client.cluster('KEYSLOT', key)) as number
      const range = ranges.findIndex(([start, end]) => slot >= start && slot <= end)
      if (!keyFor.has(range)) keyFor.set(range, key)
    }
    expect(keyFor.size).toBe(ranges.length)

    for (const [range, key] of keyFor) await client.set(key, `range-${range}`, 'PX', 60_000)
    for (const [range, key] of keyFor) expect(await client.get(key)).toBe(`range-${range}`)
  })
})

import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import {
  createClient,
  deleteKeysWithPrefix,
  describeRedis,
  redisUrl,
  uniquePrefix,
} from '../setup/redis.js'
import { createTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'

const workerPath = fileURLToPath(new URL('./fixtures/data-worker.mjs', import.meta.url))

interface Instance {
  child: ChildProcess
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>
}

async function startInstance(prefix: string, env: Record<string, string> = {}): Promise<Instance> {
  const child = fork(workerPath, [], {
    env: { ...process.env, REDIS_URL: redisUrl(), PREFIX: prefix, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  await once(child, 'message')
  let next = 0
  const pending = new Map<number, (value: unknown) => void>()
  child.on('message', (message: { id?: number; result?: unknown }) => {
    if (message.id !== undefined) pending.get(message.id)?.(message.result)
  })
  return {
    child,
    call: <T>(op: string, args: Record<string, unknown> = {}) =>
      new Promise<T>((resolve) => {
        const id = next++
        pending.set(id, resolve as (value: unknown) => void)
        child.send({ id, op, ...args })
      }),
  }
}

async function stop(instance: Instance): Promise<void> {
  const exited = once(instance.child, 'exit')
  instance.child.send({ op: 'exit' })
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))])
  instance.child.kill()
}

describeRedis('data APIs across two processes on one Redis', () => {
  const prefix = uniquePrefix('data-processes')
  let a: Instance
  let b: Instance
  let redis: Redis

  beforeAll(async () => {
    redis = createClient()
    // A long lease: on a loaded machine a renewal may come late, and a lapsed lease (correctly) sends checks to the store.
    ;[a, b] = await Promise.all([
      startInstance(prefix, { LEASE: '5s' }),
      startInstance(prefix, { LEASE: '5s' }),
    ])
  })
  afterAll(async () => {
    await Promise.all([a, b].map(stop))
    await deleteKeysWithPrefix(redis, prefix)
    await deleteKeysWithPrefix(redis, `{${prefix}revocations}`)
  })

  it('a revoke on one process makes isRevoked true on the other as soon as revoke resolves, though its front said "not revoked"', async () => {
    const tokens = Array.from({ length: 40 }, (_, i) => `token-${i}-${prefix}`)
    for (const token of tokens) expect(await b.call('isRevoked', { token })).toBe(false)
    const readsBefore = await b.call<number>('storeReads')
    // Asked again: answered by B's front, without a store read.
    for (const token of tokens) expect(await b.call('isRevoked', { token })).toBe(false)
    expect(await b.call<number>('storeReads')).toBe(readsBefore)
    const latencies: number[] = []
    for (const token of tokens) {
      latencies.push(await a.call<number>('revoke', { token }))
      expect(await b.call('isRevoked', { token })).toBe(true)
    }
    latencies.sort((x, y) => x - y)
    console.log(
      `revoke with one peer to acknowledge: median ${latencies[20]?.toFixed(2)} ms, max ${latencies.at(-1)?.toFixed(2)} ms`
    )
    // Still from the front: B learnt each revocation from the broadcast, not from a read.
    expect(await b.call<number>('storeReads')).toBe(readsBefore)
  })

  for (const algorithm of ['fixed', 'sliding'] as const) {
    it(`${algorithm} window: two processes counting one client let exactly the limit through`, async () => {
      const key = `client-${algorithm}`
      const [fromA, fromB] = await Promise.all([
        a.call<Array<{ allowed: boolean; fields: Record<string, string> }>>('check', {
          key,
          algorithm,
          limit: 20,
          times: 15,
        }),
        b.call<Array<{ allowed: boolean; fields: Record<string, string> }>>('check', {
          key,
          algorithm,
          limit: 20,
          times: 15,
        }),
      ])
      const all = [...fromA, ...fromB]
      expect(all.filter((d) => d.allowed).length).toBe(20)
      const refused = all.find((d) => !d.allowed)
      expect(refused?.fields['RateLimit-Policy']).toBe(`"${algorithm}-20";q=20;w=3600`)
      expect(refused?.fields.RateLimit).toMatch(new RegExp(`^"${algorithm}-20";r=0;t=\\d+$`))
      expect(Number(refused?.fields['Retry-After'])).toBeGreaterThan(0)
    })
  }
})

describeRedis('revocations with a peer cut off from Redis', () => {
  const prefix = uniquePrefix('data-partition')
  let proxy: TcpProxy
  let a: Instance
  let b: Instance
  let redis: Redis

  beforeAll(async () => {
    redis = createClient()
    const target = new URL(redisUrl())
    proxy = await createTcpProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 6379),
    })
    ;[a, b] = await Promise.all([
      startInstance(prefix, { LEASE: '600ms' }),
      startInstance(prefix, { LEASE: '600ms', REDIS_PORT: String(proxy.port) }),
    ])
  })
  afterAll(async () => {
    proxy.setMode('pass')
    await Promise.all([a, b].map(stop))
    await proxy.close()
    await deleteKeysWithPrefix(redis, prefix)
    await deleteKeysWithPrefix(redis, `{${prefix}revocations}`)
  })

  it('revoke waits for the silent peer at most its lease, and that peer never answers "not revoked" from memory', async () => {
    const token = `cut-off-${prefix}`
    expect(await b.call('isRevoked', { token })).toBe(false)
    proxy.setMode('blackhole')
    // A waits for B's acknowledgement until B's lease (600 ms) runs out, not longer (a deadline, generous for a loaded machine).
    const waited = await a.call<number>('revoke', { token })
    expect(waited).toBeLessThan(5_000)
    // B's lease ran out: it cannot use its front, and it cannot reach Redis: it fails closed.
    expect(await b.call('isRevoked', { token })).toBe('unavailable')
    proxy.setMode('pass')
    let answer: unknown
    for (let i = 0; i < 50 && answer !== true; i++) {
      answer = await b.call('isRevoked', { token })
      expect(answer).not.toBe(false)
      if (answer !== true) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(answer).toBe(true)
  })
})

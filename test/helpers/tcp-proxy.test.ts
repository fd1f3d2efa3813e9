import { expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { createClient, describeRedis, redisUrl } from '../setup/redis.js'
import { createTcpProxy } from './tcp-proxy.js'

const target = new URL(redisUrl())

/** A client through the proxy that never retries, so each fault shows up as one error. */
function clientVia(port: number): Redis {
  const client = createClient({
    host: '127.0.0.1',
    port,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {}) // faults are the point; the rejected commands carry them
  return client
}

describeRedis('createTcpProxy({ targetPort })', () => {
  it('passes PING through to Redis', async () => {
    const proxy = await createTcpProxy({ targetPort: Number(target.port || 6379) })
    const client = clientVia(proxy.port)
    expect(await client.ping()).toBe('PONG')
    expect(proxy.connectionCount()).toBe(1)
  })

  it('in delay mode, holds each reply for at least delayMs', async () => {
    const proxy = await createTcpProxy({ targetPort: Number(target.port || 6379) })
    const client = clientVia(proxy.port)
    await client.ping()
    proxy.setMode('delay', 100)
    const started = Date.now()
    // Only a lower bound (request and reply are each held 100 ms): the helper must add latency;
    // how much more is up to the machine.
    expect(await client.ping()).toBe('PONG')
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
  })

  it('in blackhole mode, makes a PING time out, and delivers held bytes when it heals', async () => {
    const proxy = await createTcpProxy({ targetPort: Number(target.port || 6379) })
    const client = clientVia(proxy.port)
    await client.ping()
    proxy.setMode('blackhole')
    await expect(client.ping()).rejects.toThrow(/timed out/i)
    proxy.setMode('pass')
    // The late PONG is matched to the timed-out command, so the stream stays in sync.
    expect(await client.echo('after')).toBe('after')
  })

  it('in reset mode, drops open connections and refuses new ones', async () => {
    const proxy = await createTcpProxy({ targetPort: Number(target.port || 6379) })
    const client = clientVia(proxy.port)
    await client.ping()
    const closed = new Promise((resolve) => client.once('close', resolve))
    proxy.setMode('reset')
    await closed
    await expect(client.ping()).rejects.toThrow()
    expect(proxy.connectionCount()).toBe(0)

    const fresh = clientVia(proxy.port)
    await expect(fresh.ping()).rejects.toThrow()
  })
})

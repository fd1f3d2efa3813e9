import { describe, expect, it } from 'vitest'
import {
  createClient,
  deleteKeysWithPrefix,
  describeRedis,
  redisUrl,
  uniquePrefix,
} from './redis.js'

describe('uniquePrefix(label)', () => {
  it('differs between calls and carries the label', () => {
    const a = uniquePrefix('same')
    const b = uniquePrefix('same')
    expect(a).not.toBe(b)
    expect(a).toMatch(/^cw-test:same:\d+:[0-9a-f]{8}:$/)
  })

  it('defaults the label to the test file name', () => {
    expect(uniquePrefix()).toMatch(/^cw-test:redis:/)
  })
})

describeRedis('standalone Redis at REDIS_URL', () => {
  it('answers PING', async () => {
    expect(redisUrl()).toMatch(/^rediss?:\/\//)
    expect(await createClient().ping()).toBe('PONG')
  })

  it('round-trips binary values byte for byte', async () => {
    const client = createClient()
    const prefix = uniquePrefix()
    const value = Buffer.from([0, 255, 13, 10, 0x80, 0x7f])
    await client.set(`${prefix}bin`, value, 'PX', 10_000)
    expect(await client.getBuffer(`${prefix}bin`)).toEqual(value)
    await deleteKeysWithPrefix(client, prefix)
  })

  describe('deleteKeysWithPrefix(client, prefix)', () => {
    it('deletes every key under the prefix and nothing else', async () => {
      const client = createClient()
      const prefix = uniquePrefix()
      const other = uniquePrefix()
      // More keys than one SCAN page, and a glob character in the prefix itself.
      const tricky = `${prefix}[*]?`
      const pipeline = client.pipeline()
      for (let i = 0; i < 1_200; i++) pipeline.set(`${prefix}${i}`, 'x', 'PX', 60_000)
      pipeline.set(`${tricky}k`, 'x', 'PX', 60_000)
      pipeline.set(`${other}keep`, 'x', 'PX', 60_000)
      await pipeline.exec()

      expect(await deleteKeysWithPrefix(client, tricky)).toBe(1)
      expect(await deleteKeysWithPrefix(client, prefix)).toBe(1_200)
      expect(await client.exists(`${other}keep`)).toBe(1)
      expect(await deleteKeysWithPrefix(client, other)).toBe(1)
    })
  })
})

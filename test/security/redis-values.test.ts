/**
 * What is in Redis is untrusted: anyone with access to it (or a bug, or an older version) may have
 * written anything under our keys. A planted value is served as a miss, deleted, counted, and never
 * crashes the app or reaches a response. And the other way round: nothing from a request reaches
 * a Redis key unescaped — every key is a hash.
 */
import { expect, it } from 'vitest'
import { rawRequest } from '../helpers/servers.js'
import {
  cacheStatus,
  eachTarget,
  FRAMEWORKS,
  HOST,
  isHit,
  keysUnder,
  send,
  type SecurityApp,
  type Target,
} from './harness.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The Redis key holding the entry whose stored key text contains `marker`. */
async function entryKeyFor(target: Target, app: SecurityApp, marker: string): Promise<string> {
  const client = target.redis()
  for (const key of await keysUnder(client, app.prefix as string)) {
    if (!key.startsWith(`${app.prefix}k:`) || (await client.type(key)) !== 'string') continue
    const value = await client.getBuffer(key)
    if (value?.includes(marker)) return key
  }
  throw new Error(`no stored entry mentions ${marker}`)
}

/** Waits until `key` is gone (the core deletes an undecodable value without waiting). */
async function gone(target: Target, key: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if ((await target.redis().exists(key)) === 0) return true
    await sleep(10)
  }
  return false
}

/**
 * The framed entry format (3): 0x00 (raw bytes marker), `CWH\x03`, kind, uint32 BE header length,
 * the header part, the body. The header part: status u16, flags u8, 0 u8, six f64 instants, four
 * u32 counts (header lines, 304 lines, Vary names, tags), the 304 lines' indices (u32), each
 * string's UTF-8 length (u32) in the order key, the optional fields the flags name, each line's
 * name and value, the Vary names and the tags, then the strings. Numbers are little-endian.
 * Read and written here by hand, apart from the codec, as anyone with access to Redis could.
 */
interface PlantedEntry {
  status: number
  lines: Array<[string, string]>
}

function reframe(stored: Buffer, edit: (entry: PlantedEntry) => void): Buffer {
  const start = 10
  const fixed = Buffer.from(stored.subarray(start, start + 68))
  const [lineCount, notModifiedCount, varyCount, tagCount] = [52, 56, 60, 64].map((at) =>
    fixed.readUInt32LE(at)
  ) as [number, number, number, number]
  const flags = fixed[2] as number
  let optionalCount = 0
  for (const flag of [8, 16, 32, 64]) if ((flags & flag) !== 0) optionalCount++
  const indicesAt = start + 68
  const indices = stored.subarray(indicesAt, indicesAt + 4 * notModifiedCount)
  const lengthsAt = indicesAt + 4 * notModifiedCount
  const count = 1 + optionalCount + 2 * lineCount + varyCount + tagCount
  const strings: string[] = []
  let textAt = lengthsAt + 4 * count
  for (let i = 0; i < count; i++) {
    const length = stored.readUInt32LE(lengthsAt + 4 * i)
    strings.push(stored.toString('utf8', textAt, textAt + length))
    textAt += length
  }
  const head = strings.slice(0, 1 + optionalCount)
  const lines: Array<[string, string]> = []
  for (let i = 0; i < lineCount; i++)
    lines.push([strings[head.length + 2 * i] as string, strings[head.length + 2 * i + 1] as string])
  const rest = strings.slice(head.length + 2 * lineCount)
  const entry: PlantedEntry = { status: fixed.readUInt16LE(0), lines }
  edit(entry)
  fixed.writeUInt16LE(entry.status, 0)
  fixed.writeUInt32LE(entry.lines.length, 52)
  const written = [...head, ...entry.lines.flat(), ...rest].map((text) => Buffer.from(text))
  const lengths = Buffer.alloc(4 * written.length)
  written.forEach((bytes, i) => lengths.writeUInt32LE(bytes.length, 4 * i))
  const header = Buffer.concat([fixed, indices, lengths, ...written])
  const prefix = Buffer.from(stored.subarray(0, start))
  prefix.writeUInt32BE(header.length, 6)
  return Buffer.concat([prefix, header, stored.subarray(start + stored.readUInt32BE(6))])
}

eachTarget(
  (target) => {
    const PLANTS: Array<[string, (own: Buffer, foreign: Buffer) => Buffer | string]> = [
      ['garbage bytes', () => Buffer.from([0xff, 0xfe, 0x13, 0x37, 0x00, 0x42])],
      [
        'raw-marked garbage',
        () => Buffer.concat([Buffer.from([0x00]), Buffer.from('not an entry at all')]),
      ],
      ['a truncated entry', (own) => own.subarray(0, Math.floor(own.length / 2))],
      ['a header length past the end', (own) => Buffer.from(own).fill(0x7f, 6, 7)],
      ['a valid entry stored under another key', (_own, foreign) => foreign],
      [
        'JSON with __proto__',
        () =>
          '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"status":200}',
      ],
      [
        'an entry whose header line carries CRLF',
        (own) =>
          reframe(own, (entry) => entry.lines.push(['x-planted', 'a\r\nSet-Cookie: evil=1'])),
      ],
      [
        'an entry with a status out of range',
        (own) => reframe(own, (entry) => void (entry.status = 99)),
      ],
    ]

    for (const [name, plant] of PLANTS) {
      it(`planted ${name}: a miss, deleted, never served, never a crash`, async () => {
        const app = await target.app()
        const client = target.redis()
        const marker = `v=planted-${name.replace(/\W+/g, '-')}`
        await send(app, `/reflect?${marker}`)
        await send(app, '/reflect?v=foreign')
        await app.whenIdle()
        const key = await entryKeyFor(target, app, marker)
        const own = (await client.getBuffer(key)) as Buffer
        const foreign = (await client.getBuffer(
          await entryKeyFor(target, app, 'v=foreign')
        )) as Buffer
        await client.set(key, plant(own, foreign), 'PX', 60_000)
        // A HEAD reads and repairs, and stores nothing: the key must be gone afterwards.
        const head = await send(app, `/reflect?${marker}`, { method: 'HEAD' })
        expect(head.status).toBe(200)
        expect(await gone(target, key)).toBe(true)
        await client.set(key, plant(own, foreign), 'PX', 60_000)
        const res = await send(app, `/reflect?${marker}`)
        expect(res.status).toBe(200)
        expect(isHit(res)).toBe(false)
        expect(res.text).toContain(marker)
        expect(res.text).not.toContain('v=foreign')
        expect(res.headers['x-planted']).toBeUndefined()
        expect(res.headers['set-cookie']).toBeUndefined()
        await app.whenIdle()
        // Repaired: the next request is a hit on a fresh, valid entry.
        const again = await send(app, `/reflect?${marker}`)
        expect(isHit(again), cacheStatus(again)).toBe(true)
        expect(again.text).toBe(res.text)
        expect(app.engine.counters()['corrupt-entry']).toBeGreaterThanOrEqual(2)
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      })
    }

    it('reads and writes the entry layout the plants above edit (an unedited entry comes back byte for byte)', async () => {
      const app = await target.app()
      await send(app, '/reflect?v=layout')
      await app.whenIdle()
      const own = (await target
        .redis()
        .getBuffer(await entryKeyFor(target, app, 'v=layout'))) as Buffer
      expect(reframe(own, () => {})).toEqual(own)
    })

    it('planted: an entry with __proto__ and constructor lines is served without pollution', async () => {
      const app = await target.app()
      const client = target.redis()
      await send(app, '/reflect?v=proto-header')
      await app.whenIdle()
      const key = await entryKeyFor(target, app, 'v=proto-header')
      const own = (await client.getBuffer(key)) as Buffer
      const planted = reframe(own, (entry) =>
        entry.lines.unshift(['__proto__', 'polluted'], ['constructor', 'prototype'])
      )
      await client.set(key, planted, 'PX', 60_000)
      const res = await send(app, '/reflect?v=proto-header')
      expect(res.status).toBe(200)
      expect(res.text).toContain('v=proto-header')
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.getPrototypeOf({})).toBe(Object.prototype)
    })

    it('planted: a Vary index naming another URL is a miss and is deleted', async () => {
      const app = await target.app()
      const client = target.redis()
      await send(app, '/vary-lang?v=index-a', { headers: { 'accept-language': 'en' } })
      await send(app, '/vary-lang?v=index-b', { headers: { 'accept-language': 'en' } })
      await app.whenIdle()
      const keys = await keysUnder(client, app.prefix as string)
      const indexes: Array<[string, Buffer]> = []
      for (const key of keys) {
        if ((await client.type(key)) !== 'string') continue
        const value = (await client.getBuffer(key)) as Buffer
        if (value[5] === 0x56) indexes.push([key, value]) // 'V'
      }
      const a = indexes.find(([, v]) => v.includes('v=index-a'))
      const b = indexes.find(([, v]) => v.includes('v=index-b'))
      expect(a && b).toBeTruthy()
      await client.set((a as [string, Buffer])[0], (b as [string, Buffer])[1], 'PX', 60_000)
      const res = await send(app, '/vary-lang?v=index-a', { headers: { 'accept-language': 'en' } })
      expect(res.text).toBe('lang:en')
      expect(isHit(res)).toBe(false)
      expect(app.engine.counters()['corrupt-entry']).toBeGreaterThanOrEqual(1)
    })

    it('nothing from the request reaches a Redis key: every key under the prefix is a hash', async () => {
      const app = await target.app({ tags: ['products'] })
      const nasty = [
        '/a*b?[x]=\\',
        '/%0d%0aSET%20x%201',
        `/${'long'.repeat(1000)}`,
        '/%C3%BC/%E2%9C%93?q=%F0%9F%98%80',
        '/__proto__?constructor=1',
        '/{{7*7}}?q=${x}',
        '/key with space?x=1',
      ]
      for (const path of nasty) await send(app, path.replace(/ /g, '%20'))
      await rawRequest(
        app.port,
        `GET /raw*[?]{} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`,
        { halfClose: false }
      )
      await send(app, '/vary-lang', { headers: { 'accept-language': 'en*[x]' } })
      await app.whenIdle()
      const keys = await keysUnder(target.redis(), app.prefix as string)
      expect(keys.length).toBeGreaterThan(nasty.length)
      const escaped = (app.prefix as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      const HASHED = new RegExp(
        // `:variants`: the Vary cap's bounded set of a varying URL, under its entry's hash.
        `^${escaped}(?:k:http:[0-9a-f]{64}(?::variants)?|tag:(?:http-url:[0-9a-f]{64}|products))$`
      )
      for (const key of keys) expect(key).toMatch(HASHED)
      for (const key of keys)
        for (const bit of ['long', '*', '[', '{', ' ', '__proto__', 'SET'])
          expect(key.slice((app.prefix as string).length)).not.toContain(bit)
    })
  },
  FRAMEWORKS,
  ['redis']
)

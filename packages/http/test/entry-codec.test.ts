import { describe, expect, it } from 'vitest'
import {
  decodeValue,
  encodeEntry,
  encodeVaryIndex,
  type VaryIndex,
} from '../src/entry/entry-codec.js'
import type { StoredResponse } from '../src/types.js'

const headers = [
  ['content-type', 'text/plain'],
  ['cache-control', 'max-age=60'],
  ['etag', '"e"'],
] as const

const entry: StoredResponse = {
  key: '["cw1","GET","https","example.com","/a",""]',
  status: 200,
  headers,
  notModifiedHeaders: [headers[1], headers[2]],
  body: Buffer.from([0, 1, 2, 255, 0x7b]),
  storedAt: 1000,
  initialAgeMs: 5,
  staleAt: 61_000,
  staleWhileRevalidateUntil: 71_000,
  staleIfErrorUntil: 61_000,
  expiresAt: 71_000,
  etag: '"e"',
  etagGenerated: false,
  lastModified: undefined,
  vary: [],
  tags: ['http-url:x', 'products'],
  upstreamCacheStatus: 'Origin; hit',
  allowMaxStale: true,
  sharedWithAuthorization: false,
}

function corrupt(mutate: (header: Record<string, unknown>) => void, source = entry): Buffer {
  const bytes = encodeEntry(source)
  const length = bytes.readUInt32BE(5)
  const header = JSON.parse(bytes.toString('utf8', 9, 9 + length)) as Record<string, unknown>
  mutate(header)
  const json = Buffer.from(JSON.stringify(header))
  const prefix = Buffer.from(bytes.subarray(0, 9))
  prefix.writeUInt32BE(json.length, 5)
  return Buffer.concat([prefix, json, source.body])
}

describe('entry codec — DESIGN data model', () => {
  it('round-trips an entry, body bytes untouched', () => {
    const decoded = decodeValue(encodeEntry(entry))
    expect(decoded).toEqual({ kind: 'entry', entry })
  })

  it('stores the body raw after the header part (never base64 or JSON of a Buffer)', () => {
    const bytes = encodeEntry(entry)
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x43, 0x57, 0x48, 0x02]))
    expect(bytes.subarray(bytes.length - entry.body.length)).toEqual(entry.body)
    expect(bytes.toString('latin1')).not.toContain('"type":"Buffer"')
  })

  it('returns the body as a zero-copy view of the stored bytes', () => {
    const bytes = encodeEntry(entry)
    const decoded = decodeValue(bytes)
    expect(decoded?.kind === 'entry' && decoded.entry.body.buffer).toBe(bytes.buffer)
  })

  it('round-trips a Vary index', () => {
    const index: VaryIndex = {
      key: 'k',
      vary: ['accept-encoding'],
      variants: ['http:1', 'http:2'],
      expiresAt: 5,
    }
    expect(decodeValue(encodeVaryIndex(index))).toEqual({ kind: 'vary', index })
  })

  const garbage: Array<[string, Uint8Array]> = [
    ['empty', Buffer.alloc(0)],
    ['too short', Buffer.from('CWH')],
    ['wrong magic', Buffer.from('XXXXE\0\0\0\0')],
    [
      'a future format version',
      Buffer.concat([Buffer.from([0x43, 0x57, 0x48, 0x03]), encodeEntry(entry).subarray(4)]),
    ],
    [
      'the previous format version (entries before etagGenerated)',
      Buffer.concat([Buffer.from([0x43, 0x57, 0x48, 0x01]), encodeEntry(entry).subarray(4)]),
    ],
    [
      'unknown kind',
      Buffer.concat([
        encodeEntry(entry).subarray(0, 4),
        Buffer.from('Z'),
        encodeEntry(entry).subarray(5),
      ]),
    ],
    [
      'header length past the end',
      (() => {
        const b = encodeEntry(entry)
        b.writeUInt32BE(1 << 19, 5)
        return b
      })(),
    ],
    [
      'header length absurd',
      (() => {
        const b = encodeEntry(entry)
        b.writeUInt32BE(0xffffffff, 5)
        return b
      })(),
    ],
    ['truncated header JSON', encodeEntry(entry).subarray(0, 30)],
    [
      'JSON that is not an object',
      (() => {
        const json = Buffer.from('[1,2]')
        const p = Buffer.from([0x43, 0x57, 0x48, 0x02, 0x45, 0, 0, 0, json.length])
        return Buffer.concat([p, json])
      })(),
    ],
    [
      'a Vary index with a body',
      Buffer.concat([
        encodeVaryIndex({ key: 'k', vary: [], variants: [], expiresAt: 1 }),
        Buffer.from('x'),
      ]),
    ],
    ['a missing status', corrupt((h) => delete h.status)],
    ['a missing etagGenerated', corrupt((h) => delete h.etagGenerated)],
    ['a status out of range', corrupt((h) => (h.status = 99))],
    ['a string timestamp', corrupt((h) => (h.staleAt = '1'))],
    [
      'a header line with CR/LF (response splitting)',
      corrupt((h) => ((h.headers = [['x', 'a\r\nset-cookie: x=1']]), (h.notModifiedHeaders = []))),
    ],
    [
      'a header name that is not a token',
      corrupt((h) => ((h.headers = [['bad name', 'a']]), (h.notModifiedHeaders = []))),
    ],
    [
      'a header pair of three',
      corrupt((h) => ((h.headers = [['a', 'b', 'c']]), (h.notModifiedHeaders = []))),
    ],
    ['a 304 index out of range', corrupt((h) => (h.notModifiedHeaders = [99]))],
    ['tags that are not strings', corrupt((h) => (h.tags = [1]))],
    ['a vary name that is not a token', corrupt((h) => (h.vary = ['a b']))],
    ['an etag with a newline', corrupt((h) => (h.etag = '"a"\n'))],
    ['a boolean that is a string', corrupt((h) => (h.allowMaxStale = 'true'))],
  ]
  for (const [name, bytes] of garbage) {
    it(`rejects ${name} without throwing`, () => {
      expect(decodeValue(bytes)).toBeUndefined()
    })
  }

  it('accepts the corrupted shape itself when the fields are valid (so the rejections above are about the field)', () => {
    expect(
      decodeValue(corrupt((h) => ((h.headers = [['x', 'a']]), (h.notModifiedHeaders = []))))?.kind
    ).toBe('entry')
  })

  it('never lets stored JSON reach a prototype', () => {
    const bytes = corrupt((h) => {
      Object.defineProperty(h, '__proto__', { value: { polluted: true }, enumerable: true })
      h['constructor'] = { prototype: { polluted: true } }
    })
    const decoded = decodeValue(bytes)
    expect(decoded?.kind).toBe('entry')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(
      (decoded as unknown as { entry: Record<string, unknown> }).entry.polluted
    ).toBeUndefined()
  })

  it('survives random bytes', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(
        Array.from({ length: (i % 40) + 1 }, (_, j) => (i * 31 + j * 17) & 0xff)
      )
      expect(() => decodeValue(bytes)).not.toThrow()
    }
  })
})

describe('decodeValue of many entries', () => {
  it('gives each entry its own values, past the table of shared header texts', () => {
    for (let i = 0; i < 300; i++) {
      const own: StoredResponse = {
        ...entry,
        headers: [
          ['content-type', `text/plain; v=${i}`],
          ['etag', `"e${i}"`],
        ],
        notModifiedHeaders: [],
        etag: i % 2 === 0 ? `"e${i}"` : `"other${i}"`,
      }
      const decoded = decodeValue(encodeEntry(own))
      expect(decoded?.kind === 'entry' && decoded.entry.headers).toEqual(own.headers)
      expect(decoded?.kind === 'entry' && decoded.entry.etag).toBe(own.etag)
    }
  })
})

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

/** An entry encoded from fields the encoder takes as given (so invalid ones reach the decoder). */
function corrupt(mutate: (fields: Record<string, unknown>) => void, source = entry): Buffer {
  const fields: Record<string, unknown> = { ...source }
  mutate(fields)
  return encodeEntry(fields as unknown as StoredResponse)
}

/** The same bytes with one number of the header part (little-endian, `size` bytes at `offset` past the prefix) replaced. */
function patched(offset: number, size: 1 | 2 | 4 | 8, value: number, source = entry): Buffer {
  const bytes = encodeEntry(source)
  const at = 9 + offset
  if (size === 1) bytes[at] = value
  else if (size === 2) bytes.writeUInt16LE(value, at)
  else if (size === 4) bytes.writeUInt32LE(value, at)
  else bytes.writeDoubleLE(value, at)
  return bytes
}

describe('entry codec — DESIGN data model', () => {
  it('round-trips an entry, body bytes untouched', () => {
    const decoded = decodeValue(encodeEntry(entry))
    expect(decoded).toEqual({ kind: 'entry', entry })
  })

  it('stores the body raw after the header part (never base64 or JSON of a Buffer)', () => {
    const bytes = encodeEntry(entry)
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x43, 0x57, 0x48, 0x03]))
    expect(bytes.subarray(bytes.length - entry.body.length)).toEqual(entry.body)
    expect(bytes.toString('latin1')).not.toContain('"type":"Buffer"')
  })

  it('returns the body as a zero-copy view of the stored bytes', () => {
    const bytes = encodeEntry(entry)
    const decoded = decodeValue(bytes)
    expect(decoded?.kind === 'entry' && decoded.entry.body.buffer).toBe(bytes.buffer)
  })

  it("holds the reader's own key string when the stored key is the same text", () => {
    const bytes = encodeEntry(entry)
    const expected = [entry.key].join('')
    const decoded = decodeValue(bytes, expected)
    expect(decoded?.kind === 'entry' && decoded.entry.key).toBe(expected)
    const other = decodeValue(bytes, 'another key')
    expect(other?.kind === 'entry' && other.entry.key).toBe(entry.key)
    const index = { key: 'k', vary: ['accept'], variants: ['h'], expiresAt: 5 }
    const same = decodeValue(encodeVaryIndex(index), ['k'].join(''))
    expect(same).toEqual({ kind: 'vary', index })
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
      Buffer.concat([Buffer.from([0x43, 0x57, 0x48, 0x04]), encodeEntry(entry).subarray(4)]),
    ],
    [
      'the previous format version (a JSON header part)',
      Buffer.concat([Buffer.from([0x43, 0x57, 0x48, 0x02]), encodeEntry(entry).subarray(4)]),
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
    ['a truncated header part', encodeEntry(entry).subarray(0, 30)],
    [
      'a Vary index whose JSON is not an object',
      (() => {
        const json = Buffer.from('[1,2]')
        const p = Buffer.from([0x43, 0x57, 0x48, 0x03, 0x56, 0, 0, 0, json.length])
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
    ['a status out of range', corrupt((h) => (h.status = 99))],
    ['a status past 599', corrupt((h) => (h.status = 600))],
    ['a status past 16 bits (never masked into a valid one)', corrupt((h) => (h.status = 65_736))],
    ['a timestamp that is not a number', corrupt((h) => (h.staleAt = Number.NaN))],
    ['an infinite timestamp', corrupt((h) => (h.expiresAt = Number.POSITIVE_INFINITY))],
    ['an unknown flag', patched(2, 1, 0x80)],
    ['a reserved byte that is not zero', patched(3, 1, 1)],
    [
      'a header line with CR/LF (response splitting)',
      corrupt((h) => ((h.headers = [['x', 'a\r\nset-cookie: x=1']]), (h.notModifiedHeaders = []))),
    ],
    [
      'a header name that is not a token',
      corrupt((h) => ((h.headers = [['bad name', 'a']]), (h.notModifiedHeaders = []))),
    ],
    [
      'a 304 line that is not among the header lines',
      corrupt((h) => (h.notModifiedHeaders = [['x', 'y']])),
    ],
    ['a 304 index out of range', patched(68, 4, 99)],
    ['more header lines than strings', patched(52, 4, 4)],
    ['more tags than strings', patched(64, 4, 3)],
    ['fewer tags than strings (text left over)', patched(64, 4, 1)],
    ['a count past the header part', patched(52, 4, 0xffffffff)],
    ['a string length past the text', patched(68 + 8, 4, 10_000)],
    ['a string length cut short (text left over)', patched(68 + 8, 4, 3)],
    ['a vary name that is not a token', corrupt((h) => (h.vary = ['a b']))],
    ['an etag with a newline', corrupt((h) => (h.etag = '"a"\n'))],
    ['a Last-Modified with a newline', corrupt((h) => (h.lastModified = 'x\r\ny'))],
    ['an upstream Cache-Status with a NUL', corrupt((h) => (h.upstreamCacheStatus = 'a\0'))],
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

  it("never lets a Vary index's JSON reach a prototype", () => {
    const json = Buffer.from(
      '{"key":"k","vary":[],"variants":[],"expiresAt":1,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'
    )
    const prefix = Buffer.from([0x43, 0x57, 0x48, 0x03, 0x56, 0, 0, 0, 0])
    prefix.writeUInt32BE(json.length, 5)
    const decoded = decodeValue(Buffer.concat([prefix, json]))
    expect(decoded?.kind).toBe('vary')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(
      (decoded as unknown as { index: Record<string, unknown> }).index.polluted
    ).toBeUndefined()
  })

  it('keeps optional fields, a route name and text outside ASCII', () => {
    const full: StoredResponse = {
      ...entry,
      key: '["cw4","GET","https","example.com","/caf\u00e9/\u65e5\u672c",""]',
      headers: [
        ...headers,
        ['last-modified', 'Tue, 01 Dec 2026 10:00:00 GMT'],
        ['x-note', 'caf\u00e9'],
      ],
      notModifiedHeaders: [],
      lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT',
      etagGenerated: true,
      allowMaxStale: false,
      sharedWithAuthorization: true,
      vary: ['accept', 'accept-encoding'],
      tags: ['\u00fcber', 'emoji-\u{1f600}', ''],
      route: 'products.list',
      upstreamCacheStatus: undefined,
      etag: undefined,
    }
    expect(decodeValue(encodeEntry(full))).toEqual({ kind: 'entry', entry: full })
  })

  it('drops a route name RouteOptions.name would refuse, and keeps the entry', () => {
    const decoded = decodeValue(corrupt((h) => (h.route = 'bad name!')))
    expect(decoded?.kind).toBe('entry')
    expect(decoded?.kind === 'entry' && 'route' in decoded.entry).toBe(false)
  })

  it('never throws on any truncation or any one byte changed, and decodes only what validates', () => {
    const bytes = encodeEntry({ ...entry, lastModified: 'x', route: 'r' })
    const headerEnd = 9 + bytes.readUInt32BE(5)
    for (let length = 0; length < headerEnd; length++)
      expect(decodeValue(bytes.subarray(0, length))).toBeUndefined()
    for (let at = 0; at < headerEnd; at++) {
      for (const value of [0x00, 0x01, 0x0a, 0x0d, 0x7f, 0xff]) {
        const changed = Buffer.from(bytes)
        changed[at] = value
        let decoded: ReturnType<typeof decodeValue>
        expect(() => (decoded = decodeValue(changed))).not.toThrow()
        if (decoded?.kind !== 'entry') continue
        for (const [name, text] of decoded.entry.headers) {
          expect(name).toMatch(/^[!#$%&'*+\-.^_`|~0-9a-z]+$/)
          expect(text).not.toMatch(/[\r\n\0]/)
        }
        expect(decoded.entry.status).toBeGreaterThanOrEqual(100)
        expect(decoded.entry.status).toBeLessThanOrEqual(599)
      }
    }
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

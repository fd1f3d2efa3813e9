import { describe, expect, it } from 'vitest'
import { analyseResponse, buildStoredResponse } from '../src/entry/entry.js'
import { serveStored } from '../src/flows/serve-stored.js'
import { PreparedWire, wireLines } from '../src/flows/wire-lines.js'
import type { HeaderPair, RequestHeaders } from '../src/types.js'
import { PLAIN_POLICY } from './harness.js'

const NOW = Date.UTC(2025, 0, 1)
const policy = PLAIN_POLICY

function stored(pairs: HeaderPair[], body = 'abcdefghij', status = 200) {
  const all: HeaderPair[] = [
    ['content-type', 'text/plain'],
    ['cache-control', 'max-age=60'],
    ...pairs,
  ]
  const facts = analyseResponse(all, policy, NOW, status)
  return buildStoredResponse(
    {
      key: 'k',
      status,
      pairs: all,
      body: Buffer.from(body),
      facts,
      requestTime: NOW,
      responseTime: NOW,
      tags: [],
    },
    policy
  )
}

function serve(
  headers: RequestHeaders,
  entry = stored([
    ['etag', '"e1"'],
    ['date', 'Wed, 01 Jan 2025 00:00:00 GMT'],
  ]),
  method = 'GET'
) {
  const reply = serveStored(entry, { method, headers }, NOW, 'c; hit', 'hit')
  const header = (name: string): string | undefined => reply.headers.find(([n]) => n === name)?.[1]
  return {
    status: reply.status,
    body: reply.body.toString('latin1'),
    header,
    names: reply.headers.map(([n]) => n),
  }
}

describe('serveStored — Range from the stored full response (RFC 9110 §14, RFC 9111 §3.4)', () => {
  const cases: Array<
    [rfc: string, RequestHeaders, status: number, body: string, contentRange: string | undefined]
  > = [
    ['§14.1.2 first-last', { range: 'bytes=0-1' }, 206, 'ab', 'bytes 0-1/10'],
    ['§14.1.2 suffix', { range: 'bytes=-3' }, 206, 'hij', 'bytes 7-9/10'],
    ['§14.1.2 open-ended', { range: 'bytes=8-' }, 206, 'ij', 'bytes 8-9/10'],
    ['§14.1.2 last-pos past the end is clipped', { range: 'bytes=9-99' }, 206, 'j', 'bytes 9-9/10'],
    ['§14.1 the unit is case-insensitive', { range: 'Bytes=0-0' }, 206, 'a', 'bytes 0-0/10'],
    ['§15.5.17 unsatisfiable: 416 with the length', { range: 'bytes=10-' }, 416, '', 'bytes */10'],
    ['§14.2 an unknown unit is ignored', { range: 'items=0-1' }, 200, 'abcdefghij', undefined],
    ['§14.2 an invalid range is ignored', { range: 'bytes=3-1' }, 200, 'abcdefghij', undefined],
    [
      '§13.1.5 If-Range with the strong ETag',
      { range: 'bytes=0-1', 'if-range': '"e1"' },
      206,
      'ab',
      'bytes 0-1/10',
    ],
    [
      '§13.1.5 If-Range with another ETag: full',
      { range: 'bytes=0-1', 'if-range': '"e2"' },
      200,
      'abcdefghij',
      undefined,
    ],
    [
      '§13.1.5 If-Range with a weak ETag never matches',
      { range: 'bytes=0-1', 'if-range': 'W/"e1"' },
      200,
      'abcdefghij',
      undefined,
    ],
    [
      '§13.2.2 a matching If-None-Match is answered first (304)',
      { range: 'bytes=0-1', 'if-none-match': '"e1"' },
      304,
      '',
      undefined,
    ],
  ]
  for (const [rfc, headers, status, body, contentRange] of cases) {
    it(rfc, () => {
      const reply = serve(headers)
      expect([reply.status, reply.body, reply.header('content-range')]).toEqual([
        status,
        body,
        contentRange,
      ])
      expect(reply.names.slice(-2)).toEqual(['age', 'cache-status'])
    })
  }

  it('a 206 keeps the stored fields and gives the part its own Content-Length', () => {
    const reply = serve({ range: 'bytes=2-4' })
    expect([
      reply.header('content-type'),
      reply.header('etag'),
      reply.header('cache-control'),
      reply.header('content-length'),
    ]).toEqual(['text/plain', '"e1"', 'max-age=60', '3'])
  })

  it('§14.6 several ranges far apart: multipart/byteranges with an unpredictable boundary', () => {
    const entry = stored([], 'x'.repeat(300))
    const first = serve({ range: 'bytes=0-0,200-200' }, entry)
    const second = serve({ range: 'bytes=0-0,200-200' }, entry)
    expect(first.status).toBe(206)
    expect(first.header('content-type')).toMatch(/^multipart\/byteranges; boundary=[0-9a-f]{24}$/)
    expect(first.header('content-type')).not.toBe(second.header('content-type'))
    expect(first.body).toContain('Content-Range: bytes 200-200/300')
  })

  it('§14.2 only GET has ranges; a HEAD gets the full head, no body', () => {
    const head = serve({ range: 'bytes=0-1' }, undefined, 'HEAD')
    expect([head.status, head.body, head.header('content-length')]).toEqual([200, '', '10'])
  })

  it('only a stored 200 is a representation to take ranges of', () => {
    const notFound = serve({ range: 'bytes=0-1' }, stored([], 'missing', 404))
    expect([notFound.status, notFound.body]).toEqual([404, 'missing'])
  })

  it('§14.3 a stored 200 says Accept-Ranges: bytes; a handler that said none is answered in full', () => {
    expect(serve({}).header('accept-ranges')).toBe('bytes')
    const none = serve({ range: 'bytes=0-1' }, stored([['accept-ranges', 'none']]))
    expect([none.status, none.header('accept-ranges')]).toEqual([200, 'none'])
  })
})

describe('serveStored — the lines of a full response', () => {
  const full = (entry: ReturnType<typeof stored>, now: number, status = 'c; hit') =>
    serveStored(entry, { method: 'GET', headers: {} }, now, status, 'hit').headers

  it('are kept by the entry only once it is hit often within a second, and only for that second', () => {
    const entry = stored([['etag', '"e1"']])
    const first = Array.from({ length: 7 }, () => full(entry, NOW + 500))
    // Each of the first hits of a second gets its own lines: a key hit about once a second keeps
    // nothing that would outlive a young-generation collection.
    expect(new Set(first).size).toBe(7)
    const kept = full(entry, NOW + 500)
    expect(full(entry, NOW + 600)).toBe(kept)
    expect(kept).toEqual([...first[0]!])
    expect(kept.slice(-2)).toEqual([
      ['age', '0'],
      ['cache-status', 'c; hit'],
    ])
    // A new second (Age 1) or another Cache-Status starts over.
    const later = full(entry, NOW + 1500)
    expect(later).not.toBe(kept)
    expect(later.find(([name]) => name === 'age')?.[1]).toBe('1')
    expect(full(entry, NOW + 1500, 'c; hit; ttl=5')).not.toBe(
      full(entry, NOW + 1500, 'c; hit; ttl=5')
    )
  })

  it('give their wire forms for a hit not kept, also when another reply was prepared since', () => {
    const plain = stored([['etag', '"a"']])
    const linked = stored([
      ['link', '</a.css>; rel=preload'],
      ['link', '</b.js>; rel=preload'],
    ])
    const first = full(plain, NOW + 500)
    const second = full(linked, NOW + 500)
    const kept = (() => {
      for (let i = 0; i < 7; i++) full(plain, NOW + 2500)
      return full(plain, NOW + 2500)
    })()
    for (const [lines, repeats] of [
      [second, true],
      [first, false],
      [kept, false],
    ] as const) {
      const wire = wireLines(lines)
      expect(wire.raw).toEqual(lines.flat())
      expect(wire.names).toEqual(new Set(lines.map(([name]) => name)))
      expect(wire.repeats).toBe(repeats)
      expect(wire.contentLength).toBe('10')
      const record = wire.record
      // No inherited name reads as a header.
      for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
        expect(record[name]).toBeUndefined()
      expect(Object.keys(record)).toEqual([...new Set(lines.map(([name]) => name))])
    }
    expect(Object.isFrozen(kept)).toBe(true)
    expect(wireLines(second).record['link']).toEqual([
      'link',
      ['</a.css>; rel=preload', '</b.js>; rel=preload'],
    ])
    expect(wireLines(first).record['etag']).toEqual(['etag', '"a"'])
  })

  it('are marked checked only when every line passes the checks Node makes of a header it is given', () => {
    const plain = stored([['etag', '"e1"']])
    expect(wireLines(full(plain, NOW + 500)).checked).toBe(true)
    // Kept lines are checked once for the entry, and stay so.
    for (let i = 0; i < 8; i++) full(plain, NOW + 2500)
    expect(wireLines(full(plain, NOW + 2500)).checked).toBe(true)
    // Bytes from a store can hold what no handler could have set: Node must check those lines.
    for (const bad of [
      ['x-split', 'a\r\nset-cookie: b=c'],
      ['x-nul', 'a\u0000b'],
      ['bad name', 'v'],
      ['', 'v'],
    ] as HeaderPair[]) {
      const entry = stored([['etag', '"e1"']])
      ;(entry.headers as HeaderPair[]).push(bad)
      expect(wireLines(full(entry, NOW + 500)).checked).toBe(false)
    }
    // So must a Cache-Status line whose upstream member holds a control character.
    const upstream = stored([['etag', '"e1"']])
    ;(upstream as { upstreamCacheStatus: string }).upstreamCacheStatus = 'origin\nx-a: b'
    expect(wireLines(full(upstream, NOW + 500)).checked).toBe(false)
    // A good status in a later second is checked again, and passes.
    expect(wireLines(full(plain, NOW + 9500, 'c; hit; ttl=50')).checked).toBe(true)
    // Lines not prepared from an entry (a 304, a 206) are left to Node.
    expect(wireLines([['etag', '"e1"']]).checked).toBe(false)
  })

  it("give hits that share lines one frozen record of them, as Node's response keeps headers", () => {
    const linked = stored([
      ['link', '</a.css>; rel=preload'],
      ['link', '</b.js>; rel=preload'],
    ])
    for (let i = 0; i < 7; i++) full(linked, NOW + 500)
    const kept = full(linked, NOW + 500)
    const record = wireLines(kept).record
    // The next hit of that second reads the same record; nothing a reader does to it can change it.
    expect(wireLines(full(linked, NOW + 600)).record).toBe(record)
    expect(Object.isFrozen(record)).toBe(true)
    const link = record['link'] as readonly [string, string[]]
    expect(Object.isFrozen(link)).toBe(true)
    expect(() => link[1].push('</c.js>')).toThrow(TypeError)
    expect(record['age']).toEqual(['age', '0'])
    // A hit not kept gets a record of its own, as `setHeader` would have made it: not frozen.
    const own = wireLines(full(linked, NOW + 1500)).record
    expect(own).not.toBe(record)
    expect(Object.isFrozen(own)).toBe(false)
  })
})

describe('serveStored — the body text of a busy entry', () => {
  /** Every byte value, four times: latin1 text must give each back as it was. */
  const EVERY_BYTE = Array.from({ length: 1024 }, (_, i) => String.fromCharCode(i % 256)).join('')
  const entryOf = (body: string) => {
    const entry = stored([['etag', '"e1"']])
    ;(entry as { body: Buffer }).body = Buffer.from(body, 'latin1')
    return entry
  }
  /** The wire of the lines the entry's hits share at `now`, after the hits that make it keep them. */
  const busyWire = (entry: ReturnType<typeof stored>, now: number) => {
    let lines = serveStored(entry, { method: 'GET', headers: {} }, now, 'c; hit', 'hit').headers
    for (let i = 0; i < 8; i++)
      lines = serveStored(entry, { method: 'GET', headers: {} }, now, 'c; hit', 'hit').headers
    const wire = wireLines(lines)
    expect(wire).toBeInstanceOf(PreparedWire)
    return wire as PreparedWire
  }
  // Seconds of their own, far from other tests': texts are let go by the wall-clock second.
  const at = (second: number) => NOW + 1_000_000 + second * 1000 + 250

  it('is made once for the hits that share lines, byte for byte, and only for that body', () => {
    const entry = entryOf(EVERY_BYTE)
    const first = serveStored(entry, { method: 'GET', headers: {} }, at(0), 'c; hit', 'hit')
    // A hit not kept makes its own text when sent: its wire holds none.
    expect((wireLines(first.headers) as PreparedWire).bodyText(entry.body)).toBeUndefined()
    const wire = busyWire(entry, at(0))
    const text = wire.bodyText(entry.body)
    expect(text).toBeDefined()
    expect(Buffer.from(text as string, 'latin1').equals(entry.body)).toBe(true)
    expect(wire.bodyText(Buffer.from(EVERY_BYTE, 'latin1'))).toBeUndefined()
  })

  it('is let go two seconds on, or when the clock jumps, so a once busy entry keeps no copy', () => {
    const earlyEntry = entryOf('early one')
    const kept = busyWire(earlyEntry, at(20))
    busyWire(entryOf('a second on'), at(21))
    // The second after, the early lines may still be current (Age moves per entry, not by the clock).
    expect(kept.bodyText(earlyEntry.body)).toBe('early one')
    busyWire(entryOf('two seconds on'), at(22))
    expect(kept.bodyText(earlyEntry.body)).toBeUndefined()
    // A clock that goes back (or jumps ahead) lets every held text go.
    const entry = entryOf('before the jump')
    const held = busyWire(entry, at(30))
    busyWire(entryOf('after the jump'), at(5))
    expect(held.bodyText(entry.body)).toBeUndefined()
    const lastEntry = entryOf('made the second before the jump')
    const last = busyWire(lastEntry, at(61))
    busyWire(entryOf('three seconds on'), at(64))
    expect(last.bodyText(lastEntry.body)).toBeUndefined()
  })

  it('is not made for an empty body, a body sent as bytes, or past 256 busy entries a second', () => {
    const empty = entryOf('')
    expect(busyWire(empty, at(40)).bodyText(empty.body)).toBeUndefined()
    const large = entryOf('x'.repeat(2 * 1024 + 1))
    expect(busyWire(large, at(40)).bodyText(large.body)).toBeUndefined()
    const entries = Array.from({ length: 257 }, (_, i) => entryOf(`body ${i}`))
    const wires = entries.map((entry) => busyWire(entry, at(50)))
    expect(wires[255]?.bodyText(entries[255]!.body)).toBe('body 255')
    expect(wires[256]?.bodyText(entries[256]!.body)).toBeUndefined()
  })
})

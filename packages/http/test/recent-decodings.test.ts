import { describe, expect, it } from 'vitest'
import { encodeEntry } from '../src/entry/entry-codec.js'
import { RecentDecodings } from '../src/entry/recent-decodings.js'
import type { StoredResponse } from '../src/types.js'

function stored(key: string, body: string): Buffer {
  const headers = [['content-type', 'text/plain']] as const
  const entry: StoredResponse = {
    key,
    status: 200,
    headers,
    notModifiedHeaders: [],
    body: Buffer.from(body),
    storedAt: 1000,
    initialAgeMs: 0,
    staleAt: 61_000,
    staleWhileRevalidateUntil: 61_000,
    staleIfErrorUntil: 61_000,
    expiresAt: 61_000,
    etag: undefined,
    etagGenerated: false,
    lastModified: undefined,
    vary: [],
    tags: [],
    upstreamCacheStatus: undefined,
    allowMaxStale: true,
    sharedWithAuthorization: false,
  }
  return encodeEntry(entry)
}

/** What a network read hands over: new bytes each time, a view into a larger buffer. */
function networkRead(bytes: Buffer): Uint8Array {
  const socketBuffer = Buffer.alloc(bytes.length + 64)
  bytes.copy(socketBuffer, 32)
  return socketBuffer.subarray(32, 32 + bytes.length)
}

function bodyOf(decoded: ReturnType<RecentDecodings['decode']>): string | undefined {
  return decoded?.kind === 'entry' ? Buffer.from(decoded.entry.body).toString() : undefined
}

describe('RecentDecodings', () => {
  it('keeps a key read twice and hands back its decoding while the bytes stay the same', () => {
    const recent = new RecentDecodings()
    const bytes = stored('k', 'one')
    expect(bodyOf(recent.decode('k', networkRead(bytes)))).toBe('one')
    expect(recent.size).toBe(0)
    const kept = recent.decode('k', networkRead(bytes))
    expect(recent.size).toBe(1)
    expect(recent.decode('k', networkRead(bytes))).toBe(kept)
    expect(recent.bytes).toBe(bytes.length)
  })

  it('decodes the new bytes once the stored value changes', () => {
    const recent = new RecentDecodings()
    const first = stored('k', 'one')
    recent.decode('k', networkRead(first))
    const kept = recent.decode('k', networkRead(first))
    const changed = recent.decode('k', networkRead(stored('k', 'two')))
    expect(changed).not.toBe(kept)
    expect(bodyOf(changed)).toBe('two')
    expect(bodyOf(recent.decode('k', networkRead(stored('k', 'two'))))).toBe('two')
    expect(recent.size).toBe(1)
  })

  it('keeps no view into the buffer a read came in', () => {
    const recent = new RecentDecodings()
    const bytes = stored('k', 'one')
    recent.decode('k', networkRead(bytes))
    const read = networkRead(bytes)
    const decoded = recent.decode('k', read)
    expect(decoded?.kind === 'entry' && decoded.entry.body.buffer).not.toBe(read.buffer)
  })

  it('keeps nothing of a value that does not decode', () => {
    const recent = new RecentDecodings()
    const garbage = Buffer.from('not an entry at all')
    expect(recent.decode('k', garbage)).toBeUndefined()
    expect(recent.decode('k', garbage)).toBeUndefined()
    expect(recent.size).toBe(0)
  })

  it('stays within its bounds, and a key read often outlasts a flood of keys read twice', () => {
    const recent = new RecentDecodings()
    const hotBytes = stored('hot', 'hot')
    recent.decode('hot', networkRead(hotBytes))
    const hot = recent.decode('hot', networkRead(hotBytes))
    let hotDecodedAgain = 0
    for (let i = 0; i < 5_000; i++) {
      const bytes = stored(`cold:${i}`, 'x'.repeat(2_000))
      recent.decode(`cold:${i}`, networkRead(bytes))
      recent.decode(`cold:${i}`, networkRead(bytes))
      if (recent.decode('hot', networkRead(hotBytes)) !== hot) hotDecodedAgain++
    }
    expect(hotDecodedAgain).toBe(0)
    expect(recent.size).toBeLessThanOrEqual(1024)
    expect(recent.bytes).toBeLessThanOrEqual(8 * 1024 * 1024)
  })
})

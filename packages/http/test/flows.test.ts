import { describe, expect, it } from 'vitest'
import { Coalescer, COALESCE_TIMEOUT } from '../src/flows/coalesce.js'
import { ForcedRevalidationGate } from '../src/flows/forced-revalidation-gate.js'
import { createForwardOutcome, type ForwardParams } from '../src/flows/forward.js'
import { invalidationTags, type InvalidationBase } from '../src/flows/invalidation.js'
import { originReply } from '../src/flows/origin-reply.js'
import { gatewayTimeout } from '../src/flows/serve-stored.js'
import {
  decideStored,
  isOriginError,
  withinStaleIfError,
  withinStaleWhileRevalidate,
} from '../src/flows/stale.js'
import { urlTag } from '../src/request/cache-key.js'
import { compileIgnoreList } from '../src/request/query.js'
import { parseCacheControl } from '../src/semantics/cache-control.js'
import type { StoredResponse } from '../src/types.js'

describe('ForcedRevalidationGate — client-forced revalidations, bounded (RFC 9111 §5.2.1, issue 14)', () => {
  it('admits one per key per interval; other keys and later intervals are free', () => {
    const gate = new ForcedRevalidationGate(1000, 100)
    expect(gate.admit('a', 0)).toBe(true)
    expect(gate.admit('a', 999)).toBe(false)
    expect(gate.admit('b', 999)).toBe(true)
    expect(gate.admit('a', 1000)).toBe(true)
    expect(gate.admit('a', 1500)).toBe(false)
  })

  it('a clock that went back starts a new interval', () => {
    const gate = new ForcedRevalidationGate(1000, 100)
    expect(gate.admit('a', 5000)).toBe(true)
    expect(gate.admit('a', 4000)).toBe(true)
  })

  it('is bounded: past maxKeys, old keys are forgotten, and while all are recent new ones are refused', () => {
    const gate = new ForcedRevalidationGate(1000, 2)
    expect(gate.admit('a', 0)).toBe(true)
    expect(gate.admit('b', 10)).toBe(true)
    expect(gate.admit('c', 20)).toBe(false)
    expect(gate.admit('c', 1005)).toBe(true)
    expect(gate.admit('d', 1006)).toBe(false)
    expect(gate.admit('d', 1011)).toBe(true)
    expect(gate.admit('e', 1012)).toBe(false)
  })
})

describe('Coalescer', () => {
  it('the first caller leads; later callers wait and get the settled value', async () => {
    const coalescer = new Coalescer<string>(1000, Date.now)
    expect(coalescer.join('k')).toBeUndefined()
    const leader = coalescer.lead('k')
    const waiting = coalescer.join('k')
    leader.settle('value')
    expect(await waiting).toBe('value')
    expect(coalescer.size).toBe(0)
  })

  it('settles once; instances never share state', async () => {
    const a = new Coalescer<string>(1000, Date.now)
    const b = new Coalescer<string>(1000, Date.now)
    const leader = a.lead('k')
    expect(b.join('k')).toBeUndefined()
    const waiting = a.join('k')
    leader.settle(undefined)
    leader.settle('late')
    expect(await waiting).toBeUndefined()
  })

  it('a waiter times out after timeoutMs', async () => {
    // The clock stands still, so the waiter joins a live leader however long the host takes
    // between the two calls (with Date.now, a pause of 3 ms in between made `join` find the
    // leader already expired); the leader's timer alone ends the wait.
    const coalescer = new Coalescer<string>(3, () => 0)
    coalescer.lead('k')
    expect(await coalescer.join('k')).toBe(COALESCE_TIMEOUT)
    expect(coalescer.size).toBe(0)
  })

  it('a leader that never settles is forgotten after timeoutMs even if nobody waits', async () => {
    const coalescer = new Coalescer<string>(2, Date.now)
    coalescer.lead('k')
    expect(coalescer.size).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(coalescer.size).toBe(0)
  })

  it('a request whose lookup began before a run settled shares it afterwards; one that began later does not', async () => {
    const coalescer = new Coalescer<string>(1000, Date.now)
    const early = coalescer.ticket()
    const leader = coalescer.lead('k')
    leader.settle('value')
    const late = coalescer.ticket()
    expect(await coalescer.join('k', early)).toBe('value')
    expect(coalescer.join('k', late)).toBeUndefined()
    expect(coalescer.join('k')).toBeUndefined()
    coalescer.forgetSettled()
    expect(coalescer.join('k', early)).toBeUndefined()
  })

  it('made with keepsSettled false, keeps nothing for late joiners until a lookup went asynchronous', async () => {
    const coalescer = new Coalescer<string>(1000, Date.now, false)
    const early = coalescer.ticket()
    coalescer.lead('k').settle('first')
    expect(coalescer.keptSettled).toBe(0)
    expect(coalescer.join('k', early)).toBeUndefined()
    coalescer.lookupWentAsync()
    const later = coalescer.ticket()
    expect(later).toBe(early + 1)
    coalescer.lead('k').settle('second')
    expect(coalescer.keptSettled).toBe(1)
    expect(await coalescer.join('k', later)).toBe('second')
  })

  it('a run that settled with nothing reusable is not shared afterwards', () => {
    const coalescer = new Coalescer<string>(1000, Date.now)
    const early = coalescer.ticket()
    coalescer.lead('k').settle(undefined)
    expect(coalescer.join('k', early)).toBeUndefined()
  })

  it('keeps the last 1,024 settled values, oldest out first; a key settled again is the newest', async () => {
    const now = 0
    const coalescer = new Coalescer<string>(1000, () => now)
    const early = coalescer.ticket()
    for (let i = 0; i < 1024; i++) coalescer.lead(`k${i}`).settle(`v${i}`)
    coalescer.lead('k0').settle('v0 again')
    coalescer.lead('k1024').settle('v1024')
    expect(coalescer.join('k1', early)).toBeUndefined()
    expect(await coalescer.join('k0', early)).toBe('v0 again')
    expect(await coalescer.join('k2', early)).toBe('v2')
    expect(await coalescer.join('k1024', early)).toBe('v1024')
  })

  it('a settled value older than timeoutMs is not shared', () => {
    let now = 0
    const coalescer = new Coalescer<string>(100, () => now)
    const early = coalescer.ticket()
    coalescer.lead('a').settle('old')
    now = 100
    coalescer.lead('b').settle('new')
    expect(coalescer.join('a', early)).toBeUndefined()
    expect(coalescer.join('b', early)).toBeInstanceOf(Promise)
  })

  it('drops settled values once they are older than timeoutMs, when the next run settles', () => {
    let now = 0
    const coalescer = new Coalescer<string>(100, () => now)
    const settleAt = (at: number, key: string): number => {
      now = at
      coalescer.lead(key).settle(key)
      return coalescer.settledSize
    }
    const runs: [number, string][] = [
      [0, 'a'],
      [40, 'b'],
      [99, 'c'],
      [100, 'd'], // `a` is 100 ms old and goes; `b` and `c` stay
      [140, 'e'], // `b` goes
      [50, 'f'], // a clock that stepped back: `f` waits behind the values ahead of it
      [150, 'g'], // the head (`c`, 51 ms) is young: nothing goes, `f` included
      [250, 'h'], // everything before is 100 ms old or more
    ]
    expect(runs.map(([at, key]) => settleAt(at, key))).toEqual([1, 2, 3, 3, 3, 4, 5, 1])
    coalescer.forgetSettled()
    expect(coalescer.settledSize).toBe(0)
  })

  it('a leader older than timeoutMs is forgotten', () => {
    let now = 0
    const coalescer = new Coalescer<string>(100, () => now)
    coalescer.lead('k')
    now = 101
    expect(coalescer.join('k')).toBeUndefined()
    expect(coalescer.size).toBe(0)
  })
})

describe('invalidationTags(status, headers, base, query) — RFC 9111 §4.4', () => {
  const base: InvalidationBase = {
    protocol: 'https',
    authority: 'example.com',
    path: '/items',
    query: '',
  }
  const query = { sort: true, ignore: compileIgnoreList(['utm_*']) }
  const own = urlTag('example.com', '/items', '')

  it.each([[100], [404], [500]])('a %i invalidates nothing', (status) => {
    expect(invalidationTags(status, [], base, query)).toEqual([])
  })
  it.each([[200], [201], [204], [303]])('a %i invalidates the target URI', (status) => {
    expect(invalidationTags(status, [], base, query)).toEqual([own])
  })
  it('also Location and Content-Location on the same host, relative or absolute, query normalised', () => {
    const tags = invalidationTags(
      201,
      [
        ['location', '/items/7?b=2&a=1&utm_x=1'],
        ['content-location', 'http://EXAMPLE.com/items/8'],
      ],
      base,
      query
    )
    expect(tags).toEqual([
      own,
      urlTag('example.com', '/items/7', 'a=1&b=2'),
      urlTag('example.com', '/items/8', ''),
    ])
  })
  it('never another host, and ignores unparsable values', () => {
    expect(
      invalidationTags(
        201,
        [
          ['location', 'https://evil.com/items'],
          ['content-location', 'http://[bad'],
        ],
        base,
        query
      )
    ).toEqual([own])
  })
})

describe('stale decisions — RFC 9111 §4.2.4, RFC 5861', () => {
  const entry = {
    storedAt: 0,
    initialAgeMs: 0,
    staleAt: 10_000,
    staleWhileRevalidateUntil: 20_000,
    staleIfErrorUntil: 30_000,
    allowMaxStale: true,
  } as StoredResponse
  const policy = { respectRequest: true, canRefresh: true }

  it.each([
    [5_000, {}, { action: 'serve' }],
    [15_000, {}, { action: 'serve-stale-and-refresh' }],
    [25_000, {}, { action: 'revalidate', fwd: 'stale' }],
    [5_000, { 'no-cache': true }, { action: 'revalidate', fwd: 'request' }],
  ] as const)('at %i with %j → %j', (now, cc, expected) => {
    expect(decideStored(entry, cc, now, policy)).toEqual(expected)
  })

  it('stale-while-revalidate needs a way to refresh in the background', () => {
    expect(
      decideStored(entry, parseCacheControl(undefined), 15_000, { ...policy, canRefresh: false })
    ).toEqual({ action: 'revalidate', fwd: 'stale' })
  })

  it('windows', () => {
    expect(withinStaleWhileRevalidate(entry, 9_999)).toBe(false)
    expect(withinStaleWhileRevalidate(entry, 19_999)).toBe(true)
    expect(withinStaleIfError(entry, 29_999)).toBe(true)
    expect(withinStaleIfError(entry, 30_000)).toBe(false)
    expect(withinStaleIfError({ ...entry, staleIfErrorUntil: 10_000 }, 5_000)).toBe(false)
    expect([499, 500, 503, 599, 600].map(isOriginError)).toEqual([false, true, true, true, false])
  })
})

describe('forward outcome patch', () => {
  const params: ForwardParams = {
    kind: 'miss',
    reason: undefined,
    requestHeaders: {},
    clientHeaders: { 'if-none-match': '"a"' },
    captureBody: true,
    maxBodyBytes: 10,
    unsafeMethod: false,
    surrogateKeyHeader: 'surrogate-key',
    clock: () => Date.UTC(2025, 0, 1),
    head: (status) => ({ member: `c; fwd-status=${status}`, capture: true, fields: [] }),
    finish: async () => {},
    adopt: () => {},
    release: () => {},
  }

  it('strips the surrogate-key field and sets Cache-Status after upstream members', () => {
    const patch = createForwardOutcome({ ...params, clientHeaders: {} }).patch(200, {
      'surrogate-key': 'a',
      'cache-status': 'up',
    })
    expect(patch).toEqual({
      status: 200,
      remove: ['surrogate-key'],
      set: [['cache-status', 'up, c; fwd-status=200']],
      omitBody: false,
      captureBody: true,
    })
  })

  it("turns a 2xx matching the client's conditional into a bodiless 304 with the §15.4.5 fields", () => {
    const patch = createForwardOutcome(params).patch(200, {
      etag: '"a"',
      'content-type': 'text/plain',
      'content-length': '3',
      'cache-control': 'max-age=1',
    })
    expect(patch).toEqual({
      status: 304,
      remove: ['content-type', 'content-length'],
      set: [['cache-status', 'c; fwd-status=200']],
      omitBody: true,
      captureBody: true,
    })
  })

  it('does not answer conditionals on a bypass, and finish runs once', async () => {
    let finished = 0
    const outcome = createForwardOutcome({
      ...params,
      clientHeaders: undefined,
      finish: async () => void finished++,
    })
    expect(outcome.patch(200, { etag: '"a"' }).status).toBe(200)
    await Promise.all([outcome.finish(undefined), outcome.finish(undefined)])
    expect(finished).toBe(1)
  })
})

describe('originReply / gatewayTimeout', () => {
  it('removes hop-by-hop and surrogate-key fields, adds Content-Length and Cache-Status', () => {
    const reply = originReply(
      { method: 'GET', headers: {} },
      {
        status: 200,
        pairs: [
          ['transfer-encoding', 'chunked'],
          ['surrogate-key', 'a'],
          ['set-cookie', 'x=1'],
        ],
        body: Buffer.from('abc'),
      },
      'c',
      'surrogate-key',
      Date.UTC(2025, 0, 1)
    )
    expect(reply).toEqual({
      kind: 'response',
      status: 200,
      headers: [
        ['set-cookie', 'x=1'],
        ['content-length', '3'],
        ['cache-status', 'c'],
      ],
      body: Buffer.from('abc'),
    })
  })

  it("answers the client's conditional and HEAD", () => {
    const notModified = originReply(
      { method: 'GET', headers: { 'if-none-match': '"a"' } },
      { status: 200, pairs: [['etag', '"a"']], body: Buffer.from('abc') },
      'c',
      undefined,
      Date.UTC(2025, 0, 1)
    )
    expect([notModified.kind, notModified.status, notModified.body.length]).toEqual([
      'not-modified',
      304,
      0,
    ])
    const head = originReply(
      { method: 'HEAD', headers: {} },
      { status: 200, pairs: [], body: Buffer.from('abc') },
      'c',
      undefined,
      Date.UTC(2025, 0, 1)
    )
    expect([head.body.length, head.headers[0]]).toEqual([0, ['content-length', '3']])
  })

  it('RFC 9111 §5.2.1.7: 504 for only-if-cached', () => {
    expect(gatewayTimeout('c')).toMatchObject({ kind: 'response', status: 504 })
  })
})

import { describe, expect, it } from 'vitest'
import { marksPrivate, type ArmorInput } from '../src/flows/deception-armor.js'
import { refreshContext } from '../src/flows/refresh-request.js'
import type { RequestContext } from '../src/request/prepare-request.js'
import type { HeaderPair, StoredResponse } from '../src/types.js'

describe('marksPrivate(input) — deception armor (issue 14)', () => {
  const base: ArmorInput = {
    enabled: true,
    headers: {},
    scope: 'shared',
    stored: false,
    pairs: [['content-type', 'text/html']],
  }
  const cases: Array<[string, Partial<ArmorInput>, boolean]> = [
    ['an anonymous request: left alone', {}, false],
    ['a Cookie, not stored: private', { headers: { cookie: 'sid=1' } }, true],
    ['Authorization, not stored: private', { headers: { authorization: 'Bearer a' } }, true],
    [
      'a Cookie, stored for everyone (allowCookies): left as its hits will be',
      { headers: { cookie: 'sid=1' }, stored: true },
      false,
    ],
    [
      'the handler set Cache-Control itself: its word wins',
      { headers: { cookie: 'sid=1' }, pairs: [['cache-control', 'no-cache']] as HeaderPair[] },
      false,
    ],
    [
      "scope: 'private', stored: private (a per-user entry)",
      { scope: 'private', stored: true },
      true,
    ],
    ["scope: 'private', not stored: private", { scope: 'private' }, true],
    ['turned off', { enabled: false, headers: { cookie: 'sid=1' } }, false],
  ]
  for (const [name, input, expected] of cases) {
    it(name, () => expect(marksPrivate({ ...base, ...input })).toBe(expected))
  }
})

describe("refreshContext(context, entry, keyed) — a background refresh carries no one's credentials (RFC 5861 §3, issue 14)", () => {
  const headers = {
    accept: 'text/html',
    cookie: 'sid=alice',
    authorization: 'Bearer alice',
    'proxy-authorization': 'Basic x',
    'accept-language': 'en',
  }
  const context = {
    request: { method: 'GET', url: '/a', headers, host: 'example.com', protocol: 'https' },
    scope: 'shared',
    authorization: true,
  } as unknown as RequestContext
  const entry = (vary: string[]): StoredResponse => ({ vary }) as unknown as StoredResponse

  it("drops Authorization, Proxy-Authorization and Cookie from a shared entry's refresh, and judges it as anonymous", () => {
    const own = refreshContext(context, entry(['accept-language']), [])
    expect(own.request.headers).toEqual({ accept: 'text/html', 'accept-language': 'en' })
    expect(own.authorization).toBe(false)
    expect(context.request.headers.cookie).toBe('sid=alice')
  })

  it('keeps what the key holds: a field the entry Varies on, a keyed header', () => {
    const own = refreshContext(context, entry(['cookie']), ['authorization'])
    expect(own.request.headers).toEqual({
      accept: 'text/html',
      cookie: 'sid=alice',
      authorization: 'Bearer alice',
      'accept-language': 'en',
    })
    expect(own.authorization).toBe(true)
  })

  it("keeps everything for a scope: 'private' entry, which is that user's own", () => {
    const own = refreshContext({ ...context, scope: 'private' }, entry([]), [])
    expect(own).toEqual({ ...context, scope: 'private' })
  })
})

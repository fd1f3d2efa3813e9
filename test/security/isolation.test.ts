/**
 * Leakage between users: web cache deception (Gil 2017), Set-Cookie replay (apicache #179),
 * credentials during coalescing, conditional requests across users on a per-user cache, and
 * random request sequences from several users (fast-check). The app behind the cache is naive on
 * purpose (see harness.ts): a lax `/me` prefix route that marks private pages public.
 */
import fc from 'fast-check'
import { expect, it } from 'vitest'
import {
  cacheStatus,
  eachTarget,
  isHit,
  keysUnder,
  send,
  userOf,
  type SecurityApp,
  type SuiteCacheOptions,
  storedMiss,
} from './harness.js'

/** `scope: 'private'`, keyed by the user the request claims (cookie or bearer token). */
const PRIVATE: SuiteCacheOptions = { safety: { scope: 'private', privateKey: userOf } }

const DECEPTION_PATHS = [
  '/me',
  '/me/x.css',
  '/me.css',
  '/me;x.css',
  '/me%2Fx.css',
  '/me%3Fx.css',
  '/me/..%2Fx.css',
  '/me/',
  '/ME',
  '/Me/x.CSS',
]

const CREDENTIALS: Array<[string, Record<string, string>]> = [
  ['a cookie', { cookie: 'sid=alice' }],
  ['Authorization', { authorization: 'Bearer alice' }],
]

eachTarget((target) => {
  for (const [config, options] of [
    ['default options with a ttl', { ttl: '1m' }],
    ["scope: 'private' with a ttl", { ...PRIVATE, ttl: '1m' }],
  ] as Array<[string, SuiteCacheOptions]>) {
    for (const path of DECEPTION_PATHS) {
      it(`deception, ${config}: ${path} with credentials, then without, never serves the private body`, async () => {
        for (const [, headers] of CREDENTIALS) {
          const app = await target.app(options)
          const mine = await send(app, path, { headers })
          expect(mine.text).toBe('PRIVATE page of alice')
          await app.whenIdle()
          const again = await send(app, path, { headers })
          expect(again.text).toBe('PRIVATE page of alice')
          await app.whenIdle()
          for (let i = 0; i < 2; i++) {
            const anonymous = await send(app, path)
            expect(anonymous.text).toBe('anonymous')
            await app.whenIdle()
          }
          const mallory = await send(app, path, { headers: { cookie: 'sid=mallory' } })
          expect(mallory.text).toBe('PRIVATE page of mallory')
        }
      })
    }
  }

  it('Authorization: a response is never shared without safety.shareAuthenticated, even marked public (RFC 9111 §3.5 would allow it)', async () => {
    const app = await target.app({ ttl: '1m' })
    const alice = await send(app, '/user', { headers: { authorization: 'Bearer alice' } })
    expect(alice.text).toBe('user:alice')
    expect(cacheStatus(alice)).not.toMatch(/stored/)
    await app.whenIdle()
    expect((await send(app, '/user')).text).toBe('user:anonymous')
    // /whoami says `public`, yet is personal: without the route's opt-in it is never stored.
    const mine = await send(app, '/whoami', { headers: { authorization: 'Bearer alice' } })
    expect(mine.text).toBe('user:alice')
    expect(cacheStatus(mine)).toMatch(/detail=authorization/)
    await app.whenIdle()
    for (let i = 0; i < 2; i++) {
      expect((await send(app, '/whoami')).text).toBe('user:anonymous')
      await app.whenIdle()
    }
    // With the opt-in, RFC 9111 §3.5 decides: /reflect says `public`, the app declares it the same for everyone.
    const shared = await target.app({ ttl: '1m', safety: { shareAuthenticated: true } })
    const reflected = await send(shared, '/reflect?v=auth', {
      headers: { authorization: 'Bearer alice' },
    })
    expect(cacheStatus(reflected)).toMatch(storedMiss(target))
  })

  for (const [config, options] of [
    ['default options with a ttl', { ttl: '1m' }],
    ['safety.shareAuthenticated with a ttl', { ttl: '1m', safety: { shareAuthenticated: true } }],
  ] as Array<[string, SuiteCacheOptions]>) {
    it(`Authorization and must-revalidate alone, ${config}: the ttl never makes one user's response another's`, async () => {
      const app = await target.app(options)
      const alice = await send(app, '/must-revalidate', {
        headers: { authorization: 'Bearer alice' },
      })
      expect(alice.text).toBe('user:alice')
      await app.whenIdle()
      for (const headers of [{}, { authorization: 'Bearer bob' }, {}]) {
        const other = await send(app, '/must-revalidate', { headers })
        expect(other.text).toBe(`user:${headers.authorization === undefined ? 'anonymous' : 'bob'}`)
        expect(isHit(other)).toBe(false)
        await app.whenIdle()
      }
    })
  }

  it('a background refresh triggered by a user with a Cookie stores what everyone gets, never their page', async () => {
    let now = Date.UTC(2030, 0, 1)
    const clock = (): number => now
    const app = await target.app({
      ttl: '1m',
      stale: { whileRevalidate: '10m' },
      safety: { allowCookies: true },
      clock,
    })
    expect((await send(app, '/me')).text).toBe('anonymous')
    await app.whenIdle()
    now += 120_000
    const stale = await send(app, '/me', { headers: { cookie: 'sid=alice' } })
    expect(stale.text).toBe('anonymous')
    expect(cacheStatus(stale)).toMatch(/detail=stale-while-revalidate/)
    await app.whenIdle()
    for (let i = 0; i < 2; i++) {
      const anonymous = await send(app, '/me')
      expect(anonymous.text).toBe('anonymous')
      expect(isHit(anonymous)).toBe(true)
    }
    expect(app.runs.get('/me')).toBe(2)
  })

  it('a background refresh triggered by a user with Authorization stores what everyone gets, never their page', async () => {
    let now = Date.UTC(2030, 0, 1)
    const clock = (): number => now
    const app = await target.app({
      stale: { whileRevalidate: '10m' },
      safety: { shareAuthenticated: true },
      clock,
    })
    expect((await send(app, '/whoami')).text).toBe('user:anonymous')
    await app.whenIdle()
    now += 400_000
    const stale = await send(app, '/whoami', { headers: { authorization: 'Bearer alice' } })
    expect(stale.text).toBe('user:anonymous')
    await app.whenIdle()
    for (const headers of [{}, { authorization: 'Bearer bob' }]) {
      const other = await send(app, '/whoami', { headers })
      expect(other.text).toBe('user:anonymous')
      expect(isHit(other)).toBe(true)
    }
    expect(app.runs.get('/whoami')).toBe(2)
  })

  for (const [config, options] of [
    ['default options with a ttl', { ttl: '1m' }],
    ["scope: 'private' with a ttl", { ...PRIVATE, ttl: '1m' }],
  ] as Array<[string, SuiteCacheOptions]>) {
    it(`deception armor, ${config}: a credentialed response without Cache-Control goes out private, so no CDN in front keeps it`, async () => {
      const app = await target.app(options)
      for (const path of DECEPTION_PATHS) {
        for (const [, headers] of CREDENTIALS) {
          for (let i = 0; i < 2; i++) {
            const mine = await send(app, path, { headers })
            expect(mine.text).toBe('PRIVATE page of alice')
            expect(mine.headers['cache-control'], `${path} ${JSON.stringify(headers)}`).toBe(
              'private'
            )
            await app.whenIdle()
          }
        }
      }
      // The handler's own Cache-Control is never overridden.
      const own = await send(app, '/user', { headers: { cookie: 'sid=alice' } })
      expect(own.headers['cache-control']).toBe('max-age=300')
    })
  }

  it('Set-Cookie responses are never stored or replayed, even marked public', async () => {
    const app = await target.app({ ttl: '1m' })
    const first = await send(app, '/set-cookie')
    await app.whenIdle()
    const second = await send(app, '/set-cookie')
    expect(first.headers['set-cookie']).toHaveLength(1)
    expect(second.headers['set-cookie']).toHaveLength(1)
    expect(second.headers['set-cookie']).not.toEqual(first.headers['set-cookie'])
    expect(isHit(second)).toBe(false)
    expect(cacheStatus(second)).toMatch(/detail=set-cookie/)
    expect(app.runs.get('/set-cookie')).toBe(2)
    if (app.prefix !== undefined) {
      const client = target.redis()
      for (const key of await keysUnder(client, app.prefix)) {
        const type = await client.type(key)
        if (type === 'string')
          expect((await client.getBuffer(key))?.toString('latin1')).not.toContain('secret-')
      }
    }
  })

  it('50 concurrent users (Authorization, Cookie, anonymous) during coalescing each get their own body', async () => {
    const app = await target.app()
    const users = Array.from({ length: 50 }, (_, i) =>
      i < 20
        ? { user: `auth${i}`, headers: { authorization: `Bearer auth${i}` } }
        : i < 40
          ? { user: `cookie${i}`, headers: { cookie: `sid=cookie${i}` } }
          : { user: undefined, headers: {} }
    )
    const responses = await Promise.all(
      users.map(({ headers }) => send(app, '/user?delay=150', { headers }))
    )
    responses.forEach((res, i) => expect(res.text).toBe(`user:${users[i]?.user ?? 'anonymous'}`))
    await app.whenIdle()
    // The anonymous response was stored; credentials still never get it.
    const anonymous = await send(app, '/user?delay=150')
    expect(isHit(anonymous)).toBe(true)
    expect(anonymous.text).toBe('user:anonymous')
    const late = await Promise.all(
      users.slice(0, 40).map(({ headers }) => send(app, '/user?delay=150', { headers }))
    )
    late.forEach((res, i) => expect(res.text).toBe(`user:${users[i]?.user}`))
  })

  it("50 concurrent users on scope: 'private', two requests each, coalesce per user and never across", async () => {
    const app = await target.app(PRIVATE)
    const ids = Array.from({ length: 50 }, (_, i) => `u${i}`)
    const headersOf = (id: string, i: number): Record<string, string> =>
      i % 2 === 0 ? { cookie: `sid=${id}` } : { authorization: `Bearer ${id}` }
    const requests = ids.flatMap((id, i) =>
      [0, 1].map(() => ({
        id,
        promise: send(app, '/user?delay=150', { headers: headersOf(id, i) }),
      }))
    )
    for (const { id, promise } of requests) expect((await promise).text).toBe(`user:${id}`)
    // Coalesced per user: at least one second request joined its first (usually all 50 do; a
    // loaded machine may let some first requests finish before their twin arrives).
    expect(app.runs.get('/user')).toBeGreaterThanOrEqual(50)
    expect(app.runs.get('/user')).toBeLessThan(100)
    await app.whenIdle()
    const hits = await Promise.all(
      ids.map((id, i) => send(app, '/user?delay=150', { headers: headersOf(id, i) }))
    )
    hits.forEach((res, i) => {
      expect(isHit(res)).toBe(true)
      expect(res.text).toBe(`user:${ids[i]}`)
    })
    const anonymous = await send(app, '/user?delay=1')
    expect(anonymous.text).toBe('user:anonymous')
    expect(cacheStatus(anonymous)).toMatch(/detail=private-key/)
  })

  it("304 across users on a scope: 'private' route: only one's own ETag ever gets a 304", async () => {
    const app = await target.app(PRIVATE)
    const alice = { cookie: 'sid=alice' }
    const bob = { authorization: 'Bearer bob' }
    const a = await send(app, '/private-etag', { headers: alice })
    expect(a.status).toBe(200)
    expect(a.headers.etag).toBe('"alice-v1"')
    await app.whenIdle()
    // Bob has no entry: a miss, and the handler's answer is Bob's, whose ETag differs.
    const bobMiss = await send(app, '/private-etag', {
      headers: { ...bob, 'if-none-match': '"alice-v1"' },
    })
    expect(bobMiss.status).toBe(200)
    expect(bobMiss.text).toBe('user:bob')
    await app.whenIdle()
    const bobHit = await send(app, '/private-etag', {
      headers: { ...bob, 'if-none-match': '"alice-v1"' },
    })
    expect(bobHit.status).toBe(200)
    expect(isHit(bobHit)).toBe(true)
    expect(bobHit.text).toBe('user:bob')
    const bobStar = await send(app, '/private-etag', {
      headers: { ...bob, 'if-none-match': '"alice-v1", W/"alice-v1"' },
    })
    expect(bobStar.status).toBe(200)
    const bobOwn = await send(app, '/private-etag', {
      headers: { ...bob, 'if-none-match': '"bob-v1"' },
    })
    expect(bobOwn.status).toBe(304)
    const aliceOwn = await send(app, '/private-etag', {
      headers: { ...alice, 'if-none-match': '"alice-v1"' },
    })
    expect(aliceOwn.status).toBe(304)
    // Anonymous: no id, no entry: the handler answers, with its own ETag.
    const anonymous = await send(app, '/private-etag', {
      headers: { 'if-none-match': '"alice-v1"' },
    })
    expect(anonymous.status).toBe(200)
    expect(anonymous.text).toBe('user:anonymous')
  })

  it('304 across users on the shared default: credentials bypass, so a foreign ETag is never matched', async () => {
    const app = await target.app()
    await send(app, '/private-etag', { headers: { cookie: 'sid=alice' } })
    await app.whenIdle()
    const bob = await send(app, '/private-etag', {
      headers: { cookie: 'sid=bob', 'if-none-match': '"alice-v1"' },
    })
    expect(bob.status).toBe(200)
    expect(bob.text).toBe('user:bob')
    const anonymous = await send(app, '/private-etag', {
      headers: { 'if-none-match': '"alice-v1"' },
    })
    expect(anonymous.status).toBe(200)
    expect(anonymous.text).toBe('user:anonymous')
  })

  it("property: random request sequences from several users never deliver one user's body to another", async () => {
    const USERS = ['alice', 'bob', 'carol', undefined] as const
    const PATHS = [
      '/user',
      '/user?delay=20',
      '/me/x.css',
      '/me',
      '/private-etag',
      '/vary-lang',
      '/must-revalidate',
    ] as const
    const step = fc.record({
      user: fc.constantFrom(...USERS),
      via: fc.constantFrom('cookie', 'authorization'),
      path: fc.constantFrom(...PATHS),
      etagOf: fc.option(fc.constantFrom(...USERS), { nil: null }),
      lang: fc.constantFrom('en', 'fr'),
    })
    const expected = (path: string, user: string | undefined, lang: string): string =>
      path.startsWith('/me')
        ? user === undefined
          ? 'anonymous'
          : `PRIVATE page of ${user}`
        : path === '/vary-lang'
          ? `lang:${lang}`
          : `user:${user ?? 'anonymous'}`
    let runs = 0
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.array(step, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        async (privateScope, batches) => {
          runs++
          const app: SecurityApp = await target.app(
            privateScope ? { ...PRIVATE, ttl: '1m' } : { ttl: '1m' }
          )
          try {
            for (const batch of batches) {
              const responses = await Promise.all(
                batch.map((s) => {
                  const headers: Record<string, string> = { 'accept-language': s.lang }
                  if (s.user !== undefined)
                    headers[s.via] = s.via === 'cookie' ? `sid=${s.user}` : `Bearer ${s.user}`
                  if (s.etagOf !== null)
                    headers['if-none-match'] = `"${s.etagOf ?? 'anonymous'}-v1"`
                  return send(app, s.path, { headers })
                })
              )
              responses.forEach((res, i) => {
                const s = batch[i] as (typeof batch)[number]
                if (res.status === 304) {
                  // A 304 confirms the requester's own representation only.
                  expect(s.path).toBe('/private-etag')
                  expect(s.etagOf).toBe(s.user)
                } else {
                  expect(res.status).toBe(200)
                  expect(res.text).toBe(expected(s.path, s.user, s.lang))
                }
              })
              await app.whenIdle()
            }
          } finally {
            await app.close()
          }
        }
      ),
      { numRuns: 15 }
    )
    expect(runs).toBeGreaterThanOrEqual(15)
  })
})

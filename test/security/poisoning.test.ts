/**
 * Web cache poisoning (Kettle 2018, 2020): an attacker's request carries input the app reads but
 * the key does not cover, and the response made from it is stored for everyone. Every vector is
 * sent first (poisoned), then a clean request must get the clean body, and a second clean request
 * must be a hit with that same clean body (the cache still works for the URL).
 */
import { expect, it } from 'vitest'
import { rawRequest } from '../helpers/servers.js'
import type { TestResponse } from '../helpers/servers.js'
import {
  cacheStatus,
  eachTarget,
  HOST,
  isHit,
  send,
  type SecurityApp,
  storedMiss,
} from './harness.js'

/** The fields of /reflect an app acts on (not the raw target text, which the key normalises). */
function meaning(res: TestResponse): unknown {
  const parsed = JSON.parse(res.text) as Record<string, unknown>
  return {
    host: parsed.host,
    protocol: parsed.protocol,
    method: parsed.method,
    query: parsed.query,
    lax: parsed.lax,
    body: parsed.body,
    link: parsed.link,
  }
}

/** Clean request, then the same again, which must be a hit with an identical body. */
async function cleanTwice(app: SecurityApp, target: string): Promise<TestResponse> {
  await app.whenIdle()
  const clean = await send(app, target)
  expect(clean.status).toBe(200)
  await app.whenIdle()
  const again = await send(app, target)
  expect(isHit(again), cacheStatus(again)).toBe(true)
  expect(again.text).toBe(clean.text)
  return clean
}

/**
 * Raw requests say `Connection: close` and keep their side open: a half-close makes Node abort a
 * request whose answer waits on Redis, and the test would see no answer at all.
 */
const KEEP_OPEN = { halfClose: false }

/** The header section of a raw response, lower-cased names kept as sent. */
function headerSection(raw: string): string {
  const end = raw.indexOf('\r\n\r\n')
  return end === -1 ? raw : raw.slice(0, end)
}

eachTarget((target) => {
  const POISON_HEADERS: Array<[string, string]> = [
    ['x-forwarded-host', 'evil.example'],
    ['x-forwarded-proto', 'evilproto'],
    ['x-original-url', '/evil-admin'],
    ['x-rewrite-url', '/evil-admin'],
    ['x-http-method-override', 'evilmethod'],
    ['forwarded', 'host=evil.example;proto=https'],
  ]

  for (const [name, value] of POISON_HEADERS) {
    it(`${name}: the poisoned response bypasses, before and after a clean entry exists`, async () => {
      const app = await target.app()
      const poisoned = await send(app, '/reflect?v=1', { headers: { [name]: value } })
      // The app did act on it: without the guard this body would be stored for everyone.
      expect(poisoned.text).toContain('evil')
      expect(cacheStatus(poisoned)).toMatch(/fwd=bypass.*detail=unkeyed-header/)
      const clean = await cleanTwice(app, '/reflect?v=1')
      expect(clean.text).not.toContain('evil')
      // Once an entry exists, the attacker neither gets it nor replaces it.
      const late = await send(app, '/reflect?v=1', { headers: { [name]: value } })
      expect(late.text).toContain('evil')
      expect(isHit(late)).toBe(false)
      await app.whenIdle()
      const after = await send(app, '/reflect?v=1')
      expect(isHit(after)).toBe(true)
      expect(after.text).toBe(clean.text)
      expect(app.engine.counters()['unkeyed-header']).toBe(2)
    })
  }

  it('the guarded header names are matched whatever their case and even when empty', async () => {
    const app = await target.app()
    const mixed = await send(app, '/reflect?v=case', {
      headers: { 'X-FORWARDED-HOST': 'evil.example' },
    })
    expect(cacheStatus(mixed)).toMatch(/detail=unkeyed-header/)
    const empty = await send(app, '/reflect?v=case', { headers: { 'x-original-url': '' } })
    expect(cacheStatus(empty)).toMatch(/detail=unkeyed-header/)
    const clean = await cleanTwice(app, '/reflect?v=case')
    expect(clean.text).not.toContain('evil')
  })

  it('keyedHeaders: X-Forwarded-Host becomes part of the key, so each value has its own entry', async () => {
    const app = await target.app({ keys: { keyedHeaders: ['X-Forwarded-Host'] } })
    const poisoned = await send(app, '/reflect?v=keyed', {
      headers: { 'x-forwarded-host': 'evil.example' },
    })
    expect(poisoned.text).toContain('evil')
    const clean = await cleanTwice(app, '/reflect?v=keyed')
    expect(clean.text).not.toContain('evil')
    await app.whenIdle()
    const poisonedAgain = await send(app, '/reflect?v=keyed', {
      headers: { 'x-forwarded-host': 'evil.example' },
    })
    expect(isHit(poisonedAgain)).toBe(true)
    expect(poisonedAgain.text).toBe(poisoned.text)
  })

  it('trust proxy: an applied X-Forwarded-Host is keyed through the host (and the allow-list applies to it)', async () => {
    const app = await target.app({}, { trustProxy: true })
    const other = await send(app, '/reflect?v=proxy', {
      headers: { 'x-forwarded-host': `attacker.${HOST}` },
    })
    expect(JSON.parse(other.text).host).toBe(`attacker.${HOST}`)
    const outside = await send(app, '/reflect?v=proxy', {
      headers: { 'x-forwarded-host': 'evil.example' },
    })
    expect(cacheStatus(outside)).toMatch(/detail=host/)
    const clean = await cleanTwice(app, '/reflect?v=proxy')
    expect(JSON.parse(clean.text).link).toBe(`http://${HOST}/next`)
    // X-Original-URL is not something the framework applies: it still bypasses under trust proxy.
    const rewritten = await send(app, '/reflect?v=proxy', {
      headers: { 'x-original-url': '/evil' },
    })
    expect(cacheStatus(rewritten)).toMatch(/detail=unkeyed-header/)
  })

  // Issue 14: a forwarded value counts as applied only when the key holds exactly it.
  const FORWARDED_PROTO = [
    'nothttps',
    'javascript',
    'ftp, https',
    'https, http',
    'http ,https',
    ' ',
  ]
  for (const value of FORWARDED_PROTO) {
    it(`trust proxy: X-Forwarded-Proto ${JSON.stringify(value)} is not what the key holds: bypasses, never stored`, async () => {
      const app = await target.app({}, { trustProxy: true })
      const poisoned = await send(app, '/reflect?v=xfp', {
        headers: { 'x-forwarded-proto': value },
      })
      expect(poisoned.status).toBe(200)
      expect(cacheStatus(poisoned)).toMatch(/fwd=bypass.*detail=unkeyed-header/)
      const clean = await cleanTwice(app, '/reflect?v=xfp')
      expect(JSON.parse(clean.text).link).toBe(`http://${HOST}/next`)
      expect(JSON.parse(clean.text).protocol).toBe('http')
    })
  }

  it('trust proxy: X-Forwarded-Proto https is applied and keyed: https and http entries stay apart', async () => {
    const app = await target.app({}, { trustProxy: true })
    const secure = await send(app, '/reflect?v=xfp-ok', {
      headers: { 'x-forwarded-proto': 'https' },
    })
    expect(JSON.parse(secure.text).link).toBe(`https://${HOST}/next`)
    expect(cacheStatus(secure)).toMatch(storedMiss(target))
    await app.whenIdle()
    const again = await send(app, '/reflect?v=xfp-ok', {
      headers: { 'x-forwarded-proto': 'https' },
    })
    expect(isHit(again)).toBe(true)
    const clean = await cleanTwice(app, '/reflect?v=xfp-ok')
    expect(JSON.parse(clean.text).link).toBe(`http://${HOST}/next`)
  })

  it('trust proxy: X-Forwarded-Proto HTTPS is keyed only as the scheme the framework applied (schemes are case-insensitive)', async () => {
    const app = await target.app({}, { trustProxy: true })
    const upper = await send(app, '/reflect?v=xfp-case', {
      headers: { 'x-forwarded-proto': 'HTTPS' },
    })
    // Express and Koa 2 hand the app `HTTPS` (the key says http: bypass); Koa 3 lower-cases it (the key says https).
    const seen = JSON.parse(upper.text).protocol as string
    if (seen === 'https') expect(cacheStatus(upper)).toMatch(storedMiss(target))
    else expect(cacheStatus(upper)).toMatch(/detail=unkeyed-header/)
    const clean = await cleanTwice(app, '/reflect?v=xfp-case')
    expect(JSON.parse(clean.text).link).toBe(`http://${HOST}/next`)
  })

  it('trust proxy: an X-Forwarded-Host list (the app may read its later members) bypasses', async () => {
    const app = await target.app({}, { trustProxy: true })
    const poisoned = await send(app, '/reflect?v=xfh-list', {
      headers: { 'x-forwarded-host': `${HOST}, evil.example` },
    })
    expect(poisoned.text).toContain('evil')
    expect(cacheStatus(poisoned)).toMatch(/detail=unkeyed-header/)
    const clean = await cleanTwice(app, '/reflect?v=xfh-list')
    expect(clean.text).not.toContain('evil')
  })

  // Issue 14: a parameter the key ignores is an unkeyed input unless it never reaches the handler.
  const IGNORED: Array<[string, string, Record<string, unknown>]> = [
    ['utm_source', '/reflect?v=utm&utm_source=%3Cscript%3Eevil%3C%2Fscript%3E', {}],
    ['fbclid and gclid', '/reflect?fbclid=evil&v=utm&gclid=evil2', {}],
    ['utm_* with an encoded name', '/reflect?v=utm&%75tm_campaign=evil', {}],
    ['a custom ignore list', '/reflect?v=utm&ref=evil', { keys: { query: { ignore: ['ref'] } } }],
  ]
  for (const [name, attack, options] of IGNORED) {
    it(`ignored parameters (${name}) never reach the handler: the shared entry cannot reflect them`, async () => {
      const app = await target.app(options)
      const poisoned = await send(app, attack)
      expect(poisoned.status).toBe(200)
      expect(poisoned.text).not.toContain('evil')
      expect(cacheStatus(poisoned)).toMatch(storedMiss(target))
      const parsed = JSON.parse(poisoned.text) as {
        url: string
        query: Record<string, unknown>
        lax: Record<string, unknown>
      }
      expect(parsed.url).toBe('/reflect?v=utm')
      expect(parsed.query).toEqual({ v: 'utm' })
      expect(parsed.lax).toEqual({ v: 'utm' })
      const clean = await cleanTwice(app, '/reflect?v=utm')
      expect(clean.text).toBe(poisoned.text)
      expect(app.runs.get('/reflect')).toBe(1)
    })
  }

  it('fat GET (Content-Length body): bypasses; the clean request never sees the body', async () => {
    const app = await target.app()
    const poisoned = await send(app, '/reflect?v=fat', {
      body: 'q=evilbody',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '10' },
    })
    expect(JSON.parse(poisoned.text).body).toBe('q=evilbody')
    expect(cacheStatus(poisoned)).toMatch(/detail=request-body/)
    const clean = await cleanTwice(app, '/reflect?v=fat')
    expect(clean.text).not.toContain('evilbody')
    expect(app.engine.counters()['request-body']).toBe(1)
  })

  it('fat GET (chunked, raw bytes): bypasses; the clean request never sees the body', async () => {
    const app = await target.app()
    const raw = await rawRequest(
      app.port,
      `GET /reflect?v=chunked HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n9\r\nevilchunk\r\n0\r\n\r\n`,
      KEEP_OPEN
    )
    expect(raw.status).toBe(200)
    expect(raw.text).toContain('evilchunk')
    const clean = await cleanTwice(app, '/reflect?v=chunked')
    expect(clean.text).not.toContain('evilchunk')
  })

  // Parameter cloaking: two targets the key treats alike must mean the same to the app.
  const CLOAKING: Array<[string, string, string]> = [
    [
      '`;` inside an ignored parameter hides a keyed one from the key',
      '/reflect?q=clean&utm_content=x;q=evil',
      '/reflect?q=clean',
    ],
    ['`;` as a separator', '/reflect?q=clean;q=evil', '/reflect?q=clean'],
    ['`%26` vs `&`', '/reflect?q=clean%26q=evil', '/reflect?q=clean&q=evil'],
    ['duplicate parameters in another order', '/reflect?q=evil&q=clean', '/reflect?q=clean&q=evil'],
    ['duplicate parameters vs one', '/reflect?q=clean&q=evil', '/reflect?q=clean'],
    ['`%2B` vs `+`', '/reflect?q=a%2Bevil', '/reflect?q=a+evil'],
    ['`+` vs `%2B`', '/reflect?q=a+evil', '/reflect?q=a%2Bevil'],
    ['`__proto__` parameter', '/reflect?__proto__=evil&q=clean', '/reflect?q=clean'],
    ['`__proto__[x]` parameter', '/reflect?__proto__[polluted]=evil&q=clean', '/reflect?q=clean'],
    [
      '`constructor[prototype]` parameter',
      '/reflect?constructor[prototype][polluted]=evil&q=clean',
      '/reflect?q=clean',
    ],
    ['array syntax vs plain', '/reflect?q[]=evil', '/reflect?q=evil'],
    ['encoded name vs plain name', '/reflect?%71=evil', '/reflect?q=evil'],
  ]
  for (const [name, attack, clean] of CLOAKING) {
    it(`parameter cloaking, ${name}: the clean URL gets what the app makes of the clean URL`, async () => {
      const fresh = await target.app()
      const expected = meaning(await send(fresh, clean))
      const app = await target.app()
      const poisoned = await send(app, attack)
      expect(poisoned.status).toBe(200)
      const served = await cleanTwice(app, clean)
      expect(meaning(served)).toEqual(expected)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })
  }

  // Host and request-target authority.
  it('Host case and a default port share the entry, and only ever with the same origin', async () => {
    const app = await target.app()
    await send(app, '/reflect?v=host', { headers: { host: 'EXAMPLE.com:80' } })
    const clean = await cleanTwice(app, '/reflect?v=host')
    expect(new URL(JSON.parse(clean.text).link as string).origin).toBe(`http://${HOST}`)
  })

  it('Host with another port gets its own entry', async () => {
    const app = await target.app()
    const port = await send(app, '/reflect?v=port', { headers: { host: `${HOST}:8080` } })
    expect(JSON.parse(port.text).link).toBe(`http://${HOST}:8080/next`)
    const clean = await cleanTwice(app, '/reflect?v=port')
    expect(JSON.parse(clean.text).link).toBe(`http://${HOST}/next`)
  })

  it('a Host outside the allow-list bypasses', async () => {
    const app = await target.app()
    const evil = await send(app, '/reflect?v=outside', { headers: { host: 'evil.example' } })
    expect(cacheStatus(evil)).toMatch(/detail=host/)
    const clean = await cleanTwice(app, '/reflect?v=outside')
    expect(clean.text).not.toContain('evil')
  })

  const ABSOLUTE: Array<[string, string]> = [
    ['another authority', 'http://evil.example/reflect?v=abs'],
    ['another port', `http://${HOST}:8080/reflect?v=abs`],
    ['userinfo', `http://evil@${HOST}/reflect?v=abs`],
    ['another scheme', `https://${HOST}/reflect?v=abs`],
  ]
  for (const [name, absolute] of ABSOLUTE) {
    it(`absolute-form target with ${name} than Host: bypasses`, async () => {
      const app = await target.app()
      const attack = await send(app, absolute)
      expect(attack.status).toBe(200)
      expect(isHit(attack)).toBe(false)
      expect(cacheStatus(attack)).toMatch(/fwd=bypass/)
      const clean = await cleanTwice(app, '/reflect?v=abs')
      expect(clean.text).not.toContain('evil')
      expect(JSON.parse(clean.text).url).toBe('/reflect?v=abs')
    })
  }

  it('absolute-form target with the same authority may share, and carries nothing foreign', async () => {
    const app = await target.app()
    await send(app, `http://${HOST}/reflect?v=same`)
    const clean = await cleanTwice(app, '/reflect?v=same')
    expect(new URL(JSON.parse(clean.text).link as string).origin).toBe(`http://${HOST}`)
  })

  it('two Host headers: everyone (Node, the app, the key) reads the first; a clean follow-up is clean', async () => {
    const app = await target.app()
    const first = await rawRequest(
      app.port,
      `GET /reflect?v=twohosts HTTP/1.1\r\nHost: ${HOST}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
      KEEP_OPEN
    )
    expect(first.status === 400 || !first.text.includes('evil')).toBe(true)
    const swapped = await rawRequest(
      app.port,
      `GET /reflect?v=twohosts HTTP/1.1\r\nHost: evil.example\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`,
      KEEP_OPEN
    )
    expect(swapped.status === 400 || /detail=host/.test(swapped.text)).toBe(true)
    const clean = await cleanTwice(app, '/reflect?v=twohosts')
    expect(clean.text).not.toContain('evil')
  })

  it('a fragment in the target (raw bytes: clients never send one) bypasses', async () => {
    const app = await target.app()
    const raw = await rawRequest(
      app.port,
      `GET /reflect?v=frag#"><script>evil</script> HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`,
      KEEP_OPEN
    )
    expect(raw.status).toBe(200)
    expect(raw.text).toContain('evil')
    expect(raw.text).toMatch(/detail=url/)
    const clean = await cleanTwice(app, '/reflect?v=frag')
    expect(clean.text).not.toContain('evil')
  })

  // CRLF: nothing from the request reaches a response header.
  const CRLF: Array<[string, string]> = [
    ['an encoded CRLF in the query', '/reflect?q=%0d%0aSet-Cookie:%20evil=1%0d%0aX-Injected:%201'],
    ['an encoded CRLF in the path', '/crlf%0d%0aSet-Cookie:%20evil=1%0d%0aX-Injected:%201'],
    ['an encoded CR alone and LF alone', '/crlf%0dX-Injected:%201%0aSet-Cookie:%20evil=1'],
    ['encoded NUL and a percent-encoded percent', '/crlf%00%250d%250aX-Injected:%201?x=%00'],
  ]
  for (const [name, path] of CRLF) {
    it(`CRLF, ${name}: no injected header on the miss or on the hit`, async () => {
      const app = await target.app()
      for (let i = 0; i < 2; i++) {
        const raw = await rawRequest(
          app.port,
          `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`,
          KEEP_OPEN
        )
        expect(raw.status).toBe(200)
        const head = headerSection(raw.text).toLowerCase()
        expect(head).not.toContain('x-injected')
        expect(head).not.toContain('evil')
        expect(head).toContain('cache-status: cachewire')
        if (i === 1) expect(head).toMatch(/cache-status: cachewire; hit/)
        await app.whenIdle()
      }
    })
  }

  it('CRLF, raw CR/LF bytes in the target: refused or cut short, never injected', async () => {
    const app = await target.app()
    for (const target of [
      '/crlf\rX-Injected: 1',
      '/crlf?q=\nX-Injected: 1',
      '/crlf\r\nX-Injected: 1\r\n',
    ]) {
      // Node refuses a CR (400); a bare LF ends the request line early, so the rest is a request header
      // (and the line has no HTTP version: Fastify 4 refuses that with a 505, the others answer it).
      const raw = await rawRequest(
        app.port,
        `GET ${target} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`,
        KEEP_OPEN
      )
      expect([400, 505, 200]).toContain(raw.status)
      expect(headerSection(raw.text).toLowerCase()).not.toContain('x-injected')
      await app.whenIdle()
    }
    const ok = await send(app, '/crlf')
    expect(ok.status).toBe(200)
    expect(ok.headers['x-injected']).toBeUndefined()
  })
})

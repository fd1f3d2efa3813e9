import { describe, expect, it } from 'vitest'
import { hashKey, parseTarget, primaryKey, urlTag, variantKey } from '../src/request/cache-key.js'
import { checkEligibility } from '../src/request/eligibility.js'
import { compileHostAllowList, normaliseHost } from '../src/request/host.js'
import { KeyHasher } from '../src/request/cache-key.js'
import { prepareRequest as prepare, type PreparedRequest } from '../src/request/prepare-request.js'
import { stripValidators, withValidators } from '../src/request/strip-validators.js'
import { resolveHttpCacheOptions } from '../src/options/resolve-options.js'
import type { HttpCacheOptions } from '../src/options/types.js'
import type { HttpRequest } from '../src/types.js'

const prepareRequest = (
  request: HttpRequest,
  options: ReturnType<typeof resolveHttpCacheOptions>
): PreparedRequest => prepare(request, options, new KeyHasher())

const request = (overrides: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'GET',
  url: '/a?b=1',
  headers: {},
  host: 'example.com',
  protocol: 'https',
  ...overrides,
})

function key(
  overrides: Partial<HttpRequest> = {},
  options: HttpCacheOptions = {}
): string | undefined {
  return prepareRequest(request(overrides), resolveHttpCacheOptions(options)).context?.primaryHash
}

function bypassReason(
  overrides: Partial<HttpRequest> = {},
  options: HttpCacheOptions = {}
): string | undefined {
  return prepareRequest(request(overrides), resolveHttpCacheOptions(options)).bypass?.reason
}

describe('cache key — DESIGN rule 1, RFC 9111 §4', () => {
  it('is a SHA-256 hex digest, so raw request text never reaches the store', () => {
    const hash = key({ url: '/a?<script>*[x]' })
    expect(hash).toMatch(/^http:[0-9a-f]{64}$/)
  })

  const same: Array<[string, Partial<HttpRequest>, Partial<HttpRequest>]> = [
    ["HEAD shares GET's key", { method: 'GET' }, { method: 'HEAD' }],
    ['host is case-insensitive', { host: 'Example.COM' }, { host: 'example.com' }],
    ["the scheme's default port is dropped", { host: 'example.com:443' }, { host: 'example.com' }],
    ['a trailing dot on the host is dropped', { host: 'example.com.' }, { host: 'example.com' }],
    [
      'query parameter order does not matter (sort on by default)',
      { url: '/a?x=1&y=2' },
      { url: '/a?y=2&x=1' },
    ],
    [
      'ignored parameters do not matter (the adapter strips them)',
      { url: '/a?x=1&utm_source=news', stripsIgnoredParams: true },
      { url: '/a?x=1' },
    ],
    ['absolute-form equals origin-form', { url: 'https://example.com/a?b=1' }, { url: '/a?b=1' }],
    [
      'unrelated request headers do not matter',
      { headers: { 'user-agent': 'x' } },
      { headers: {} },
    ],
  ]
  for (const [name, a, b] of same) {
    it(`${name}: same key`, () => expect(key(a)).toBe(key(b)))
  }

  const different: Array<[string, Partial<HttpRequest>, Partial<HttpRequest>]> = [
    ['scheme is in the key', { protocol: 'http' }, { protocol: 'https' }],
    ['host is in the key', { host: 'a.example.com' }, { host: 'b.example.com' }],
    ['a non-default port is in the key', { host: 'example.com:8443' }, { host: 'example.com' }],
    ['path is in the key, case-sensitive', { url: '/A?b=1' }, { url: '/a?b=1' }],
    ['query values are in the key', { url: '/a?b=2' }, { url: '/a?b=1' }],
  ]
  for (const [name, a, b] of different) {
    it(`${name}: different keys`, () => expect(key(a)).not.toBe(key(b)))
  }

  it('a target with a fragment bypasses: the app would read it, the key cannot cover it (RFC 9112 §3.2)', () => {
    expect(bypassReason({ url: '/a?b=1#top' })).toBe('url')
    expect(bypassReason({ url: '/a#"><script>' })).toBe('url')
  })

  it("an absolute-form target whose scheme differs from the connection's bypasses", () => {
    expect(bypassReason({ url: 'http://example.com/a?b=1', protocol: 'https' })).toBe('host')
    expect(key({ url: 'HTTPS://example.com/a?b=1', protocol: 'https' })).toBe(key())
  })

  it('sorting can be turned off', () => {
    const options = { keys: { query: { sort: false } } }
    expect(key({ url: '/a?x=1&y=2' }, options)).not.toBe(key({ url: '/a?y=2&x=1' }, options))
  })

  it('key functions add material, engine first then route', () => {
    const options = { keys: { key: (r: HttpRequest) => String(r.headers['x-tenant']) } }
    expect(key({ headers: { 'x-tenant': 'a' } }, options)).not.toBe(
      key({ headers: { 'x-tenant': 'b' } }, options)
    )
    expect(key({ headers: { 'x-tenant': 'a' } }, options)).not.toBe(
      key({ headers: { 'x-tenant': 'a' } })
    )
  })

  it('a key function returning false bypasses the cache', () => {
    expect(bypassReason({}, { keys: { key: () => false } })).toBe('key')
  })

  it('primaryKey is JSON, so no part can imitate a separator; variantKey appends the secondary key', () => {
    const a = primaryKey({ scheme: 'https', authority: 'a', path: '/x","y', query: '', extra: [] })
    const b = primaryKey({ scheme: 'https', authority: 'a', path: '/x', query: 'y', extra: [] })
    expect(a).not.toBe(b)
    expect(JSON.parse(a)).toEqual(['cw4', 'GET', 'https', 'a', '/x","y', ''])
    expect(variantKey(a, 's')).toBe(`${a}\ns`)
    expect(hashKey(a)).not.toBe(hashKey(b))
  })

  it('urlTag ignores scheme but not host, path or query', () => {
    expect(urlTag('example.com', '/a', 'b=1')).toBe(urlTag('example.com', '/a', 'b=1'))
    expect(urlTag('example.com', '/a', 'b=1')).not.toBe(urlTag('example.com', '/a', ''))
    expect(urlTag('example.com', '/a', '')).not.toBe(urlTag('other.com', '/a', ''))
  })
})

describe('forwarded fields the framework applied — issue 14, X-Forwarded-Proto/Host poisoning', () => {
  const applied = ['x-forwarded-host', 'x-forwarded-proto'] as const
  const cases: Array<[string, Partial<HttpRequest>, string | undefined]> = [
    [
      'X-Forwarded-Proto https keyed as https',
      { protocol: 'https', headers: { 'x-forwarded-proto': 'https' } },
      undefined,
    ],
    [
      'X-Forwarded-Proto http keyed as http',
      { protocol: 'http', headers: { 'x-forwarded-proto': 'http' } },
      undefined,
    ],
    [
      'X-Forwarded-Proto nothttps (the framework reflects it, the key says http)',
      { protocol: 'http', headers: { 'x-forwarded-proto': 'nothttps' } },
      'unkeyed-header',
    ],
    [
      'X-Forwarded-Proto javascript',
      { protocol: 'http', headers: { 'x-forwarded-proto': 'javascript' } },
      'unkeyed-header',
    ],
    [
      'X-Forwarded-Proto list ftp, https',
      { protocol: 'http', headers: { 'x-forwarded-proto': 'ftp, https' } },
      'unkeyed-header',
    ],
    [
      'X-Forwarded-Proto https while the key says http',
      { protocol: 'http', headers: { 'x-forwarded-proto': 'https' } },
      'unkeyed-header',
    ],
    [
      'X-Forwarded-Host equal to the resolved host',
      { host: 'example.com', headers: { 'x-forwarded-host': 'example.com' } },
      undefined,
    ],
    [
      'X-Forwarded-Host list: later members are not in the key',
      { host: 'example.com', headers: { 'x-forwarded-host': 'example.com, evil.example' } },
      'unkeyed-header',
    ],
    [
      'X-Forwarded-Host the framework did not apply',
      { host: 'example.com', headers: { 'x-forwarded-host': 'evil.example' } },
      'unkeyed-header',
    ],
  ]
  for (const [name, overrides, reason] of cases) {
    it(name, () => expect(bypassReason({ ...overrides, forwarded: applied })).toBe(reason))
  }

  it('a host the framework took from a forwarded list (Fastify reads its last member) bypasses as the unkeyed input, before the allow-list judges it', () => {
    const hosts = { keys: { hosts: ['example.com'] } }
    const list = {
      host: 'evil.example',
      headers: { 'x-forwarded-host': 'example.com, evil.example' },
      forwarded: applied,
    }
    expect(bypassReason(list, hosts)).toBe('unkeyed-header')
    // One value, exactly what the framework applied: keyed through the host, which the allow-list judges.
    expect(
      bypassReason(
        {
          host: 'evil.example',
          headers: { 'x-forwarded-host': 'evil.example' },
          forwarded: applied,
        },
        hosts
      )
    ).toBe('host')
    expect(bypassReason({ host: 'evil.example' }, hosts)).toBe('host')
  })

  it('without trust (nothing applied) any of them bypasses', () => {
    expect(bypassReason({ protocol: 'https', headers: { 'x-forwarded-proto': 'https' } })).toBe(
      'unkeyed-header'
    )
  })
})

describe('parseTarget(url) — RFC 9112 §3.2', () => {
  it.each([
    ['/', { path: '/', query: '' }],
    ['/a?b=1', { path: '/a', query: 'b=1' }],
    ['/a?', { path: '/a', query: '' }],
    ['http://h/a?b', { path: '/a', query: 'b' }],
    ['http://h', { path: '/', query: '' }],
  ])('%s', (url, expected) => expect(parseTarget(url)).toEqual(expected))

  it.each(['*', 'example.com:443', '', '/a b', '/a\r\nx', 'ftp://h/a'])('rejects %j', (url) => {
    expect(parseTarget(url)).toBeUndefined()
  })
})

describe('hosts — normalisation and allow-list', () => {
  it.each([
    ['example.com', 'https', 'example.com'],
    ['EXAMPLE.com:80', 'http', 'example.com'],
    ['example.com:80', 'https', 'example.com:80'],
    ['[::1]:8080', 'http', '[::1]:8080'],
    ['127.0.0.1', 'http', '127.0.0.1'],
  ] as const)('%s over %s → %s', (host, protocol, authority) => {
    expect(normaliseHost(host, protocol)?.authority).toBe(authority)
  })

  it.each(['', 'a b', 'exa_mple.com:99999', 'example.com/x', 'évil.com', 'a..b'])(
    'rejects %j',
    (host) => {
      expect(normaliseHost(host, 'http')).toBeUndefined()
    }
  )

  it('matches exact names and *.wildcards, not the wildcard apex', () => {
    const allowed = compileHostAllowList(['example.com', '*.example.org']) as (h: string) => boolean
    expect(allowed('example.com')).toBe(true)
    expect(allowed('www.example.com')).toBe(false)
    expect(allowed('api.example.org')).toBe(true)
    expect(allowed('a.b.example.org')).toBe(true)
    expect(allowed('example.org')).toBe(false)
    expect(allowed('evilexample.org')).toBe(false)
  })

  it('a host outside the allow-list bypasses; a malformed host bypasses', () => {
    expect(bypassReason({ host: 'evil.com' }, { keys: { hosts: ['example.com'] } })).toBe('host')
    expect(
      bypassReason({ host: 'example.com' }, { keys: { hosts: ['example.com'] } })
    ).toBeUndefined()
    expect(bypassReason({ host: 'bad host' })).toBe('host')
  })
})

describe('checkEligibility(method, headers, policy)', () => {
  const policy = { methods: new Set(['GET', 'HEAD']), allowCookies: false }
  it.each([
    ['GET', {}, true, undefined],
    ['HEAD', {}, true, undefined],
    ['OPTIONS', {}, false, 'method'],
    ['POST', {}, false, 'method'],
    ['GET', { cookie: 'sid=1' }, false, 'cookie'],
    ['GET', { 'if-match': '"a"' }, false, 'precondition'],
    ['GET', { 'if-unmodified-since': 'x' }, false, 'precondition'],
    ['GET', { authorization: 'Bearer x' }, true, undefined],
    ['GET', { range: 'bytes=0-1' }, true, undefined],
  ])('%s %j → eligible %s (%s)', (method, headers, eligible, reason) => {
    const result = checkEligibility(method, headers, policy)
    expect(result.eligible).toBe(eligible)
    if (!result.eligible) expect(result.reason).toBe(reason)
  })

  it('RFC 9111 §4.4: unsafe and unknown methods invalidate; safe ones do not', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'PURGE']) {
      expect(checkEligibility(method, {}, policy)).toMatchObject({
        eligible: false,
        invalidates: true,
      })
    }
    expect(checkEligibility('OPTIONS', {}, policy)).toMatchObject({
      eligible: false,
      invalidates: false,
    })
  })

  it('gives requests without Cache-Control one frozen, empty set of directives; Pragma: no-cache its own', () => {
    const one = checkEligibility('GET', {}, policy)
    const other = checkEligibility('GET', { accept: 'text/html' }, policy)
    if (!one.eligible || !other.eligible) throw new Error('expected eligible requests')
    expect(one.directives).toBe(other.directives)
    expect(Object.isFrozen(one.directives)).toBe(true)
    expect(Object.keys(one.directives)).toEqual([])
    expect((one.directives as Record<string, unknown>)['toString']).toBeUndefined()
    const pragma = checkEligibility('GET', { pragma: 'no-cache' }, policy)
    expect(pragma).toMatchObject({ eligible: true, directives: { 'no-cache': true } })
    expect(one.directives).toEqual({})
    const sent = checkEligibility('GET', { 'cache-control': 'max-age=5' }, policy)
    expect(sent).toMatchObject({ eligible: true, directives: { 'max-age': 5 } })
  })

  it('a Cookie is allowed when the route opts in', () => {
    expect(
      checkEligibility('GET', { cookie: 'a' }, { ...policy, allowCookies: true }).eligible
    ).toBe(true)
  })

  it('flags Authorization and request no-store (RFC 9111 §3.5, §5.2.1.5)', () => {
    expect(
      checkEligibility('GET', { authorization: 'x', 'cache-control': 'no-store' }, policy)
    ).toMatchObject({
      eligible: true,
      authorization: true,
      noStore: true,
    })
  })

  it('HEAD can be left out of the methods', () => {
    expect(checkEligibility('HEAD', {}, { ...policy, methods: new Set(['GET']) })).toMatchObject({
      eligible: false,
      reason: 'method',
    })
  })
})

describe('stripValidators / withValidators — RFC 9111 §4.3.1, §4.3.2', () => {
  it('removes conditional and Range fields, keeps the rest', () => {
    const headers = {
      accept: '*/*',
      'if-none-match': '"a"',
      'if-modified-since': 'x',
      'if-match': 'y',
      'if-unmodified-since': 'z',
      'if-range': 'w',
      range: 'bytes=0-1',
    }
    expect(stripValidators(headers)).toEqual({ accept: '*/*' })
  })
  it('returns the same object when there is nothing to remove', () => {
    const headers = { accept: '*/*' }
    expect(stripValidators(headers)).toBe(headers)
  })
  it('adds If-None-Match from the ETag, else If-Modified-Since from Last-Modified', () => {
    // RFC 9111 §4.3.1: the entity tag MUST be sent, and Last-Modified SHOULD be sent with it.
    expect(
      withValidators({ 'if-none-match': '"client"' }, { etag: '"a"', lastModified: 'lm' })
    ).toEqual({ 'if-none-match': '"a"', 'if-modified-since': 'lm' })
    expect(withValidators({}, { etag: undefined, lastModified: 'lm' })).toEqual({
      'if-modified-since': 'lm',
    })
  })
})

describe('prepareRequest(request, options, hasher)', () => {
  it('bypasses unusable targets and protocols', () => {
    expect(bypassReason({ url: '*' })).toBe('url')
    expect(bypassReason({ protocol: 'ftp' as 'http' })).toBe('url')
  })
  it('an unsafe method carries the URL to invalidate', () => {
    const prepared = prepareRequest(
      request({ method: 'POST', url: '/a?b=1&utm_source=x' }),
      resolveHttpCacheOptions()
    ).bypass
    expect(prepared).toMatchObject({
      reason: 'method',
      invalidation: { protocol: 'https', authority: 'example.com', path: '/a', query: 'b=1' },
    })
  })
  it('an unsafe method on a host outside the allow-list invalidates nothing', () => {
    const prepared = prepareRequest(
      request({ method: 'POST', host: 'evil.com' }),
      resolveHttpCacheOptions({ keys: { hosts: ['example.com'] } })
    ).bypass
    expect(prepared).toMatchObject({ reason: 'method', invalidation: undefined })
  })
  it('gives the context the engine needs', () => {
    const context = prepareRequest(
      request({ headers: { 'cache-control': 'max-age=0' } }),
      resolveHttpCacheOptions()
    ).context!
    expect(context).toMatchObject({
      method: 'GET',
      authority: 'example.com',
      path: '/a',
      query: 'b=1',
      authorization: false,
      noStore: false,
    })
    expect(context.directives['max-age']).toBe(0)
  })
})

describe('primaryKey text', () => {
  const reference = (parts: Parameters<typeof primaryKey>[0]): string =>
    JSON.stringify([
      'cw4',
      'GET',
      parts.scheme,
      parts.authority,
      parts.path,
      parts.query,
      ...parts.extra,
    ])

  it('is exactly the JSON array text for every UTF-16 code unit in any part (the fast path never differs)', () => {
    // One expect for all 65,536 code units: an expect per unit made this test CPU-bound on
    // vitest's matcher, seconds on a loaded CI host.
    const differing: number[] = []
    for (let code = 0; code <= 0xffff; code++) {
      const c = String.fromCharCode(code)
      const parts = {
        scheme: 'https' as const,
        authority: `h${c}`,
        path: `/a${c}b`,
        query: `q=${c}`,
        extra: [],
      }
      if (primaryKey(parts) !== reference(parts)) differing.push(code)
    }
    expect(differing).toEqual([])
    const withExtra = {
      scheme: 'http' as const,
      authority: 'h',
      path: '/',
      query: '',
      extra: ['tenant:"a"'],
    }
    expect(primaryKey(withExtra)).toBe(reference(withExtra))
  })

  it('keeps a quote or backslash in a path from imitating a separator', () => {
    const a = primaryKey({ scheme: 'http', authority: 'h', path: '/a","b', query: '', extra: [] })
    const b = primaryKey({ scheme: 'http', authority: 'h', path: '/a', query: 'b', extra: [] })
    expect(a).not.toBe(b)
    expect(JSON.parse(a)).toEqual(['cw4', 'GET', 'http', 'h', '/a","b', ''])
  })
})

describe('normaliseHost memo', () => {
  it('answers the same for a Host seen before, per scheme, and stays right past its capacity', () => {
    expect(normaliseHost('Example.com:443', 'https')).toEqual({
      hostname: 'example.com',
      authority: 'example.com',
    })
    expect(normaliseHost('Example.com:443', 'http')).toEqual({
      hostname: 'example.com',
      authority: 'example.com:443',
    })
    expect(normaliseHost('Example.com:443', 'https')).toEqual({
      hostname: 'example.com',
      authority: 'example.com',
    })
    for (let i = 0; i < 1000; i++)
      expect(normaliseHost(`h${i}.test:${8000 + (i % 10)}`, 'http')?.authority).toBe(
        `h${i}.test:${8000 + (i % 10)}`
      )
    expect(normaliseHost('a b', 'http')).toBeUndefined()
    expect(normaliseHost('a b', 'http')).toBeUndefined()
    expect(Object.isFrozen(normaliseHost('example.com', 'http'))).toBe(true)
  })
})

describe('KeyHasher', () => {
  it('gives every key its hashKey value across memo turns: hot keys, a long tail, and keys moved back from the previous generation', () => {
    const hasher = new KeyHasher()
    const hot = Array.from(
      { length: 50 },
      (_, i) => `["cw4","GET","https","shop.example","/hot/${i}",""]`
    )
    const hotHashes = hot.map(hashKey)
    // Counted, then asserted once: 120,000 expect() calls would outlast the test timeout on a
    // loaded machine.
    let wrong = 0
    for (let i = 0; i < 60_000; i++) {
      // A tail of keys never asked twice turns the memo (16,384 keys a generation) over several
      // times between hot hits.
      const tail = `["cw4","GET","https","shop.example","/tail/${i}",""]`
      if (hasher.hash(tail) !== hashKey(tail)) wrong++
      if (hasher.hash(hot[i % hot.length] as string) !== hotHashes[i % hot.length]) wrong++
    }
    expect(wrong).toBe(0)
  }, 30_000)

  it('gives a plain key the primaryKey text and hash whichever scheme, host or query last used its path, across memo turns', () => {
    const hasher = new KeyHasher()
    const variants = [
      ['https', 'shop.example', ''],
      ['http', 'shop.example', ''],
      ['https', 'other.example', ''],
      ['https', 'shop.example', 'a=1'],
    ] as const
    const wrong: string[] = []
    for (let i = 0; i < 12_000; i++) {
      const [scheme, authority, query] = variants[i % variants.length] as (typeof variants)[number]
      // Hot paths met under every scheme, host and query, between a tail of paths never met twice.
      for (const path of [`/hot/${i % 7}`, `/tail/${i}`]) {
        const key = primaryKey({ scheme, authority, path, query, extra: [] })
        const plain = hasher.plain(scheme, authority, path, query)
        if (plain.key !== key || plain.hash !== hashKey(key)) wrong.push(key)
      }
    }
    expect(wrong).toEqual([])
  })

  it('turns a generation over on long keys before its count is reached, and still answers every key', () => {
    const hasher = new KeyHasher()
    // 600 keys of 8 KB hold 4.8 Mi characters: past one generation's bound by characters.
    const keys = Array.from(
      { length: 600 },
      (_, i) => `["cw4","GET","https","h","/${'x'.repeat(8192)}/${i}",""]`
    )
    for (const key of keys) expect(hasher.hash(key)).toBe(hashKey(key))
    for (const key of keys) expect(hasher.hash(key)).toBe(hashKey(key))
    // The by-path memo is bounded by characters too.
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 600; i++) {
        const path = `/${'x'.repeat(8192)}/${i}`
        const key = primaryKey({ scheme: 'https', authority: 'h', path, query: '', extra: [] })
        expect(hasher.plain('https', 'h', path, '').hash).toBe(hashKey(key))
      }
  })
})

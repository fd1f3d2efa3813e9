/**
 * cachewire's tracing channels as OpenTelemetry spans, with the real SDK: a NodeTracerProvider
 * (AsyncLocalStorage context), the real HTTP instrumentation making the server span of each
 * request, an in-memory exporter, a real Express app on a real Redis. A miss and a hit must come
 * out as the span trees an operator expects, under the request's server span; the trees are
 * printed for the record.
 */
import { createRequire } from 'node:module'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import type { Express } from 'express'
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest'
import { Cache } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { instrumentCachewire, type OpenTelemetryInstrumentation } from '@cachewire/http/otel'
import { listen, request } from '../helpers/servers.js'
import { createClient, deleteKeysWithPrefix, describeRedis, uniquePrefix } from '../setup/redis.js'

const exporter = new InMemorySpanExporter()
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const http = new HttpInstrumentation({ ignoreOutgoingRequestHook: () => true })
let bridge: OpenTelemetryInstrumentation
let express: typeof import('express').default
let responseCache: typeof import('@cachewire/express').responseCache

beforeAll(async () => {
  provider.register()
  http.setTracerProvider(provider)
  http.enable()
  // The instrumentation patches `http` when it is next required: require it now, before any server exists.
  createRequire(import.meta.url)('node:http')
  express = (await import('express')).default
  ;({ responseCache } = await import('@cachewire/express'))
  bridge = instrumentCachewire()
})

afterAll(async () => {
  bridge?.disable()
  http.disable()
  await provider.shutdown()
})

beforeEach(() => exporter.reset())

/** A span tree as text: one line per span, children indented, with the attributes that tell the story. */
function tree(spans: readonly ReadableSpan[], root: ReadableSpan, depth = 0): string[] {
  const shown = [
    'cachewire.lookup.outcome',
    'cachewire.route',
    'cachewire.hit',
    'cachewire.stored',
    'db.system.name',
    'db.operation.name',
    'server.address',
    'error.type',
    'http.response.status_code',
  ]
  const attributes = shown
    .filter((name) => root.attributes[name] !== undefined)
    .map((name) => `${name}=${String(root.attributes[name])}`)
  const status = root.status.code === SpanStatusCode.ERROR ? ' ERROR' : ''
  const ms = (root.duration[0] * 1e3 + root.duration[1] / 1e6).toFixed(2)
  const line = `${'  '.repeat(depth)}${root.name} [${SpanKind[root.kind]}${status}] ${ms} ms${attributes.length > 0 ? ' ' + attributes.join(' ') : ''}`
  const children = spans
    .filter((span) => span.parentSpanContext?.spanId === root.spanContext().spanId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
  return [line, ...children.flatMap((child) => tree(spans, child, depth + 1))]
}

/** The finished spans of the one trace `request` made, and its server span. */
function traceOf(spans: readonly ReadableSpan[]): {
  server: ReadableSpan
  spans: ReadableSpan[]
  text: string
} {
  const server = spans.find((span) => span.kind === SpanKind.SERVER)
  if (server === undefined)
    throw new Error(`no server span among ${spans.map((span) => span.name).join(', ')}`)
  const own = spans.filter((span) => span.spanContext().traceId === server.spanContext().traceId)
  return { server, spans: own, text: tree(own, server).join('\n') }
}

function child(spans: readonly ReadableSpan[], parent: ReadableSpan, name: string): ReadableSpan {
  const found = spans.find(
    (span) => span.name === name && span.parentSpanContext?.spanId === parent.spanContext().spanId
  )
  if (found === undefined) throw new Error(`no ${name} under ${parent.name}`)
  return found
}

describeRedis('OpenTelemetry spans from the tracing channels (real SDK, Express, Redis)', () => {
  let app: Express
  let cache: ReturnType<typeof responseCache>
  let prefix: string
  let url: string

  beforeAll(async () => {
    prefix = uniquePrefix()
    const client = createClient()
    // A deadline a loaded machine keeps: the hit must be a hit.
    cache = responseCache({
      ttl: '1m',
      storage: { cache: new Cache({ store: new RedisStore({ client, prefix, timeout: '2s' }) }) },
    })
    app = express()
    app.get(
      '/users/:id',
      cache.route({ name: 'user', tags: (req) => [`user:${req.params.id}`] }),
      (req, res) => {
        res.json({ id: req.params.id })
      }
    )
    // One server for the file: the port is part of the host, so of the cache key.
    ;({ url } = await listen(app))
    return async () => {
      await cache.close()
      await deleteKeysWithPrefix(client, prefix)
    }
  })

  it('a miss: the lookup reads Redis under the server span, then the entry is written', async () => {
    const response = await request(`${url}/users/7`)
    expect(response.status).toBe(200)
    await cache.whenIdle()
    const { server, spans, text } = traceOf(exporter.getFinishedSpans())
    console.info(`span tree of a miss:\n${text}`)

    const lookup = child(spans, server, 'cachewire.http.lookup')
    expect(lookup.kind).toBe(SpanKind.INTERNAL)
    expect(lookup.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/users/7',
      'cachewire.route': 'user',
      'cachewire.lookup.outcome': 'miss',
    })
    const get = child(spans, lookup, 'cachewire.get')
    expect(get.attributes).toMatchObject({ 'cachewire.store': 'redis', 'cachewire.hit': false })
    expect(get.attributes).not.toHaveProperty('cachewire.key')
    const read = child(spans, get, 'cachewire.store.get')
    expect(read.kind).toBe(SpanKind.CLIENT)
    expect(read.attributes).toMatchObject({
      'db.system.name': 'redis',
      'db.operation.name': 'get',
      'server.address': '127.0.0.1',
    })

    const store = child(spans, server, 'cachewire.http.store')
    // The route's tag and the URL's own (for purgeUrl).
    expect(store.attributes).toMatchObject({
      'cachewire.route': 'user',
      'http.response.status_code': 200,
      'cachewire.entry.tags': 2,
    })
    const set = child(spans, store, 'cachewire.set')
    expect(set.attributes).toMatchObject({
      'cachewire.stored': true,
      'cachewire.ttl_ms': expect.any(Number),
    })
    expect(child(spans, set, 'cachewire.store.set').attributes).toMatchObject({
      'db.system.name': 'redis',
      'db.operation.name': 'set',
    })
    // Nothing of cachewire's hangs loose: every span belongs to the request's trace.
    expect(
      exporter.getFinishedSpans().filter((span) => span.name.startsWith('cachewire.')).length
    ).toBe(spans.length - 1)
  })

  it('a hit: one lookup span with one Redis read under it, no write', async () => {
    const response = await request(`${url}/users/7`)
    expect(response.headers['cache-status']).toMatch(/; hit/)
    const { server, spans, text } = traceOf(exporter.getFinishedSpans())
    console.info(`span tree of a hit:\n${text}`)
    const lookup = child(spans, server, 'cachewire.http.lookup')
    expect(lookup.attributes).toMatchObject({
      'cachewire.lookup.outcome': 'hit',
      'cachewire.route': 'user',
    })
    expect(
      child(spans, child(spans, lookup, 'cachewire.get'), 'cachewire.store.get').status.code
    ).not.toBe(SpanStatusCode.ERROR)
    expect(spans.map((span) => span.name).sort()).toEqual(
      ['GET', 'cachewire.get', 'cachewire.http.lookup', 'cachewire.store.get'].sort()
    )
  })

  it('a Redis that cannot be reached: the store spans fail with an error.type, the request is a miss and still 200', async () => {
    const down = responseCache({
      ttl: '1m',
      storage: {
        store: new RedisStore({
          url: 'redis://127.0.0.1:1',
          prefix: uniquePrefix(),
          timeout: '50ms',
          redisOptions: { retryStrategy: () => null },
        }),
      },
    })
    const broken = express()
    broken.get('/x', down.route({ name: 'x' }), (_req, res) => res.send('fine'))
    const brokenServer = await listen(broken)
    expect((await request(`${brokenServer.url}/x`)).status).toBe(200)
    await down.whenIdle()
    const { server, spans, text } = traceOf(exporter.getFinishedSpans())
    console.info(`span tree of a miss with Redis unreachable:\n${text}`)
    const lookup = child(spans, server, 'cachewire.http.lookup')
    expect(lookup.attributes['cachewire.lookup.outcome']).toBe('miss')
    expect(lookup.status.code).not.toBe(SpanStatusCode.ERROR)
    const read = child(spans, child(spans, lookup, 'cachewire.get'), 'cachewire.store.get')
    expect(read.status.code).toBe(SpanStatusCode.ERROR)
    expect(read.attributes['error.type']).toBeTypeOf('string')
    expect(read.events.some((event) => event.name === 'exception')).toBe(true)
    await down.close()
  })

  it('records keys only when asked, and stops when disabled', async () => {
    bridge.disable()
    const keyed = instrumentCachewire({ recordKeys: true, storeCalls: false })
    const local = new Cache()
    await local.set('user:1', { name: 'Ada' })
    await local.get('user:1')
    keyed.disable()
    await local.get('user:1')
    bridge = instrumentCachewire()
    const names = exporter.getFinishedSpans().map((span) => span.name)
    expect(names).toEqual(['cachewire.set', 'cachewire.get'])
    expect(exporter.getFinishedSpans()[1]?.attributes).toMatchObject({
      'cachewire.key': 'user:1',
      'cachewire.hit': true,
      'cachewire.store': 'memory',
    })
  })
})

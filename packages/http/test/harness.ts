import { MemoryStore } from '@cachewire/core'
import { createHttpCache, type HttpCache } from '../src/engine/http-cache.js'
import type { EntryPolicy } from '../src/entry/entry.js'
import type { HttpCacheOptions } from '../src/options/types.js'
import type {
  HeaderPair,
  HttpRequest,
  OriginRequest,
  Outcome,
  ResponseHeaders,
} from '../src/types.js'

/** An entry policy with no lifetimes of its own and strong ETags, for tests that build entries directly. */
export const PLAIN_POLICY: EntryPolicy = {
  etag: 'strong',
  targetedField: undefined,
  surrogateKeyHeader: undefined,
  ttlMs: undefined,
  staleWhileRevalidateMs: 0,
  staleIfErrorMs: 0,
  revalidationWindowMs: 300_000,
}

/** What a fake app answers. */
export interface AppResponse {
  status?: number
  headers?: ResponseHeaders
  body?: string | Buffer
  complete?: boolean
}

export type App = (request: OriginRequest) => AppResponse | Promise<AppResponse>

/** What the simulated client received. */
export interface Exchange {
  outcome: Outcome
  status: number
  headers: HeaderPair[]
  body: string
  header(name: string): string | undefined
}

/** Start of every test clock: 2025-01-01T00:00:00Z. */
export const T0 = Date.UTC(2025, 0, 1)

/**
 * An engine on a MemoryStore with an injected clock, plus a minimal adapter: it runs the app
 * live on forward outcomes (applying the patch and calling finish) and as runHandler/refresh.
 */
export function setup(options: HttpCacheOptions = {}) {
  let now = T0
  const clock = (): number => now
  const errors: Error[] = []
  const store = new MemoryStore({ clock })
  const engine: HttpCache = createHttpCache({
    clock,
    ...options,
    storage: { store, ...options.storage },
    observability: { onError: (error) => errors.push(error), ...options.observability },
  })
  const calls: OriginRequest[] = []
  let app: App = () => ({ status: 200, headers: { 'cache-control': 'max-age=60' }, body: 'hello' })

  const run = async (
    request: OriginRequest
  ): Promise<{ status: number; headers: ResponseHeaders; body: Buffer; complete: boolean }> => {
    calls.push(request)
    const response = await app(request)
    const body = Buffer.from(response.body ?? '')
    return {
      status: response.status ?? 200,
      headers: response.headers ?? {},
      body,
      complete: response.complete ?? true,
    }
  }

  const request = (overrides: Partial<HttpRequest> = {}): HttpRequest => ({
    method: 'GET',
    url: '/a',
    headers: {},
    host: 'example.com',
    protocol: 'https',
    ...overrides,
  })

  const send = async (
    overrides: Partial<HttpRequest> = {},
    sendOptions: { refresh?: boolean } = {}
  ): Promise<Exchange> => {
    const incoming = request(overrides)
    const outcome = await engine.respond(
      incoming,
      run,
      sendOptions.refresh === false ? undefined : run
    )
    let result: Omit<Exchange, 'header'>
    if (outcome.kind === 'miss' || outcome.kind === 'bypass') {
      const response = await run({ ...incoming, headers: outcome.requestHeaders })
      const patch = outcome.patch(response.status, response.headers)
      const pairs = toPairs(response.headers).filter(([name]) => !patch.remove.includes(name))
      const setNames = new Set(patch.set.map(([name]) => name))
      const headers = [...pairs.filter(([name]) => !setNames.has(name)), ...patch.set]
      await outcome.finish({
        ...response,
        body: outcome.captureBody ? response.body : Buffer.alloc(0),
      })
      const body = patch.omitBody || incoming.method === 'HEAD' ? '' : response.body.toString()
      result = { outcome, status: patch.status, headers, body }
    } else {
      result = {
        outcome,
        status: outcome.status,
        headers: [...outcome.headers],
        body: outcome.body.toString(),
      }
    }
    return { ...result, header: (name) => headerOf(result.headers, name) }
  }

  /** A front door's answer: a reply from a usable stored response, or undefined. */
  const frontDoor = async (overrides: Partial<HttpRequest> = {}) => {
    const prepared = engine.prepare(request(overrides))
    return engine.answer(prepared, await engine.lookup(prepared))
  }

  return {
    engine,
    store,
    frontDoor,
    errors,
    calls,
    send,
    request,
    run,
    setApp(next: App) {
      app = next
    },
    advance(ms: number) {
      now += ms
    },
    now: clock,
  }
}

export function toPairs(headers: ResponseHeaders): HeaderPair[] {
  if (Array.isArray(headers)) return headers.map(([n, v]) => [n.toLowerCase(), v] as const)
  const pairs: HeaderPair[] = []
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value])
      pairs.push([name.toLowerCase(), String(item)])
  }
  return pairs
}

export function headerOf(pairs: readonly HeaderPair[], name: string): string | undefined {
  const values = pairs.filter(([key]) => key === name).map(([, value]) => value)
  return values.length === 0 ? undefined : values.join(', ')
}

import { createHash, timingSafeEqual } from 'node:crypto'
import { InvalidOptionError, rejectUnknownOptions, type InvalidationResult } from '@cachewire/core'
import type { HttpCache } from '../engine/http-cache.js'
import { purgeTag } from '../request/purge-target.js'
import { INSPECTOR_HTML } from './inspector-page.js'

/** Shortest bearer token accepted when the router is built: anything shorter is guessable. */
export const MIN_PURGE_TOKEN_LENGTH = 16

export interface PurgeApiOptions {
  /** The engine to purge (`cache.engine`). */
  engine: HttpCache
  /** The bearer token callers send as `Authorization: Bearer <token>`; at least 16 characters. */
  token: string
  /** Make every purge a dry run (report what would go, remove nothing), e.g. on staging. @default false */
  dryRun?: boolean | undefined
  /** Serve the inspector page at `GET /inspector`. @default true */
  inspector?: boolean | undefined
  /** Receives every purge (dry runs too). @default one JSON line on console.info */
  log?: ((entry: PurgeLogEntry) => void) | undefined
}

/** One purge, as logged. */
export interface PurgeLogEntry {
  at: string
  /** The caller's address, as the framework reports it (after its trust-proxy rules). */
  ip: string | undefined
  kind: PurgeKind
  targets: readonly string[]
  dryRun: boolean
  count: number | null
  /** What the store did: `applied`, or `queued` / `failed` for a purge answered 503. */
  status: InvalidationResult['status']
}

export type PurgeKind = 'url' | 'tags' | 'namespace'

/** A request to the purge API, in framework-neutral form. */
export interface PurgeApiRequest {
  method: string
  /** Path below the router's mount point, e.g. `/purge/tags`. */
  path: string
  query: URLSearchParams
  authorization: string | undefined
  ip: string | undefined
  /** The parsed JSON body, or undefined. */
  body: unknown
}

export interface PurgeApiResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/**
 * The JSON answer of a purge. `ok` is true (status 200) when the store applied every target (or
 * on a dry run). A purge the store could not apply is answered 503 with `ok: false`: `status`
 * `queued` when the cache keeps it and retries it until applied (this process already serves
 * none of the purged entries), `failed` when it was neither applied nor kept (retry the call).
 */
export interface PurgeResult {
  ok: boolean
  kind: PurgeKind
  targets: string[]
  dryRun: boolean
  /** What the store did with the purge: the worst of its targets (`failed` over `queued` over `applied`). */
  status: InvalidationResult['status']
  /** Entries removed (or, on a dry run, that would be); null when the store cannot count. */
  count: number | null
}

/**
 * The purge API and inspector, framework-neutral: the Express and Koa `purgeRouter`s translate
 * their request into a `PurgeApiRequest` and write the `PurgeApiResponse` back, so both frameworks
 * share routes, auth and JSON. Routes: `POST /purge/url` `{ url, host? }`, `POST /purge/tags`
 * `{ tags }`, `POST /purge/namespace` `{ namespace }` (each with `?dryRun=1`), `GET /stats`,
 * `GET /health` (the cache's `health()`), `GET /inspector`.
 *
 * @example
 * ```ts
 * const api = createPurgeApi({ engine, token: process.env.CACHE_PURGE_TOKEN! })
 * const response = await api.handle({ method: 'POST', path: '/purge/tags', ... })
 * ```
 */
export function createPurgeApi(options: PurgeApiOptions): {
  handle(request: PurgeApiRequest): Promise<PurgeApiResponse>
} {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  rejectUnknownOptions(options, ['engine', 'token', 'dryRun', 'inspector', 'log'], '')
  const { engine, token } = options
  if (typeof engine?.purgeUrl !== 'function')
    throw new InvalidOptionError('engine', 'an HttpCache (middleware.engine)', engine)
  if (typeof token !== 'string' || token.length < MIN_PURGE_TOKEN_LENGTH) {
    throw new InvalidOptionError(
      'token',
      `a string of at least ${MIN_PURGE_TOKEN_LENGTH} characters`,
      typeof token === 'string' ? `${token.length} characters` : token
    )
  }
  const expected = digest(token)
  const forceDryRun = options.dryRun === true
  const serveInspector = options.inspector !== false
  const log =
    options.log ??
    ((entry: PurgeLogEntry) => console.info(JSON.stringify({ cachewire: 'purge', ...entry })))

  const authorised = (header: string | undefined): boolean => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
    // Compare digests: equal lengths for timingSafeEqual, and no early exit on the first wrong byte.
    return match !== null && timingSafeEqual(digest(match[1] as string), expected)
  }

  return {
    async handle(request) {
      if (request.path === '/inspector' && serveInspector) {
        if (request.method !== 'GET' && request.method !== 'HEAD')
          return json(405, { ok: false, error: 'method not allowed' }, { allow: 'GET, HEAD' })
        // The page holds no data: it asks /stats with the token the user types in.
        return {
          status: 200,
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'no-store',
            'content-security-policy':
              "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            'referrer-policy': 'no-referrer',
          },
          body: INSPECTOR_HTML,
        }
      }
      if (!authorised(request.authorization))
        return json(
          401,
          { ok: false, error: 'unauthorized' },
          { 'www-authenticate': 'Bearer realm="cachewire"' }
        )
      if (request.path === '/stats') {
        if (request.method !== 'GET')
          return json(405, { ok: false, error: 'method not allowed' }, { allow: 'GET' })
        return json(200, { ok: true, at: Date.now(), ...engine.observer.stats() })
      }
      if (request.path === '/health') {
        if (request.method !== 'GET')
          return json(405, { ok: false, error: 'method not allowed' }, { allow: 'GET' })
        return json(200, { ok: true, ...(await engine.cache.health({ timeout: HEALTH_TIMEOUT })) })
      }
      const kind = PURGE_ROUTES[request.path]
      if (kind === undefined) return json(404, { ok: false, error: 'not found' })
      if (request.method !== 'POST')
        return json(405, { ok: false, error: 'method not allowed' }, { allow: 'POST' })
      const input = readInput(kind, request)
      if ('error' in input) return json(400, { ok: false, error: input.error })
      const dryRun = forceDryRun || isYes(request.query.get('dryRun'))
      let done: PurgeDone
      try {
        done = await purge(engine, kind, input, dryRun)
      } catch (error) {
        return json(400, {
          ok: false,
          error: error instanceof Error ? error.message : String(error),
        })
      }
      const { count, status } = done
      const targets = input.targets
      if (!dryRun) engine.observer.purged(kind, { ip: request.ip, targets, count })
      try {
        log({ at: new Date().toISOString(), ip: request.ip, kind, targets, dryRun, count, status })
      } catch {
        // A throwing logger must not turn a done purge into an error answer.
      }
      const applied = status === 'applied'
      const result: PurgeResult = { ok: applied, kind, targets, dryRun, status, count }
      // 503 tells a deploy script or CDN hook to retry (or, when queued, that the cache will).
      return applied ? json(200, result) : json(503, result, { 'retry-after': '1' })
    },
  }
}

const PURGE_ROUTES: Record<string, PurgeKind | undefined> = {
  '/purge/url': 'url',
  '/purge/tags': 'tags',
  '/purge/namespace': 'namespace',
}

/** Deadline of the store ping behind `GET /health` (the inspector asks it every 2 s). */
const HEALTH_TIMEOUT = '1s'

/** Most targets one purge call may name. */
const MAX_TARGETS = 1000

interface PurgeInput {
  targets: string[]
  host: string | undefined
}

function readInput(kind: PurgeKind, request: PurgeApiRequest): PurgeInput | { error: string } {
  const body =
    typeof request.body === 'object' && request.body !== null
      ? (request.body as Record<string, unknown>)
      : {}
  const field = kind === 'url' ? 'url' : kind === 'tags' ? 'tags' : 'namespace'
  const fromBody = body[field] ?? (kind === 'tags' ? body['tag'] : undefined)
  const fromQuery = request.query.getAll(kind === 'tags' ? 'tag' : field)
  const raw = fromBody === undefined ? fromQuery : Array.isArray(fromBody) ? fromBody : [fromBody]
  const targets = raw.filter(
    (value): value is string => typeof value === 'string' && value.length > 0
  )
  if (targets.length === 0 || targets.length !== raw.length)
    return {
      error: `expected ${field} to be a non-empty string${kind === 'tags' ? ' or a list of them' : ''}`,
    }
  if (targets.length > MAX_TARGETS) return { error: `expected at most ${MAX_TARGETS} targets` }
  const host =
    typeof body['host'] === 'string' ? body['host'] : (request.query.get('host') ?? undefined)
  return { targets, host }
}

interface PurgeDone {
  count: number | null
  status: InvalidationResult['status']
}

/** How bad an invalidation status is, for the worst of several. */
const SEVERITY: Record<InvalidationResult['status'], number> = { applied: 0, queued: 1, failed: 2 }

/** Several invalidations as one: removals added up, the worst status. */
function combine(results: readonly InvalidationResult[]): InvalidationResult {
  let status: InvalidationResult['status'] = 'applied'
  let removed = 0
  for (const result of results) {
    removed += result.removed
    if (SEVERITY[result.status] > SEVERITY[status]) status = result.status
  }
  return { status, removed }
}

async function purge(
  engine: HttpCache,
  kind: PurgeKind,
  input: PurgeInput,
  dryRun: boolean
): Promise<PurgeDone> {
  if (dryRun) {
    const tags =
      kind === 'tags'
        ? input.targets
        : kind === 'url'
          ? input.targets.map((url) => {
              const result = purgeTag(url, input.host, engine.options.query)
              if ('error' in result)
                throw new Error(
                  `expected ${result.error} to be ${result.error === 'url' ? 'an absolute URL or a path' : 'a host name'}`
                )
              return result.tag
            })
          : undefined
    // A namespace is dropped in O(1) by a version bump, so nothing is counted.
    return {
      count: tags === undefined ? null : ((await engine.cache.countTagged(tags)) ?? null),
      status: 'applied',
    }
  }
  const results: InvalidationResult[] = []
  switch (kind) {
    case 'url':
      for (const url of input.targets) results.push(await engine.purgeUrl(url, input.host))
      break
    case 'tags':
      results.push(await engine.invalidateTags(input.targets))
      break
    case 'namespace':
      for (const name of input.targets) results.push(await engine.invalidateNamespace(name))
      break
  }
  const { status, removed } = combine(results)
  return { count: kind === 'namespace' ? null : removed, status }
}

function isYes(value: string | null): boolean {
  return value === '1' || value === 'true' || value === ''
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function json(
  status: number,
  value: unknown,
  headers: Record<string, string> = {}
): PurgeApiResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
    body: JSON.stringify(value),
  }
}

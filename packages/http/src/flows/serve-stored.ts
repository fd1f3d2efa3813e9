import { randomBytes } from 'node:crypto'
import { appendCacheStatus } from '../semantics/cache-status.js'
import { isNotModified } from '../semantics/conditional.js'
import { currentAge } from '../semantics/freshness.js'
import { headerValue } from '../semantics/headers.js'
import { rangeRequest } from '../semantics/range.js'
import { partialContent, rangeNotSatisfiable } from '../semantics/range-reply.js'
import {
  PreparedWire,
  WIRE,
  holdBodyText,
  lendWire,
  passesNodeChecks,
  passNodeChecks,
  repeatsAName,
} from './wire-lines.js'
import type {
  HeaderPair,
  HeaderPairs,
  ReplyOutcome,
  RequestHeaders,
  StoredResponse,
} from '../types.js'

/** Shared zero-length body; a Buffer of length 0 cannot be written to. */
const EMPTY_BODY: Buffer = Buffer.alloc(0)

/**
 * Answers a request from a stored response, in RFC 9110 §13.2.2's order: a 304 when the
 * client's own conditional matches (RFC 9111 §4.3.2, with the RFC 9110 §15.4.5 subset of
 * fields); else, for a GET with Range on a stored 200 (and If-Range, when sent, matching), a 206
 * with the byte ranges (one part, or multipart/byteranges) or a 416 when none is satisfiable
 * (RFC 9110 §14, RFC 9111 §3.4: ranges are served from the stored full response); else the
 * stored status, headers and body (no body for HEAD, RFC 9110 §9.3.2). Age (RFC 9111 §5.1) and
 * our Cache-Status member are appended to each. A stored `Accept-Ranges: none` from the handler
 * is respected (the full response is sent). Without Range, nothing is parsed or hashed here: the
 * entry holds the wire form.
 *
 * @example
 * ```ts
 * serveStored(entry, { method: 'GET', headers: req.headers }, Date.now(), 'cachewire; hit; ttl=30', 'hit')
 * ```
 */
export function serveStored(
  entry: StoredResponse,
  request: { method: string; headers: RequestHeaders },
  now: number,
  cacheStatus: string,
  kind: 'hit' | 'response'
): ReplyOutcome {
  const age = String(Math.floor(currentAge(entry, now) / 1000))
  const status = appendCacheStatus(entry.upstreamCacheStatus, cacheStatus)
  const hasConditional =
    request.headers['if-none-match'] !== undefined ||
    request.headers['if-modified-since'] !== undefined
  if (hasConditional && isNotModified(request.headers, entry, now)) {
    return {
      kind: 'not-modified',
      status: 304,
      headers: [...entry.notModifiedHeaders, ['age', age], ['cache-status', status]],
      body: EMPTY_BODY,
    }
  }
  if (request.headers.range !== undefined) {
    const ranged = rangeReply(entry, request, now)
    if (ranged !== undefined)
      return {
        kind,
        status: ranged.status,
        headers: [...ranged.headers, ['age', age], ['cache-status', status]],
        body: ranged.body,
      }
  }
  return {
    kind,
    status: entry.status,
    headers: fullResponseLines(entry, age, status, now),
    body: request.method === 'HEAD' ? EMPTY_BODY : entry.body,
  }
}

/**
 * An entry's full-response lines as last served. Names and whether one repeats are the entry's
 * own, worked out once per entry; only the Age and Cache-Status values change, once a second at
 * most. The record is made once per entry and updated in place: a key hit less often than once a
 * second (the long tail of many keys) would otherwise make a name set and a raw list on every
 * hit, all garbage a second later.
 */
interface PreparedLines {
  readonly repeats: boolean
  readonly contentLength: string | undefined
  /** Whether the entry's own lines pass Node's header checks (`passNodeChecks`), found once per entry. */
  readonly entryChecked: boolean
  age: string
  status: string
  /** Whether `status` passes them too (Age is digits by construction). */
  statusChecked: boolean
  /** Hits served with this `age` and `status` so far. */
  hits: number
  /** The lines of those hits, once there were `HITS_BEFORE_KEEPING_LINES` of them. */
  pairs: HeaderPairs | undefined
}

/**
 * Hits within one second before an entry keeps their lines for the rest of that second; the hits
 * before that each make their own, which die young. Lines an entry keeps outlive a young-generation
 * collection (the entry holds them for up to a second) and are copied to the old generation.
 * Under a Zipf load over 10,000 keys, most keys are hit a few times a second or less: keeping
 * lines from the first hit moved 140 KiB per scavenge (bench/gc.mjs cachewire-koa-zipf), from the
 * 8th about 50 KiB, of which the lines were a tenth (a sampling heap profile of what survived
 * scavenges: 4 MB of lines in 5 s kept from the 1st hit, 2 MB from the 2nd, 0.2 MB from the 8th).
 * A key hit thousands of times a second builds its lines 8 times a second.
 */
const HITS_BEFORE_KEEPING_LINES = 8

/**
 * Where an entry keeps the lines of the last full response served from it: once the entry is busy
 * (`HITS_BEFORE_KEEPING_LINES`), a hit within the same second reuses the array of the hits before
 * it, and with it its wire forms. A property of the entry (non-enumerable, so a copy of the entry
 * does not take it along), not a WeakMap entry: V8's young-generation collector holds a WeakMap's
 * values strongly, so an entry served once and dropped (each Redis hit decodes a new one; a fresh
 * response is served from the entry it is stored as) kept its lines alive past the next minor
 * collection. On the Redis front door they were a quarter of what outlived its scavenges (a
 * sampling heap profile, includeObjectsCollectedByMinorGC: false). An entry that cannot take a
 * property is served without the memo.
 */
const PREPARED: unique symbol = Symbol('cachewire.prepared-lines')

function fullResponseLines(
  entry: StoredResponse,
  age: string,
  status: string,
  now: number
): HeaderPairs {
  let prepared = (entry as { [PREPARED]?: PreparedLines })[PREPARED]
  if (prepared === undefined) {
    let contentLength: string | undefined
    for (const [name, value] of entry.headers)
      if (name === 'content-length') contentLength ??= value
    prepared = {
      repeats: repeatsAName(entry.headers),
      contentLength,
      entryChecked: passNodeChecks(entry.headers),
      age: '',
      status: '',
      statusChecked: false,
      hits: 0,
      pairs: undefined,
    }
    if (Object.isExtensible(entry)) Object.defineProperty(entry, PREPARED, { value: prepared })
  }
  if (prepared.age === age && prepared.status === status) {
    if (prepared.pairs !== undefined) return prepared.pairs
    prepared.hits++
  } else {
    if (prepared.status !== status) {
      prepared.statusChecked = prepared.entryChecked && passesNodeChecks('cache-status', status)
      prepared.status = status
    }
    prepared.age = age
    prepared.hits = 1
    prepared.pairs = undefined
  }
  const pairs: HeaderPair[] = [...entry.headers, ['age', age], ['cache-status', status]]
  const kept = prepared.hits >= HITS_BEFORE_KEEPING_LINES
  const wire = new PreparedWire(
    pairs,
    prepared.repeats,
    prepared.contentLength,
    prepared.statusChecked,
    kept
  )
  if (!kept) {
    // One reply's own lines (typed readonly), not shared: its wire forms go in the one-reply slot
    // `wireLines` checks. A non-enumerable property and a freeze on every such array cost ~2.5 k
    // instructions a hit on keys hit fewer than 8 times a second (callgrind, Koa middleware over
    // 10,000 Zipf keys: 105.4–106.7 k → 102.4–103.6 k).
    lendWire(pairs, wire)
    return pairs
  }
  Object.defineProperty(pairs, WIRE, { value: wire })
  holdBodyText(wire, entry.body, now)
  prepared.pairs = Object.freeze(pairs)
  return pairs
}

/** The 206 or 416 for a Range request, or undefined when the full response answers it. */
function rangeReply(
  entry: StoredResponse,
  request: { method: string; headers: RequestHeaders },
  now: number
): { status: number; headers: HeaderPair[]; body: Buffer } | undefined {
  const accepts = headerValue(entry.headers, 'accept-ranges')
  if (accepts !== undefined && accepts.trim().toLowerCase() !== 'bytes') return undefined
  const length = entry.body.length
  const decision = rangeRequest({
    method: request.method,
    headers: request.headers,
    status: entry.status,
    responseHeaders: entry.headers,
    length,
    now,
  })
  // The boundary is unpredictable, so a stored body cannot forge a part (RFC 9110 §14.6).
  if (decision.kind === 'partial')
    return partialContent(
      entry.headers,
      entry.body,
      decision.ranges,
      randomBytes(12).toString('hex')
    )
  if (decision.kind === 'unsatisfiable') return rangeNotSatisfiable(length)
  return undefined
}

/**
 * RFC 9111 §5.2.1.7: a request with only-if-cached that the cache cannot answer gets a 504.
 *
 * @example
 * ```ts
 * gatewayTimeout('cachewire; detail=only-if-cached')
 * ```
 */
export function gatewayTimeout(cacheStatus: string): ReplyOutcome {
  return {
    kind: 'response',
    status: 504,
    headers: [
      ['content-length', '0'],
      ['cache-status', cacheStatus],
    ],
    body: EMPTY_BODY,
  }
}

export { EMPTY_BODY }

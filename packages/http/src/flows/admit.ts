import {
  analyseResponse,
  buildStoredResponse,
  type EntryPolicy,
  type ResponseFacts,
} from '../entry/entry.js'
import type { VaryIndex } from '../entry/entry-codec.js'
import type { ResolvedHttpCacheOptions } from '../options/resolve-options.js'
import { hashKey, urlTag, variantKey } from '../request/cache-key.js'
import type { RequestContext } from '../request/prepare-request.js'
import { correctedInitialAge } from '../semantics/freshness.js'
import { headerValue, toHeaderPairs } from '../semantics/headers.js'
import { Reason } from '../semantics/reasons.js'
import { canStore } from '../semantics/storability.js'
import { exceedsVariantCap, secondaryKey } from '../semantics/vary.js'
import type { CapturedResponse, HeaderPairs, StoredResponse, TagsOption } from '../types.js'

/** A response to store, with the timing RFC 9111 §4.2.3 needs. */
export interface AdmitInput {
  status: number
  pairs: HeaderPairs
  body: Buffer
  complete: boolean
  requestTime: number
  responseTime: number
  /** The URL's Vary index as last read, for the variant cap. */
  index: VaryIndex | undefined
}

export type Admission =
  { stored: true; entry: StoredResponse; variantHash: string | undefined } | NotStored

/** Why a response is not stored; `silent` when it carried no freshness at all and no `ttl` applied. */
export interface NotStored {
  stored: false
  reason: Reason
  silent?: boolean | undefined
}

/** Surrogate keys are app-chosen tags; bound them so one response cannot flood the tag index. */
const MAX_SURROGATE_KEYS = 64
const SURROGATE_KEY = /^[\x21-\x7e]{1,256}$/

/**
 * Decides whether a captured response is stored and, if so, builds its entry (RFC 9111 §3 via
 * canStore, §4.1 Vary with the variant cap, tags from options, route and the surrogate-key field).
 * Throws only if a user tags function throws; the engine turns that into "not stored".
 *
 * @example
 * ```ts
 * const admission = admitResponse(context, { status, pairs, body, complete: true, requestTime, responseTime, index: undefined }, options)
 * ```
 */
export function admitResponse(
  context: RequestContext,
  input: AdmitInput,
  options: ResolvedHttpCacheOptions
): Admission {
  const policy = entryPolicy(context, options)
  const facts = analyseResponse(input.pairs, policy, input.responseTime, input.status)
  const verdict = storability(context, input.status, input.pairs, facts, input, options)
  if (verdict !== true) return notStored(verdict, facts)
  let key = context.primary
  let variantHash: string | undefined
  const vary = facts.vary === '*' ? [] : facts.vary
  if (vary.length > 0) {
    key = variantKey(context.primary, secondaryKey(vary, context.request.headers))
    variantHash = hashKey(key)
    const known =
      input.index !== undefined && sameNames(input.index.vary, vary) ? input.index.variants : []
    if (exceedsVariantCap(known, variantHash, options.maxVariants))
      return { stored: false, reason: Reason.VariantCap }
  }
  const tags = collectTags(context, input.pairs, options)
  // Named field by field: V8 (Node 20) adds a property to an object spread's copy the slow way,
  // about a microsecond each (the note on forward.ts's createForwardOutcome).
  const entry = buildStoredResponse(
    {
      key,
      status: input.status,
      pairs: input.pairs,
      body: input.body,
      facts,
      requestTime: input.requestTime,
      responseTime: input.responseTime,
      tags,
      route: context.route?.name,
    },
    policy
  )
  if (entry.expiresAt <= input.responseTime) return { stored: false, reason: Reason.NoFreshness }
  return { stored: true, entry, variantHash }
}

/**
 * The header-time guess at storability, for Cache-Status on a live miss: everything but the
 * body is known, so only a body that turns out too large or incomplete makes it wrong.
 *
 * @example
 * ```ts
 * predictStorage(context, 200, pairs, options, Date.now()) // { stored: true, ttl: 60 }
 * ```
 */
export function predictStorage(
  context: RequestContext,
  status: number,
  pairs: HeaderPairs,
  options: ResolvedHttpCacheOptions,
  now: number
): { stored: true; ttl: number } | NotStored {
  const facts = analyseResponse(pairs, entryPolicy(context, options), now, status)
  const verdict = storability(
    context,
    status,
    pairs,
    facts,
    { complete: true, body: undefined },
    options
  )
  if (verdict !== true) return notStored(verdict, facts)
  const age = correctedInitialAge({
    age: headerValue(pairs, 'age'),
    date: headerValue(pairs, 'date'),
    requestTime: now,
    responseTime: now,
  })
  return { stored: true, ttl: Math.floor((facts.freshness.lifetimeMs - age) / 1000) }
}

/**
 * The entry policy for this request: engine options with the route's overrides.
 *
 * @example
 * ```ts
 * entryPolicy(context, options).ttlMs // the route's TTL when it set one
 * ```
 */
export function entryPolicy(
  context: RequestContext,
  options: ResolvedHttpCacheOptions
): EntryPolicy {
  const route = context.route
  return {
    heuristic: options.heuristic,
    scope: context.scope,
    markPrivate:
      context.scope === 'private' &&
      (route?.privateIfCredentialed ?? options.privateIfCredentialed),
    etag: options.etag,
    targetedField: options.targetedField,
    surrogateKeyHeader: options.surrogateKeyHeader,
    ttlMs: route?.ttlMs ?? options.ttlMs,
    staleWhileRevalidateMs: route?.staleWhileRevalidateMs ?? options.staleWhileRevalidateMs,
    staleIfErrorMs: route?.staleIfErrorMs ?? options.staleIfErrorMs,
    revalidationWindowMs: options.revalidationWindowMs,
  }
}

function storability(
  context: RequestContext,
  status: number,
  pairs: HeaderPairs,
  facts: ResponseFacts,
  body: { complete: boolean; body: Buffer | undefined },
  options: ResolvedHttpCacheOptions
): true | Reason {
  // A private-scope entry answers only the user it was stored for: `private` is no obstacle.
  // (Copied only when it has one: a spread's copy that gains a field is slow in V8, see above.)
  const directives =
    context.scope === 'private' && facts.directives.private !== undefined
      ? { ...facts.directives, private: undefined }
      : facts.directives
  const verdict = canStore({
    method: context.method,
    status,
    headers: pairs,
    directives,
    authorization: context.authorization,
    shareAuthenticated: context.route?.shareAuthenticated ?? options.shareAuthenticated,
    // Cookie requests reach this point only when the route opted in (see checkEligibility).
    cookie: false,
    requestNoStore: context.noStore,
    complete: body.complete,
    bodyBytes: body.body?.length,
    statuses: options.statuses,
    maxEntrySize: options.maxEntryBytes,
    explicitFreshness: facts.explicitFreshness,
    reusable: facts.reusable,
  })
  if (verdict === true && headerBytes(pairs) > options.maxHeaderBytes) return Reason.HeadersTooLarge
  return verdict
}

/** Size of header lines as they go on the wire: `name: value\r\n`. */
function headerBytes(pairs: HeaderPairs): number {
  let bytes = 0
  for (const [name, value] of pairs) bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 4
  return bytes
}

/** The URL tag, the engine's and the route's tags, then the response's surrogate keys; de-duplicated. */
export function collectTags(
  context: RequestContext,
  pairs: HeaderPairs,
  options: ResolvedHttpCacheOptions
): string[] {
  const url = urlTag(context.authority, context.path, context.query)
  const engineTags = tagList(options.tags, context)
  const routeTags = tagList(context.route?.tags, context)
  const keys = surrogateKeys(pairs, options.surrogateKeyHeader)
  // Most responses carry the URL tag alone: no Set is built and spread for it on every store.
  if (engineTags === undefined && routeTags === undefined && keys.length === 0) return [url]
  const tags = new Set([url])
  for (const list of [engineTags, routeTags])
    if (list !== undefined)
      for (const tag of list)
        if (typeof tag === 'string' && tag !== '' && tag.length <= 256) tags.add(tag)
  for (const key of keys) tags.add(key)
  return [...tags]
}

function tagList(
  option: TagsOption | undefined,
  context: RequestContext
): readonly unknown[] | undefined {
  return typeof option === 'function' ? option(context.request) : option
}

/** The response's surrogate keys (the configured field), well-formed ones only, at most MAX_SURROGATE_KEYS. */
function surrogateKeys(pairs: HeaderPairs, field: string | undefined): string[] {
  const value = field === undefined ? undefined : headerValue(pairs, field)
  if (value === undefined) return []
  return value
    .split(/[\s,]+/)
    .filter((key) => SURROGATE_KEY.test(key))
    .slice(0, MAX_SURROGATE_KEYS)
}

function notStored(reason: Reason, facts: ResponseFacts): NotStored {
  return reason === Reason.NoFreshness && facts.noFreshness
    ? { stored: false, reason, silent: true }
    : { stored: false, reason }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i])
}

/**
 * A captured response as admitResponse takes it: pairs with lower-case names and the body as a
 * Buffer view (no copy).
 *
 * @example
 * ```ts
 * captureInput({ status: 200, headers: { etag: '"a"' }, body: bytes, complete: true }, requestTime, Date.now(), undefined)
 * ```
 */
export function captureInput(
  captured: CapturedResponse,
  requestTime: number,
  responseTime: number,
  index: VaryIndex | undefined
): AdmitInput {
  const body = captured.body
  return {
    status: captured.status,
    pairs: toHeaderPairs(captured.headers),
    body: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    complete: captured.complete,
    requestTime,
    responseTime,
    index,
  }
}

/**
 * Whether a stored response is the variant this request selects (RFC 9111 §4.1): its full key
 * equals the request's primary key plus the secondary key from the entry's Vary names.
 *
 * @example
 * ```ts
 * selectsVariant(entry, context) // false for another Accept-Encoding
 * ```
 */
export function selectsVariant(entry: StoredResponse, context: RequestContext): boolean {
  const key =
    entry.vary.length === 0
      ? context.primary
      : variantKey(context.primary, secondaryKey(entry.vary, context.request.headers))
  return entry.key === key
}

import type { ServerResponse } from 'node:http'
import { InvalidOptionError, rejectUnknownOptions } from '@cachewire/core'
import { isNotModified } from '../semantics/conditional.js'
import { generateEtag, type EtagMode } from '../semantics/etag.js'
import { notModifiedHeaders } from '../semantics/headers.js'
import type { RequestHeaders } from '../types.js'
import { intercept, snapshotHeaders } from './intercept.js'

/** Options of the adapters' `conditional()` middleware. */
export interface ConditionalOptions {
  /** ETag made for 2xx bodies that have none; a weak ETag of the same bytes is upgraded when 'strong'. @default 'strong' */
  etag?: 'strong' | 'weak' | false | undefined
  /**
   * Largest body held to compute an ETag, in bytes. A larger body streams through as it comes,
   * answered 304 only on validators the handler set itself. @default 1_048_576
   */
  maxBodyBytes?: number | undefined
}

/** `conditional()` options, validated once. */
export interface ResolvedConditionalOptions {
  readonly etag: EtagMode
  readonly maxBodyBytes: number
}

/**
 * Validates `conditional()` options at build time; a bad or unknown one throws an
 * `InvalidOptionError` naming it.
 *
 * @example
 * ```ts
 * resolveConditionalOptions({ maxBodyBytes: 65_536 })
 * ```
 */
export function resolveConditionalOptions(
  options: ConditionalOptions = {}
): ResolvedConditionalOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  if ('maxBodySize' in options)
    throw new InvalidOptionError(
      'maxBodySize',
      'written as options.maxBodyBytes since 1.0',
      (options as Record<string, unknown>)['maxBodySize']
    )
  rejectUnknownOptions(options, ['etag', 'maxBodyBytes'], '')
  const etag = options.etag ?? 'strong'
  if (etag !== 'strong' && etag !== 'weak' && etag !== false)
    throw new InvalidOptionError('etag', '"strong", "weak" or false', etag)
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0)
    throw new InvalidOptionError('maxBodyBytes', 'a non-negative integer', options.maxBodyBytes)
  return Object.freeze({ etag, maxBodyBytes })
}

/**
 * The ETag to set for a body: none for non-2xx, 204 and 206, or when the handler set its own,
 * except that a weak ETag of these very bytes is upgraded in strong mode (Express makes one).
 *
 * @example
 * ```ts
 * etagFor(200, undefined, Buffer.from('hi'), 'strong') // '"2-witfkXg0JglCjW9RssWvTAveakI"'
 * ```
 */
export function etagFor(
  status: number,
  existing: string | undefined,
  body: Buffer,
  mode: EtagMode
): string | undefined {
  if (mode === false || status < 200 || status > 299 || status === 204 || status === 206)
    return undefined
  const etag = generateEtag(body, mode)
  if (existing === undefined) return etag
  return mode === 'strong' && existing === `W/${etag}` ? etag : undefined
}

/**
 * Turns a response whose head is not yet written into a 304: only the RFC 9110 §15.4.5 fields stay.
 *
 * @example
 * ```ts
 * if (isNotModified(clientHeaders, validators)) toNotModified(res)
 * ```
 */
export function toNotModified(res: ServerResponse): void {
  const keep = new Set(notModifiedHeaders(snapshotHeaders(res)).map(([name]) => name))
  for (const name of res.getHeaderNames()) if (!keep.has(name)) res.removeHeader(name)
  res.statusCode = 304
}

/**
 * `conditional()` over a `node:http` response: the body is held until it ends (up to the cap),
 * an ETag is added, and the client's If-None-Match / If-Modified-Since on a 2xx answer becomes a
 * 304. The head is written through the outermost `writeHead`, so wrappers installed after this
 * one (a cache behind it) see the handler's status and take their snapshot before the 304.
 *
 * @example
 * ```ts
 * conditionalResponse(res, clientHeaders, 'GET', resolveConditionalOptions())
 * ```
 */
export function conditionalResponse(
  res: ServerResponse,
  clientHeaders: RequestHeaders,
  method: string,
  options: ResolvedConditionalOptions
): void {
  let decided = false
  let notModified = false
  let held: Buffer[] = []
  let bytes = 0

  const decide = (body: Buffer | undefined): void => {
    decided = true
    if (body !== undefined && method === 'GET') {
      const etag = etagFor(res.statusCode, header(res, 'etag'), body, options.etag)
      if (etag !== undefined) res.setHeader('etag', etag)
    }
    notModified = isNotModified(
      clientHeaders,
      {
        status: res.statusCode,
        etag: header(res, 'etag'),
        lastModified: header(res, 'last-modified'),
      },
      Date.now()
    )
    interception.flushHead()
  }
  const release = (): void => {
    const body = Buffer.concat(held, bytes)
    held = []
    if (!notModified) interception.send(body)
  }

  const interception = intercept(res, {
    head: () => (decided ? (notModified ? toNotModified(res) : undefined) : 'defer'),
    flush: () => {
      if (notModified) toNotModified(res)
    },
    body(chunk) {
      if (decided) return !notModified
      if (bytes + chunk.length <= options.maxBodyBytes) {
        held.push(chunk)
        bytes += chunk.length
        return false
      }
      // Too large to hash: decide on the handler's own validators, send what we hold, stream the rest.
      decide(undefined)
      release()
      return !notModified
    },
    end(end) {
      if (!decided) {
        decide(Buffer.concat(held, bytes))
        release()
      }
      end()
    },
  })
}

function header(res: ServerResponse, name: string): string | undefined {
  const value = res.getHeader(name)
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

import type { ReplyOutcome, ResponsePatch } from '@cachewire/http'
import type { CacheContext } from './options.js'

/**
 * Writes a response the engine produced in full (a hit, a 304, or a buffered origin answer)
 * onto `ctx`, for Koa's `respond` to send: the status, the body as a Buffer, and the stored
 * header lines exactly (a repeated name is appended, never overwritten). Koa derives a
 * Content-Type and Content-Length from a Buffer body; those are removed first, so a stored
 * `text/css` never turns into Koa's `application/octet-stream` and a HEAD keeps the full
 * body's Content-Length. Headers set earlier on the response (by middleware before the cache)
 * are kept unless the entry has the same name. Later middleware never runs.
 *
 * @example
 * ```ts
 * writeResponse(ctx, { kind: 'hit', status: 200, headers: [['content-type', 'text/css']], body: Buffer.from('a{}') })
 * ```
 */
export function writeResponse(ctx: CacheContext, outcome: ReplyOutcome): void {
  const res = ctx.res
  ctx.status = outcome.status
  res.removeHeader('content-type')
  for (const [name] of outcome.headers) res.removeHeader(name)
  for (const [name, value] of outcome.headers) res.appendHeader(name, value)
  // With Content-Type already on the response, Koa's body setter skips its MIME lookup.
  ctx.body = outcome.body
  // Koa set Content-Length from the body it was given; the stored one describes the full
  // representation (a HEAD's body is empty), or, when none was stored, there should be none.
  const length = outcome.headers.find(([name]) => name === 'content-length')
  if (length !== undefined) res.setHeader('content-length', length[1])
  else res.removeHeader('content-length')
}

/**
 * Applies an engine patch to a live response whose head Koa has yet to write: the engine's
 * status (a 304 drops the body, as Koa does for any 304), removed fields, and set lines.
 *
 * @example
 * ```ts
 * applyPatch(ctx, outcome.patch(ctx.status, responseHead(ctx)))
 * ```
 */
export function applyPatch(ctx: CacheContext, patch: ResponsePatch): void {
  if (ctx.headerSent) return
  if (patch.status !== ctx.status) ctx.status = patch.status
  for (const name of patch.remove) ctx.res.removeHeader(name)
  const grouped = new Map<string, string[]>()
  for (const [name, value] of patch.set) {
    const values = grouped.get(name)
    if (values === undefined) grouped.set(name, [value])
    else values.push(value)
  }
  for (const [name, values] of grouped) ctx.res.setHeader(name, values.length === 1 ? (values[0] as string) : values)
}

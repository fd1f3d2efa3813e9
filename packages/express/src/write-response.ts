import type { ServerResponse } from 'node:http'
import type { ReplyOutcome } from '@cachewire/http'

/**
 * Writes a response the engine produced in full (a hit, a 304, or a buffered origin answer)
 * straight to the socket: the wire-order lines, then one `writeHead` and one `end`. Express's
 * `res.send` machinery and later middleware never run.
 *
 * A repeated name is appended, never overwritten. Headers set earlier on `res` (by middleware
 * before the cache) are kept unless the response has the same name. The lines are put on `res`
 * before `writeHead` rather than passed to it because Node 20's `writeHead(status, array)`
 * keeps only the last line of a repeated name once any header was set with `setHeader`.
 *
 * @example
 * ```ts
 * writeResponse(res, { kind: 'hit', status: 200, headers: [['content-type', 'text/plain']], body: Buffer.from('hi') })
 * ```
 */
export function writeResponse(res: ServerResponse, outcome: ReplyOutcome): void {
  const { headers } = outcome
  for (const [name] of headers) res.removeHeader(name)
  for (const [name, value] of headers) res.appendHeader(name, value)
  res.writeHead(outcome.status)
  if (outcome.body.length > 0) res.end(outcome.body)
  else res.end()
}

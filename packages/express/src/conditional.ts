import type { ServerResponse } from 'node:http'
import type { NextFunction, Request, Response } from 'express'
import {
  conditionalResponse,
  resolveConditionalOptions,
  type ConditionalOptions,
} from '@cachewire/http/kit'
import type { Middleware } from './types.js'

/**
 * ETags and 304s for GET and HEAD, with or without the server-side cache: the response body is
 * held until it ends (up to `maxBodyBytes`), an ETag is added when it has none (strong by
 * default, over the exact bytes sent), and a matching If-None-Match or If-Modified-Since on a
 * 2xx answer is turned into a 304 with the RFC 9110 §15.4.5 fields: the http package's rules, the
 * same the cache uses for its hits.
 *
 * Put it where the bytes it should hash are: after `compression()` it sees identity bytes,
 * before it the compressed ones. Before the cache middleware, the cache stores the handler's full
 * response (with the ETag made here) and hits get their 304s from it too. HEAD responses carry
 * no body to hash: their ETag can only come from the handler (or the cache).
 *
 * @example
 * ```ts
 * import { conditional } from '@cachewire/express'
 *
 * app.use(conditional())
 * app.get('/report', (req, res) => { res.write('a,b\n'); res.end('1,2\n') }) // ETag + 304s
 * ```
 */
export function conditional(options: ConditionalOptions = {}): Middleware {
  const resolved = resolveConditionalOptions(options)
  return function conditional(req: Request<unknown>, res: Response, next: NextFunction): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next()
    // Express (res.send, res.sendFile) would answer these itself, keeping its own weak ETag:
    // the handler runs unconditionally and the decision is made here, on the final response.
    const clientHeaders = req.headers
    if (
      clientHeaders['if-none-match'] !== undefined ||
      clientHeaders['if-modified-since'] !== undefined
    ) {
      const { 'if-none-match': _inm, 'if-modified-since': _ims, ...rest } = clientHeaders
      req.headers = rest
    }
    conditionalResponse(res as ServerResponse, clientHeaders, req.method, resolved)
    next()
  }
}

import type { IncomingMessage, OutgoingHttpHeader, ServerResponse } from 'node:http'
import type { HttpCache, ReplyOutcome } from '@cachewire/http'
import {
  bufferResponse,
  captureLive,
  intercept,
  sendReply,
  type FrameworkBinding,
} from '@cachewire/http/kit'
import { rewriteFastifyUrl } from './rewrite-url.js'
import { requestHost, toHttpRequest } from './to-http-request.js'
import type { Exchange, HookDone } from './types.js'

const EMPTY_BODY: Buffer = Buffer.alloc(0)

/**
 * Fastify's side of the kit's serve loop. The cache runs as a hook: going on is calling the
 * hook's `done`; whatever Fastify sends after it (the handler's value or `reply.send` of any
 * payload, the error handler's answer, onSend hooks such as compression) reaches `reply.raw`,
 * where the kit's interception captures it as it goes on the wire. A reply the engine produced
 * is written on `reply.raw` after `reply.hijack()`, so Fastify sends nothing more (its onResponse
 * hooks still run). No caching rule lives here.
 */
export function fastifyBinding(engine: HttpCache): FrameworkBinding<Exchange, HookDone> {
  return {
    req: (exchange) => exchange.request.raw,
    toRequest: (exchange, route) => toHttpRequest(exchange.request, route),
    host: (exchange) => requestHost(exchange.request),
    expose(exchange, helpers) {
      exchange.request.cache = helpers
    },
    proceed,
    write: writeReply,
    live(exchange, outcome, done, pass, finish) {
      const capture = captureLive(exchange.reply.raw, {
        onHead: (status, headers) => outcome.patch(status, headers),
        captureBody: outcome.captureBody,
        maxBodyBytes: outcome.maxBodyBytes,
        onDone: (captured) => finish(captured),
        // Read-your-writes: a stored response is in the store before it ends.
        storeBeforeEnd: outcome.storeBeforeEnd,
        // Read-your-writes: a POST's invalidation is done before its response ends.
        holdEnd: outcome.invalidateBeforeEnd
          ? (head, end) =>
              void finish({
                status: head.status,
                headers: head.headers,
                body: EMPTY_BODY,
                complete: true,
              }).then(end, end)
          : undefined,
      })
      pass.onRelease = () => capture.passThrough()
      proceed(exchange, done)
    },
    async buffered(exchange, _origin, done) {
      const reply = exchange.reply
      exchange.headers = reply.getHeaders()
      const buffer = bufferResponse(reply.raw, { resetHead: true })
      // Once the answer is in memory the reply is ours to write: Fastify must not send again
      // (an async handler that called reply.send without returning the reply).
      intercept(reply.raw, {
        end(end) {
          reply.hijack()
          end()
        },
      })
      try {
        proceed(exchange, done)
        const { status, headers, body } = await buffer.result
        return { status, headers, body, complete: true }
      } finally {
        buffer.restore()
      }
    },
    refreshed(exchange, pending, done) {
      const request = exchange.request
      captureLive(exchange.reply.raw, {
        captureBody: true,
        maxBodyBytes: engine.options.maxEntryBytes,
        onDone: (captured) => {
          if (captured === undefined)
            pending.reject(new Error(`the refresh of ${request.originalUrl} did not complete`))
          else pending.resolve(captured)
        },
      })
      proceed(exchange, done)
    },
    rewriteUrl: (exchange, rewrite) => rewriteFastifyUrl(exchange.request, rewrite),
    listener: (exchange) => {
      const server = exchange.request.server as unknown as {
        routing(req: IncomingMessage, res: ServerResponse): void
      }
      return (req, res) => server.routing(req, res)
    },
    fail(exchange, error, done) {
      if (!exchange.proceeded) {
        exchange.proceeded = true
        done(error instanceof Error ? error : new Error(String(error)))
        return
      }
      // After a buffered run nothing of Fastify's is left to answer: end the response plainly.
      const res = exchange.reply.raw
      exchange.reply.hijack()
      exchange.request.log.error({ err: error }, 'cachewire: the response could not be written')
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 500
        res.end()
      } else if (!res.writableEnded) {
        res.destroy()
      }
    },
  }
}

/** Lets Fastify go on with the request (once). */
function proceed(exchange: Exchange, done: HookDone): void {
  if (exchange.proceeded) return
  exchange.proceeded = true
  done()
}

/**
 * Writes a reply straight to the socket: Fastify's later hooks, handler and onSend hooks never
 * run for it. Headers set before the cache (by earlier hooks, such as CORS, which Fastify keeps on
 * the reply until the head) go first, then the stored lines replace any of the same name; a
 * repeated name is appended, never overwritten.
 */
function writeReply(exchange: Exchange, reply: ReplyOutcome): void {
  const fastifyReply = exchange.reply
  const res = fastifyReply.raw
  const before = exchange.headers ?? fastifyReply.getHeaders()
  fastifyReply.hijack()
  for (const [name, value] of Object.entries(before)) {
    if (value !== undefined && !res.hasHeader(name))
      res.setHeader(name, value as OutgoingHttpHeader)
  }
  sendReply(res, reply)
}

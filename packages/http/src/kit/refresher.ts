import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { PreparedRequest } from '../request/prepare-request.js'
import type { CapturedResponse, OriginRequest } from '../types.js'

/**
 * Request field that marks a synthetic refresh request. Its value is `<secret>.<id>`; only the
 * middleware instance that holds the secret acts on it, so a client sending the field gains nothing.
 */
export const REFRESH_HEADER = 'x-cachewire-refresh'

/** A refresh waiting for its synthetic request to reach the middleware. */
export interface PendingRefresh {
  /** The request whose stale hit started the refresh, as the engine prepared it. */
  readonly prepared: PreparedRequest | undefined
  resolve(captured: CapturedResponse): void
  reject(error: Error): void
}

/** Anything that handles a Node request: an Express app, a Koa `app.callback()`. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => unknown

/** A refresh that has not come back by then is given up, so its entry can be refreshed again. @default 30_000 */
const REFRESH_TIMEOUT_MS = 30_000

/**
 * Stale-while-revalidate without a client, for adapters: dispatches a synthetic GET through the
 * whole app (light-my-request, no socket, loaded on the first refresh), marked with a
 * per-instance secret, and resolves with what the handler answered once the adapter's middleware
 * has captured it (`claim`, then `resolve`). A refresh that never reaches the middleware, or
 * hangs, rejects.
 *
 * @example
 * ```ts
 * const refresher = new Refresher()
 * const captured = await refresher.dispatch(app, origin, req.socket.remoteAddress)
 * ```
 */
export class Refresher {
  readonly #secret = randomBytes(24).toString('base64url')
  readonly #pending = new Map<string, PendingRefresh>()
  readonly #timeoutMs: number
  #sequence = 0

  constructor(timeoutMs = REFRESH_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs
  }

  dispatch(
    listener: NodeListener,
    origin: OriginRequest,
    remoteAddress: string | undefined,
    prepared?: PreparedRequest
  ): Promise<CapturedResponse> {
    const id = (++this.#sequence).toString(36)
    return new Promise<CapturedResponse>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          settleLate(
            new Error(`the refresh of ${origin.url} took longer than ${this.#timeoutMs} ms`)
          ),
        this.#timeoutMs
      )
      timer.unref()
      this.#pending.set(id, {
        prepared,
        resolve: (captured) => {
          clearTimeout(timer)
          resolve(captured)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      const settleLate = (error: Error): void => {
        clearTimeout(timer)
        if (!this.#pending.delete(id)) return
        reject(error)
      }
      const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
        // The app decides its protocol from the socket when no proxy header is trusted.
        if (origin.protocol === 'https') (req.socket as { encrypted?: boolean }).encrypted = true
        void listener(req, res)
      }
      import('light-my-request')
        .then(({ default: inject }) =>
          inject(dispatch, {
            method: origin.method as 'GET',
            url: origin.url,
            headers: { ...origin.headers, [REFRESH_HEADER]: `${this.#secret}.${id}` },
            ...(remoteAddress === undefined ? {} : { remoteAddress }),
          })
        )
        .then(
          () =>
            settleLate(
              new Error(
                `the refresh of ${origin.url} was answered before it reached the cache middleware`
              )
            ),
          (error: unknown) => settleLate(error instanceof Error ? error : new Error(String(error)))
        )
    })
  }

  /** The refresh a request belongs to, if it carries this instance's secret; each id is claimed once. */
  claim(value: string | string[] | undefined): PendingRefresh | undefined {
    if (typeof value !== 'string') return undefined
    const dot = value.lastIndexOf('.')
    if (dot <= 0) return undefined
    const given = Buffer.from(value.slice(0, dot))
    const secret = Buffer.from(this.#secret)
    if (given.length !== secret.length || !timingSafeEqual(given, secret)) return undefined
    const id = value.slice(dot + 1)
    const pending = this.#pending.get(id)
    if (pending !== undefined) this.#pending.delete(id)
    return pending
  }

  /** Gives up every refresh still waiting (the cache is closing). */
  close(): void {
    for (const [id, pending] of [...this.#pending]) {
      this.#pending.delete(id)
      pending.reject(new Error('the cache was closed before the refresh came back'))
    }
  }

  /** Removes the marker from a claimed request, so the handler and its logs never see it. */
  static strip(req: IncomingMessage): void {
    delete req.headers[REFRESH_HEADER]
    const raw = req.rawHeaders ?? []
    const kept: string[] = []
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if ((raw[i] as string).toLowerCase() !== REFRESH_HEADER)
        kept.push(raw[i] as string, raw[i + 1] as string)
    }
    req.rawHeaders = kept
  }
}

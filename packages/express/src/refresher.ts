import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CapturedResponse, OriginRequest } from '@cachewire/http'
import inject from 'light-my-request'

/**
 * Request field that marks a synthetic refresh request. Its value is `<secret>.<id>`; only the
 * middleware instance that holds the secret acts on it, so a client sending the field gains nothing.
 */
export const REFRESH_HEADER = 'x-cachewire-refresh'

/** A refresh waiting for its synthetic request to reach the middleware. */
export interface PendingRefresh {
  resolve(captured: CapturedResponse): void
  reject(error: Error): void
}

type Dispatch = (req: IncomingMessage, res: ServerResponse) => void

/**
 * Stale-while-revalidate without a client: dispatches a synthetic GET through the whole app
 * (light-my-request, no socket), marked with a per-instance secret, and resolves with what the
 * handler answered once the middleware that sent it has captured the response.
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
  #sequence = 0

  dispatch(app: Dispatch, origin: OriginRequest, remoteAddress: string | undefined): Promise<CapturedResponse> {
    const id = (++this.#sequence).toString(36)
    return new Promise<CapturedResponse>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      const settleLate = (error: Error): void => {
        if (!this.#pending.delete(id)) return
        reject(error)
      }
      const dispatch: Dispatch = (req, res) => {
        // The app decides req.protocol from the socket when no proxy header is trusted.
        if (origin.protocol === 'https') (req.socket as { encrypted?: boolean }).encrypted = true
        app(req, res)
      }
      inject(dispatch, {
        method: origin.method as 'GET',
        url: origin.url,
        headers: { ...origin.headers, [REFRESH_HEADER]: `${this.#secret}.${id}` },
        ...(remoteAddress === undefined ? {} : { remoteAddress }),
      }).then(
        () => settleLate(new Error(`the refresh of ${origin.url} was answered before it reached the cache middleware`)),
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
}

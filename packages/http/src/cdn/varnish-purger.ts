import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import {
  InvalidOptionError,
  parseDuration,
  rejectUnknownOptions,
  type Duration,
} from '@cachewire/core'
import type { PurgeEvent, PurgeHook } from './purge-hook.js'

export interface VarnishPurgerOptions {
  /** Varnish's address, e.g. `http://127.0.0.1:6081`; one per instance to purge on all of them. */
  url: string | readonly string[]
  /** Request field carrying the ban regex; must match the VCL. @default 'X-Cachewire-Ban' */
  banHeader?: string | undefined
  /** Per request: `'2s'`, or a number of milliseconds. @default '2s' */
  timeout?: Duration | undefined
  /** Extra fields on every request, e.g. a shared secret the VCL checks. */
  headers?: Record<string, string> | undefined
}

/** RFC 9110 §5.1 field-name. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Tags per BAN request; a ban's regex is tested against every object it may hit, so keep it small. */
const TAGS_PER_BAN = 50

/**
 * A purge hook for Varnish without vmods (stock Debian varnish 7.x, no xkey): tag purges become
 * one `BAN` whose `X-Cachewire-Ban` field holds a regex over `obj.http.Surrogate-Key`, URL purges
 * become `PURGE` requests for the URL's path with its Host. The VCL (see the README) turns them
 * into `ban("obj.http.Surrogate-Key ~ " + req.http.X-Cachewire-Ban)` and `return (purge)`.
 * Objects must carry Surrogate-Key: turn on `cdn: { surrogateKeys: true }`.
 *
 * @example
 * ```ts
 * import { createHttpCache } from '@cachewire/http'
 * import { varnishPurger } from '@cachewire/http/operations'
 * const engine = createHttpCache({
 *   cdn: { surrogateKeys: true, purgeHooks: [varnishPurger({ url: 'http://127.0.0.1:6081' })] },
 * })
 * ```
 */
export function varnishPurger(options: VarnishPurgerOptions): PurgeHook {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  if ('timeoutMs' in options)
    throw new InvalidOptionError(
      'timeoutMs',
      'written as options.timeout since 1.0',
      (options as Record<string, unknown>)['timeoutMs']
    )
  rejectUnknownOptions(options, ['url', 'banHeader', 'timeout', 'headers'], '')
  const urls = (Array.isArray(options.url) ? options.url : [options.url]).map(
    (value: unknown, i) => {
      try {
        if (typeof value !== 'string') throw new TypeError()
        const url = new URL(value)
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError()
        return url
      } catch {
        throw new InvalidOptionError(
          Array.isArray(options.url) ? `url[${i}]` : 'url',
          'an http(s) URL of a Varnish listener',
          value
        )
      }
    }
  )
  if (urls.length === 0) throw new InvalidOptionError('url', 'at least one URL', options.url)
  const banHeader = options.banHeader ?? 'X-Cachewire-Ban'
  if (typeof banHeader !== 'string' || !FIELD_NAME.test(banHeader))
    throw new InvalidOptionError('banHeader', 'a header field name', banHeader)
  const timeoutMs =
    options.timeout === undefined
      ? 2000
      : parseDuration(options.timeout, 'timeout', { kind: 'timeout' })
  const extra = { ...options.headers }

  return {
    name: 'varnish',
    async purge(event: PurgeEvent): Promise<void> {
      const sends: Array<Promise<void>> = []
      for (const varnish of urls) {
        for (let i = 0; i < event.tags.length; i += TAGS_PER_BAN) {
          const regex = surrogateKeyRegex(event.tags.slice(i, i + TAGS_PER_BAN))
          sends.push(send(varnish, 'BAN', '/', { ...extra, [banHeader]: regex }, timeoutMs))
        }
        for (const target of event.urls) {
          const url = new URL(target)
          sends.push(
            send(
              varnish,
              'PURGE',
              url.pathname + url.search,
              { ...extra, host: url.host },
              timeoutMs
            )
          )
        }
      }
      const failed = (await Promise.allSettled(sends)).find(
        (result) => result.status === 'rejected'
      )
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
    },
  }
}

/**
 * A regex matching a space-separated Surrogate-Key list that holds any of `tags`. Written with
 * no spaces or quotes, so it is a single token in a VCL ban expression; every other byte that is
 * not a letter or digit is escaped as `\xHH`.
 *
 * @example
 * ```ts
 * surrogateKeyRegex(['products', 'a.b']) // '(^|\\s)(products|a\\x2eb)(\\s|$)'
 * ```
 */
export function surrogateKeyRegex(tags: readonly string[]): string {
  const escaped = tags.map((tag) =>
    tag.replace(
      /[^A-Za-z0-9_-]/g,
      (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`
    )
  )
  return `(^|\\s)(${escaped.join('|')})(\\s|$)`
}

function send(
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  timeoutMs: number
): Promise<void> {
  const request = base.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(
      {
        protocol: base.protocol,
        hostname: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port,
        method,
        path,
        headers,
        timeout: timeoutMs,
      },
      (res) => {
        res.resume()
        res.on('end', () => {
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) resolve()
          else reject(new Error(`varnish at ${base.host} answered ${status} to ${method} ${path}`))
        })
        res.on('error', reject)
      }
    )
    req.on('timeout', () =>
      req.destroy(
        new Error(`varnish at ${base.host} did not answer ${method} within ${timeoutMs} ms`)
      )
    )
    req.on('error', reject)
    req.end()
  })
}

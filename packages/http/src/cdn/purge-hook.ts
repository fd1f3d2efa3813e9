/**
 * What the engine invalidated, as a CDN purger receives it. `tags` are public tags only (the
 * internal URL tags are hashes, meaningless outside cachewire); `urls` are absolute.
 */
export interface PurgeEvent {
  /** `tags`: `invalidateTags`; `url`: `purgeUrl` or an unsafe request (POST, PUT, DELETE…) that succeeded. */
  kind: 'tags' | 'url'
  tags: readonly string[]
  urls: readonly string[]
}

/**
 * Called by the engine after each invalidation, to tell a CDN in front. `invalidateTags` and
 * `purgeUrl` wait for it; so does an unsafe request's response, for read-your-writes through the
 * CDN, so keep it bounded (the Varnish purger has a timeout). A hook that throws or rejects is
 * reported through `onError` and never fails the request or the invalidation.
 *
 * @example
 * ```ts
 * const fastly: PurgeHook = {
 *   name: 'fastly',
 *   async purge({ tags }) {
 *     if (tags.length > 0) await fetch(`https://api.fastly.com/service/${id}/purge`, { method: 'POST', headers: { 'fastly-key': key, 'surrogate-key': tags.join(' ') } })
 *   },
 * }
 * createHttpCache({ purgeHooks: [fastly] })
 * ```
 */
export interface PurgeHook {
  /** Shown in the error `onError` receives. */
  readonly name?: string | undefined
  purge(event: PurgeEvent): void | Promise<void>
}

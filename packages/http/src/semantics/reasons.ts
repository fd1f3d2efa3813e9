/**
 * Why the cache did not store, did not use, or specially served a response. These words are the
 * `detail` of Cache-Status (RFC 9211 §2.8) in debug mode, and the `reason` of a bypass outcome.
 * New words may be added in a minor release; existing words keep their meaning.
 */
export const Reason = {
  /** The method is not cacheable (only GET is stored, HEAD is answered from GET entries). */
  Method: 'method',
  /** The Host is not in the hosts allow-list, or is malformed. */
  Host: 'host',
  /** The request target is not origin-form or absolute-form. */
  Url: 'url',
  /**
   * The request has Authorization, and the route does not share authenticated responses
   * (`safety.shareAuthenticated`) or the response does not say public, s-maxage or must-revalidate.
   */
  Authorization: 'authorization',
  /** The request has a Cookie and the route did not opt in. */
  Cookie: 'cookie',
  /** The request has If-Match or If-Unmodified-Since, which only the origin may evaluate. */
  Precondition: 'precondition',
  /** The key function returned false. */
  Key: 'key',
  /**
   * The request carries a header the app may read but the key does not cover (X-Forwarded-Host,
   * X-Original-URL, Forwarded…), and the options neither key it nor ignore it.
   */
  UnkeyedHeader: 'unkeyed-header',
  /**
   * The query carries a parameter the key ignores (`keys.query.ignore`), and the adapter cannot
   * remove it from the request the handler sees (`HttpRequest.stripsIgnoredParams`).
   */
  IgnoredParam: 'ignored-param',
  /** A GET or HEAD with a body (Content-Length > 0 or Transfer-Encoding): the body is not keyed. */
  RequestBody: 'request-body',
  /** A `scope: 'private'` request for which `privateKey` returned no id (anonymous). */
  PrivateKey: 'private-key',
  /** The route (or path) already made `maxKeysPerWindow` new keys in this window. */
  Cardinality: 'cardinality',
  /** The stored response's header lines are larger than maxHeaderSize. */
  HeadersTooLarge: 'headers-too-large',
  /** The request said no-store (RFC 9111 §5.2.1.5). */
  RequestNoStore: 'request-no-store',
  /**
   * The status is 206 or 304; or one this cache does not understand (RFC 9111 §3); or, for a
   * response without explicit freshness or `public`, not in the statuses allow-list.
   */
  Status: 'status',
  NoStore: 'no-store',
  Private: 'private',
  SetCookie: 'set-cookie',
  VaryStar: 'vary-star',
  /** The response has neither freshness, a validator nor a stale window, so it can never be reused. */
  NoFreshness: 'no-freshness',
  /** The body was not complete (aborted, or shorter than Content-Length). */
  Incomplete: 'incomplete',
  /** The body is larger than maxEntrySize. */
  TooLarge: 'too-large',
  /** The URL already has maxVariants variants (checked atomically in the store when it can). */
  VariantCap: 'variant-cap',
  /** The store did not take the write (unreachable, breaker open, out of memory, read-only…). */
  WriteFailed: 'write-failed',
  /** A HEAD response has no body to store. */
  Head: 'head',
  /** The engine itself failed (a bug or a throwing key function); the request went uncached. */
  Error: 'error',
  StaleWhileRevalidate: 'stale-while-revalidate',
  StaleIfError: 'stale-if-error',
  OnlyIfCached: 'only-if-cached',
  /** A coalesced waiter gave up waiting for the first request. */
  CoalesceTimeout: 'coalesce-timeout',
  /** The revalidation 304 named a different validator than the stored one. */
  ValidatorMismatch: 'validator-mismatch',
} as const
export type Reason = (typeof Reason)[keyof typeof Reason]

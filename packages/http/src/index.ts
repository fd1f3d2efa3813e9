export { createHttpCache, HttpCache, NEEDS_STORE } from './engine.js'
export { createFrontDoor, writeReply } from './node/front-door.js'
export type { FrontDoorOptions } from './node/front-door.js'
export { Refresher, REFRESH_HEADER } from './node/refresher.js'
export { readJsonBody } from './node/read-json-body.js'
export { RequestCache, middlewareHelpers } from './node/cache-helpers.js'
export type { CacheHelpers, MiddlewareHelpers } from './node/cache-helpers.js'
export { SAFE_METHODS } from './request/eligibility.js'
export type { PendingRefresh, NodeListener } from './node/refresher.js'
export { resolveHttpCacheOptions, resolveRouteOptions } from './options.js'
export type { ResolvedHttpCacheOptions } from './options.js'
export type {
  HttpRequest,
  OriginRequest,
  CapturedResponse,
  RunHandler,
  Outcome,
  Reply,
  ReplyOutcome,
  HitOutcome,
  NotModifiedOutcome,
  ResponseOutcome,
  ForwardBase,
  ForwardOutcome,
  MissOutcome,
  BypassOutcome,
  ResponsePatch,
  HeaderPair,
  HeaderPairs,
  RequestHeaders,
  ResponseHeaders,
  StoredResponse,
  HttpCacheOptions,
  RouteOptions,
  RoutePolicy,
  KeyFunction,
  TagsOption,
} from './types.js'
export { Reason } from './semantics/reasons.js'
export { cacheControl } from './semantics/cache-control-builder.js'
export type { CacheControlOptions } from './semantics/cache-control-builder.js'
export { parseCacheControl } from './semantics/cache-control.js'
export type { CacheControlDirectives } from './semantics/cache-control.js'
export { formatCacheStatus, Forward } from './semantics/cache-status.js'
export type { CacheStatusParams } from './semantics/cache-status.js'
export { DEFAULT_CACHEABLE_STATUSES } from './semantics/storability.js'
export { isNotModified } from './semantics/conditional.js'
export type { Validators } from './semantics/conditional.js'
export { generateEtag } from './semantics/etag.js'
export type { EtagMode } from './semantics/etag.js'
export { notModifiedHeaders } from './semantics/headers.js'
export { Cache, MemoryStore, CachewireError, InvalidOptionError, InvalidArgumentError, DecodeError } from '@cachewire/core'
export type { Store, Ttl, CachewireErrorCode } from '@cachewire/core'
export { EngineObserver } from './observability/engine-observer.js'
export type { HttpCacheStats, StoreListener } from './observability/engine-observer.js'
export { DiagnosticsChannel } from './observability/diagnostics.js'
export type { LookupResult, LookupMessage, BypassMessage, StoreMessage, InvalidateMessage } from './observability/diagnostics.js'
export type { PathStats } from './observability/top-paths.js'
export { createPurgeApi, MIN_PURGE_TOKEN_LENGTH } from './observability/purge-api.js'
export type { PurgeApiOptions, PurgeApiRequest, PurgeApiResponse, PurgeLogEntry, PurgeKind, PurgeResult } from './observability/purge-api.js'
export { varnishPurger, surrogateKeyRegex } from './cdn/varnish-purger.js'
export type { VarnishPurgerOptions } from './cdn/varnish-purger.js'
export type { CdnOptions } from './cdn/cdn-headers.js'
export { formatCacheControlField } from './cdn/cache-control-field.js'
export type { PurgeHook, PurgeEvent } from './cdn/purge-hook.js'

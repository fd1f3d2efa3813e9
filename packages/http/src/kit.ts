/**
 * `@cachewire/http/kit`: what an adapter author needs to put the engine under a framework. The
 * serve loop, response interception for `node:http`, the front door, background refreshes, path
 * rules, status rules and the request helpers are written once here; an adapter is the
 * framework's glue.
 */
export { ServeLoop, Pass } from './kit/serve-loop.js'
export { RESPONSE_CACHE, cacheHelpers, withHelpers, appCache } from './kit/app-cache.js'
export type { ResponseCacheHelpers } from './kit/app-cache.js'
export type { FrameworkBinding } from './kit/serve-loop.js'
export { intercept, snapshotHeaders } from './kit/intercept.js'
export type { InterceptHandlers, Interception } from './kit/intercept.js'
export { captureLive, applyPatch } from './kit/capture-live.js'
export type { LiveCapture, LiveCaptureOptions } from './kit/capture-live.js'
export { bufferResponse } from './kit/buffer-response.js'
export type { BufferedResponse, ResponseBuffer } from './kit/buffer-response.js'
export {
  conditionalResponse,
  resolveConditionalOptions,
  etagFor,
  toNotModified,
} from './kit/conditional.js'
export type { ConditionalOptions, ResolvedConditionalOptions } from './kit/conditional.js'
export {
  resolveCacheControlFields,
  applyCacheControlFields,
  cacheControlAtHead,
} from './kit/cache-control-fields.js'
export type {
  CacheControlMiddlewareOptions,
  CacheControlFields,
} from './kit/cache-control-fields.js'
export {
  createFrontDoor,
  endReply,
  sendReply,
  setReplyHeaders,
  writeReply,
} from './kit/front-door.js'
export type { FrontDoorOptions } from './kit/front-door.js'
export type { HeaderRecord, WireLines } from './flows/wire-lines.js'
export { Refresher, REFRESH_HEADER } from './kit/refresher.js'
export type { PendingRefresh, NodeListener } from './kit/refresher.js'
export { RequestCache } from './kit/request-helpers.js'
export type { CacheHelpers } from './kit/request-helpers.js'
export { compilePathRules } from './kit/path-rules.js'
export type { PathRule, PathRules, CompiledPathRules } from './kit/path-rules.js'
export { cacheControlApplies, errorStatus } from './kit/status-rules.js'
export { onResponseDone, teeStream, readStream, holdStream, capBody } from './kit/streams.js'
export type { StreamCopy } from './kit/streams.js'
export { engineOptions, engineRoute, routePolicy } from './kit/native-options.js'
export { SAFE_METHODS } from './request/eligibility.js'
export { PreparedRequest } from './request/prepare-request.js'
export type { Lookup } from './entry/entry-store.js'
export type {
  HitOutcome,
  NotModifiedOutcome,
  ResponseOutcome,
  MissOutcome,
  BypassOutcome,
  ForwardBase,
  ResponsePatch,
  Reply,
  HeaderPair,
  HeaderPairs,
  RequestHeaders,
  ResponseHeaders,
  StoredResponse,
} from './types.js'

import { keepTickObjectShape } from './tick-shape.js'

export { Cache } from './cache.js'
export type { NamespaceOptions } from './cache.js'
export type { ReadOptions, EntryMeta } from './reads.js'
export { structuredSerializer, jsonSerializer } from './serializers.js'
export type { Serializer } from './serializers.js'
export { callKey } from './stable-key.js'
export { rateLimit, RateLimiter } from './patterns/rate-limit.js'
export type {
  RateLimitOptions,
  RateLimitDecision,
  RateLimitFields,
  RateLimitHandlerOptions,
  RequestLike,
  ResponseLike,
} from './patterns/rate-limit.js'
export { revocations, RevocationList } from './patterns/revocations.js'
export type { RevocationOptions, RevocationSync, RevocationStore } from './patterns/revocations.js'
export { warm, warmEvery, WarmRun } from './patterns/warm.js'
export type {
  WarmEntry,
  WarmOptions,
  WarmProgress,
  WarmEvents,
  WarmSchedule,
  WarmTarget,
} from './patterns/warm.js'
export { RESERVED_KEY_PREFIX } from './namespaces.js'
export type { CacheLike } from './cache-like.js'
export type { WrapOptions } from './patterns/wrap.js'
export type { BoundedSetOptions } from './bounded-set.js'
export type { LockHandle } from './patterns/lock.js'
export type { CacheOptions, InvalidationQueueOptions } from './options.js'
export { MemoryStore } from './stores/memory-store.js'
export type { MemoryStoreOptions } from './stores/memory-store.js'
export { TieredStore } from './stores/tiered-store.js'
export type { TieredStoreOptions } from './stores/tiered-store.js'
export { cached } from './patterns/cached.js'
export type { CachedOptions } from './patterns/cached.js'
export { writeThrough } from './patterns/write-through.js'
export { WriteBehind } from './patterns/write-behind.js'
export type {
  WriteBehindOptions,
  WriteBehindRetryOptions,
  WriteBehindStats,
  WriteBehindEvents,
  PendingWrite,
  WriteJournal,
  PersistContext,
  WriteBehindCloseResult,
} from './patterns/write-behind.js'
export { CircuitBreaker } from './resilience/circuit-breaker.js'
export type {
  CircuitBreakerOptions,
  CircuitState,
  CircuitTransitionListener,
} from './resilience/circuit-breaker.js'
export { CoreTracingChannel } from './tracing.js'
export type {
  CoreTraceContext,
  GetTraceContext,
  SetTraceContext,
  WrapTraceContext,
  InvalidateTraceContext,
  StoreTraceContext,
} from './tracing.js'
export type { CacheHealth, CacheHealthOptions, BreakerHealth, StoreProblem } from './health.js'
export { withDeadline } from './resilience/deadline.js'
export type { DeadlineOptions } from './resilience/deadline.js'
export { rejectUnknownOptions } from './known-options.js'
export { parseDuration, parseOptionalWindow } from './duration.js'
export type {
  Duration,
  DurationUnit,
  DurationWord,
  DurationKind,
  DurationRules,
} from './duration.js'
export { systemClock } from './clock.js'
export type { Clock } from './clock.js'
export {
  CachewireError,
  InvalidOptionError,
  InvalidArgumentError,
  StoreTimeoutError,
  StoreUnavailableError,
  StoreError,
  DecodeError,
  QueueFullError,
  ClosedError,
  SerializationError,
  UnsupportedError,
  errors,
} from './errors.js'
export type { CachewireErrorCode, UnavailableReason, StoreUnavailableOptions } from './errors.js'
export type {
  Store,
  StoreSetOptions,
  StoreSize,
  StoreMeasure,
  EntryAge,
  WindowHitOptions,
  WindowState,
  SetOptions,
  CacheEvents,
  CacheStats,
  Bus,
  InvalidationMessage,
  InvalidationResult,
  InvalidationTarget,
  BoundedSetResult,
  StoreInvalidationOptions,
} from './types.js'
export type {
  StoreHealth,
  StoreObserver,
  BreakerStatus,
  BreakerDirection,
  DropCounts,
  DropReason,
} from './resilience/store-health.js'
export type { OutageStats } from './stores/tiered-outage.js'

// Before the app connects a store: see keepTickObjectShape.
keepTickObjectShape()

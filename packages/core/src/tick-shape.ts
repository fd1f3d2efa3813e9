import { executionAsyncResource } from 'node:async_hooks'

/**
 * Keeps one of `process.nextTick`'s queue entries alive for the life of the process, so that the
 * hidden class V8 gives those entries is never collected.
 *
 * Node builds each entry as an object literal with computed symbol keys
 * (`{ [async_id_symbol]: …, [trigger_async_id_symbol]: …, callback, args }`). V8 remembers the
 * hidden class of such a literal weakly. When a full GC runs while no entry is alive (between two
 * requests, say), the class is collected, the next entry gets a new one, and V8 marks three of
 * the literal's four stores megamorphic for good. From then on every `nextTick` defines those
 * properties in the runtime. Node's streams call `nextTick` about nine times per HTTP request, so
 * that costs ~35 k instructions per request (callgrind, Koa hit: 140 k against 105 k). Whether
 * it happens, and when, depends on GC timing. With one entry held, the class stays alive and so
 * does the stores' feedback.
 *
 * `executionAsyncResource()` inside a `nextTick` callback is that callback's queue entry (public
 * API, no async hook enabled). The entry holds only `holdTickObject` and no arguments.
 *
 * Run when the package is imported (index.ts and redis.ts call it), not when a middleware is
 * built: an app connects its stores first (ioredis queues entries, and loading it grows the heap
 * to a full GC), so by the time it built the middleware the stores had often gone megamorphic
 * already. The Koa front door on a tiered store spent 7 µs a request in `nextTick` (CPU profile;
 * 111 k instructions a hit against 70 k on memory, in callgrind).
 */
export function keepTickObjectShape(): void {
  if (requested) return
  requested = true
  process.nextTick(holdTickObject)
}

let requested = false
/** Written once and never read: holding the entry is the point. */
const heldTickObjects: object[] = []

function holdTickObject(): void {
  heldTickObjects.push(executionAsyncResource())
}

import diagnosticsChannel from 'node:diagnostics_channel'
import {
  context as otelContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TracerProvider,
} from '@opentelemetry/api'
import { CoreTracingChannel, InvalidOptionError, rejectUnknownOptions } from '@cachewire/core'
import type {
  GetTraceContext,
  InvalidateTraceContext,
  SetTraceContext,
  Store,
  StoreTraceContext,
  WrapTraceContext,
} from '@cachewire/core'
import {
  HttpTracingChannel,
  type EntryWriteTraceContext,
  type LookupTraceContext,
  type RevalidateTraceContext,
} from './tracing.js'

export interface OpenTelemetryOptions {
  /** Where spans go. @default the global provider (`trace.getTracerProvider()`), as set by the OpenTelemetry SDK */
  tracerProvider?: TracerProvider | undefined
  /**
   * Record cache keys and tags (`cachewire.key`, `cachewire.tags`). They can hold personal data (a
   * user id in `user:42`), and they make attributes high-cardinality. @default false
   */
  recordKeys?: boolean | undefined
  /** One CLIENT span per store call (`cachewire.store.get` under `cachewire.get`…). @default true */
  storeCalls?: boolean | undefined
}

export interface OpenTelemetryInstrumentation {
  /** Stops making spans (unsubscribes from every channel). Spans already started still end. */
  disable(): void
}

/** What Node adds to a traced context object. */
interface Settled {
  result?: unknown
  error?: unknown
}

/** How one channel becomes spans. */
interface SpanSpec<C extends object> {
  channel: string
  kind: SpanKind
  name(context: C): string
  /** Attributes known when the call starts (given to the sampler). */
  start(context: C, recordKeys: boolean): Attributes
  /** Attributes known when it ends. */
  end(context: C, recordKeys: boolean): Attributes
}

const OPTIONS = ['tracerProvider', 'recordKeys', 'storeCalls'] as const
/** The instrumentation scope name spans carry. */
const SCOPE = '@cachewire/http'

/**
 * Spans for cachewire's tracing channels, with OpenTelemetry (`@opentelemetry/api`, an optional
 * peer: install it with the SDK you use). Each span is a child of the active context when the
 * call starts (the HTTP server span of the request, under an HTTP instrumentation), and is the
 * active context while the call runs, so store spans nest under the lookup that made them and
 * any span your code starts inside `wrap`'s loader nests under `cachewire.wrap`. Call it once,
 * after the SDK is set up; `disable()` undoes it.
 *
 * Spans: `cachewire.http.lookup`, `cachewire.http.store`, `cachewire.http.revalidate` (INTERNAL,
 * with `http.request.method`, `url.path`, `cachewire.route` and the outcome),
 * `cachewire.get|set|wrap|invalidate` (INTERNAL, `cachewire.hit`, `cachewire.wrap.outcome`…), and
 * `cachewire.store.<operation>` (CLIENT, the database conventions: `db.system.name`,
 * `db.operation.name`, `server.address`, `error.type`).
 *
 * @example
 * ```ts
 * import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
 * import { instrumentCachewire } from '@cachewire/http/otel'
 *
 * new NodeTracerProvider().register()
 * const instrumentation = instrumentCachewire()
 * // … on shutdown: instrumentation.disable()
 * ```
 */
export function instrumentCachewire(
  options: OpenTelemetryOptions = {}
): OpenTelemetryInstrumentation {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  rejectUnknownOptions(options, OPTIONS, '')
  const provider = options.tracerProvider ?? trace.getTracerProvider()
  if (typeof provider?.getTracer !== 'function')
    throw new InvalidOptionError('tracerProvider', 'an OpenTelemetry TracerProvider', provider)
  const recordKeys = options.recordKeys === true
  const tracer = provider.getTracer(SCOPE)
  const spans = new WeakMap<object, Span>()
  // diagnostics_channel runs the traced call inside store.run(value, call): OpenTelemetry's
  // context.with is that, so the span is the active context for the call and what it awaits.
  const store = { run: <R>(active: Context, call: () => R): R => otelContext.with(active, call) }
  const undo: Array<() => void> = []

  const attach = <C extends object>(spec: SpanSpec<C>): void => {
    const channel = diagnosticsChannel.tracingChannel<Context, C & Settled>(spec.channel)
    const finish = (traced: C & Settled): void => {
      const span = spans.get(traced)
      if (span === undefined) return
      spans.delete(traced)
      span.setAttributes(spec.end(traced, recordKeys))
      if (traced.error !== undefined)
        span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(traced.error) })
      span.end()
    }
    const subscribers: diagnosticsChannel.TracingChannelSubscribers<C & Settled> = {
      start: () => {},
      asyncStart: () => {},
      // `end` closes a call that answered synchronously (result or error set); a promise's
      // closes at `asyncEnd`.
      end: (traced) => {
        if ('result' in traced || 'error' in traced) finish(traced)
      },
      asyncEnd: finish,
      error: (traced) => {
        const span = spans.get(traced)
        if (span === undefined) return
        const error = traced.error
        if (error instanceof Error) span.recordException(error)
        span.setAttribute('error.type', errorType(error))
      },
    }
    channel.start.bindStore(store as never, (traced) => {
      const parent = otelContext.active()
      try {
        const span = tracer.startSpan(
          spec.name(traced),
          { kind: spec.kind, attributes: spec.start(traced, recordKeys) },
          parent
        )
        spans.set(traced, span)
        return trace.setSpan(parent, span)
      } catch {
        // A transform that throws would reach process-level error handling: never let it.
        return parent
      }
    })
    channel.subscribe(subscribers)
    undo.push(() => {
      channel.unsubscribe(subscribers)
      channel.start.unbindStore(store as never)
    })
  }

  for (const spec of HTTP_SPANS) attach(spec as SpanSpec<object>)
  for (const spec of CORE_SPANS) attach(spec as SpanSpec<object>)
  if (options.storeCalls !== false) attach(STORE_SPAN as SpanSpec<object>)
  return {
    disable() {
      for (const step of undo.splice(0)) step()
    },
  }
}

function request(context: { method: string; path: string; route: string }): Attributes {
  return {
    'http.request.method': context.method,
    'url.path': context.path,
    'cachewire.route': context.route,
  }
}

const HTTP_SPANS = [
  {
    channel: HttpTracingChannel.Lookup,
    kind: SpanKind.INTERNAL,
    name: () => 'cachewire.http.lookup',
    start: (context: LookupTraceContext) => request(context),
    end: (context: LookupTraceContext) =>
      defined({
        'cachewire.lookup.outcome': context.outcome,
        'cachewire.lookup.reason': context.reason,
      }),
  } satisfies SpanSpec<LookupTraceContext>,
  {
    channel: HttpTracingChannel.Store,
    kind: SpanKind.INTERNAL,
    name: () => 'cachewire.http.store',
    // Object.assign, not a spread (see engine-observer.ts, `stored`).
    start: (context: EntryWriteTraceContext) =>
      Object.assign(request(context), {
        'http.response.status_code': context.status,
        'cachewire.entry.bytes': context.bytes,
        'cachewire.entry.fresh_ms': context.freshMs,
        'cachewire.entry.tags': context.tags,
      }),
    end: () => ({}),
  } satisfies SpanSpec<EntryWriteTraceContext>,
  {
    channel: HttpTracingChannel.Revalidate,
    kind: SpanKind.INTERNAL,
    name: () => 'cachewire.http.revalidate',
    start: (context: RevalidateTraceContext) =>
      Object.assign(request(context), { 'cachewire.revalidate.mode': context.mode }),
    end: (context: RevalidateTraceContext) =>
      defined({
        'cachewire.revalidate.outcome': context.outcome,
        'http.response.status_code': context.status,
      }),
  } satisfies SpanSpec<RevalidateTraceContext>,
]

function cacheCall(
  context: GetTraceContext | SetTraceContext | WrapTraceContext,
  recordKeys: boolean
): Attributes {
  return defined({
    'cachewire.store': context.store.name,
    'cachewire.namespace': context.namespace,
    'cachewire.key': recordKeys ? context.key : undefined,
  })
}

const CORE_SPANS = [
  {
    channel: CoreTracingChannel.Get,
    kind: SpanKind.INTERNAL,
    name: () => 'cachewire.get',
    start: cacheCall,
    end: (context: GetTraceContext) => defined({ 'cachewire.hit': context.hit }),
  } satisfies SpanSpec<GetTraceContext>,
  {
    channel: CoreTracingChannel.Set,
    kind: SpanKind.INTERNAL,
    name: () => 'cachewire.set',
    start: (context: SetTraceContext, recordKeys: boolean) => ({
      ...cacheCall(context, recordKeys),
      'cachewire.ttl_ms': context.ttlMs,
      'cachewire.entry.bytes': context.bytes,
      'cachewire.entry.tags': context.tags?.length ?? 0,
    }),
    end: (context: SetTraceContext) => defined({ 'cachewire.stored': context.stored }),
  } satisfies SpanSpec<SetTraceContext>,
  {
    channel: CoreTracingChannel.Wrap,
    kind: SpanKind.INTERNAL,
    name: () => 'cachewire.wrap',
    start: cacheCall,
    end: (context: WrapTraceContext) =>
      defined({
        'cachewire.wrap.outcome': context.outcome,
        'cachewire.hit': context.outcome === undefined ? undefined : context.outcome !== 'miss',
      }),
  } satisfies SpanSpec<WrapTraceContext>,
  {
    channel: CoreTracingChannel.Invalidate,
    kind: SpanKind.INTERNAL,
    name: () => 'cachewire.invalidate',
    start: (context: InvalidateTraceContext, recordKeys: boolean) =>
      defined({
        'cachewire.store': context.store.name,
        'cachewire.namespace': context.namespace,
        'cachewire.invalidate.kind': context.kind,
        'cachewire.tags': recordKeys && context.tags !== undefined ? [...context.tags] : undefined,
        'cachewire.key': recordKeys ? (context.key ?? context.pattern) : undefined,
      }),
    end: (context: InvalidateTraceContext) =>
      defined({ 'cachewire.invalidate.removed': context.removed }),
  } satisfies SpanSpec<InvalidateTraceContext>,
]

/** Store calls as database client spans (semantic conventions for database client spans). */
const STORE_SPAN = {
  channel: CoreTracingChannel.Store,
  kind: SpanKind.CLIENT,
  name: (context: StoreTraceContext) => `cachewire.store.${context.operation}`,
  start: (context: StoreTraceContext) => ({
    ...defined({ 'db.system.name': dbSystem(context.store) }),
    'db.operation.name': context.operation,
    'cachewire.store': context.store.name,
    ...server(context.store),
  }),
  end: (context: StoreTraceContext & Settled) =>
    defined({ 'db.response.status_code': replyCode(context.error) }),
} satisfies SpanSpec<StoreTraceContext>

/** `db.system.name` where a well-known value fits: Redis (alone or as a tiered store's L2). */
function dbSystem(store: Store): string | undefined {
  const shared = store.name === 'tiered' ? (store as { l2?: Store }).l2 : store
  return shared?.name === 'redis' ? 'redis' : undefined
}

/** `server.address` and `server.port` of a standalone Redis client; a Cluster has many: none. */
function server(store: Store): Attributes {
  const shared = store.name === 'tiered' ? (store as { l2?: Store }).l2 : store
  const client = (
    shared as
      { client?: { isCluster?: boolean; options?: { host?: unknown; port?: unknown } } } | undefined
  )?.client
  if (client === undefined || client.isCluster !== false) return {}
  const { host, port } = client.options ?? {}
  return defined({
    'server.address': typeof host === 'string' ? host : undefined,
    'server.port': typeof port === 'number' ? port : undefined,
  })
}

/** The Redis error prefix (`WRONGPASS`, `OOM`…) of a reply error, the database convention's status code. */
function replyCode(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error
  if ((cause as { name?: unknown } | undefined)?.name !== 'ReplyError') return undefined
  return /^[A-Z]+/.exec(messageOf(cause))?.[0]
}

/** `error.type`: `timeout` for a deadline, else the cachewire error code or the error's class. */
function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code
  if (code === 'CACHEWIRE_STORE_TIMEOUT') return 'timeout'
  if (typeof code === 'string') return code
  return error instanceof Error ? error.name : '_OTHER'
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The attributes whose value is set (OpenTelemetry drops undefined values, but types do not allow them). */
function defined(
  attributes: Record<string, string | number | boolean | string[] | undefined>
): Attributes {
  const out: Attributes = {}
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) out[name] = value
  return out
}

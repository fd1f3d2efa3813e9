/**
 * Figures for fault tests: latency of cache calls, errors that reached the caller, and how long
 * recovery took. Each test prints one `[measure]` line per figure set, so a rerun
 * (`npx vitest run test/faults`) gives the numbers the issue asks for; the assertions stay about
 * behaviour (no error reached a caller, a deadline bounded a call, hits came back).
 */

export interface CallSamples {
  calls: number
  /** Calls whose promise rejected: a cache fault that reached the caller. Must be 0. */
  rejected: number
  /** Calls that resolved a value (a hit, for reads; `true`, for writes). */
  hits: number
  p50: number
  p99: number
  max: number
}

/**
 * Runs `call` in `concurrency` closed loops for `durationMs` (or `count` calls in all, whichever
 * ends first) and summarises it.
 */
export async function sampleCalls(
  call: (i: number) => Promise<unknown>,
  options: {
    durationMs: number
    concurrency?: number
    count?: number
    isHit?: (value: unknown) => boolean
  }
): Promise<CallSamples> {
  const latencies: number[] = []
  let rejected = 0
  let hits = 0
  let next = 0
  const isHit = options.isHit ?? ((value: unknown) => value !== undefined && value !== false)
  const until = performance.now() + options.durationMs
  const limit = options.count ?? Number.POSITIVE_INFINITY
  await Promise.all(
    Array.from({ length: options.concurrency ?? 8 }, async () => {
      while (performance.now() < until && next < limit) {
        const i = next++
        const started = performance.now()
        try {
          if (isHit(await call(i))) hits++
        } catch {
          rejected++
        }
        latencies.push(performance.now() - started)
        // A call that resolves without I/O (a skipped write) would otherwise let this loop run in
        // microtasks alone and starve every other loop: real callers do I/O between calls.
        await new Promise((resolve) => setImmediate(resolve))
      }
    })
  )
  latencies.sort((a, b) => a - b)
  const pick = (q: number): number =>
    round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0)
  return {
    calls: latencies.length,
    rejected,
    hits,
    p50: pick(0.5),
    p99: pick(0.99),
    max: round(latencies.at(-1) ?? 0),
  }
}

/** Milliseconds from now until `check` resolves true, polling every `intervalMs`; rejects after `timeoutMs`. */
export async function msUntil(
  check: () => Promise<boolean> | boolean,
  options: { timeoutMs?: number; intervalMs?: number } = {}
): Promise<number> {
  const started = performance.now()
  const timeoutMs = options.timeoutMs ?? 10_000
  for (;;) {
    if (await check()) return round(performance.now() - started)
    if (performance.now() - started > timeoutMs) throw new Error(`not true after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10))
  }
}

/** Prints one figure line: `[measure] <scenario> key=value …`. */
export function measure(scenario: string, figures: Record<string, unknown>): void {
  const text = Object.entries(figures)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`
    )
    .join(' ')
  console.log(`[measure] ${scenario} ${text}`)
}

/** A sample's figures for a `[measure]` line, prefixed: `before.p99=…`. */
export function figures(prefix: string, samples: CallSamples): Record<string, number> {
  return {
    [`${prefix}.calls`]: samples.calls,
    [`${prefix}.rejected`]: samples.rejected,
    [`${prefix}.hitRatio`]: samples.calls === 0 ? 0 : round(samples.hits / samples.calls),
    [`${prefix}.p50`]: samples.p50,
    [`${prefix}.p99`]: samples.p99,
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}

/** The distinct messages of `errors` (at most 5, shortened): what the error events were about. */
export function kinds(errors: readonly Error[]): string[] {
  return [...new Set(errors.map((error) => `${error.name}: ${error.message}`.slice(0, 100)))].slice(
    0,
    5
  )
}

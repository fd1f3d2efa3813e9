import { debuglog, format } from 'node:util'

/** The log's areas; each is a `debug` namespace `cachewire:<area>`. */
export const DEBUG_AREAS = ['bypass', 'store', 'invalidate', 'purge'] as const
export type DebugArea = (typeof DEBUG_AREAS)[number]

/** Writes one log line; `message` is a `util.format` string. */
export type DebugLog = (area: DebugArea, message: string, ...args: unknown[]) => void

/**
 * The engine's debug log, read once when the engine is built. Two switches, no dependency:
 * `DEBUG=cachewire:*` (the `debug` package's syntax: comma- or space-separated namespaces, `*`
 * wildcards, `-` to exclude; e.g. `DEBUG=cachewire:*,-cachewire:store`) writes
 * `<ISO time> cachewire:<area> <message>` lines to stderr, as `debug` does when stderr is not a
 * terminal; `NODE_DEBUG=cachewire` uses Node's `util.debuglog`. Off, a call costs one branch.
 *
 * @example
 * ```ts
 * const log = createDebugLog()
 * log('bypass', '%s %s: %s', 'GET', '/cart', 'cookie')
 * ```
 */
export function createDebugLog(
  env: Readonly<Record<string, string | undefined>> = process.env,
  write: (line: string) => void = (line) => void process.stderr.write(line)
): DebugLog {
  const node = debuglog('cachewire')
  const patterns = parseDebug(env['DEBUG'])
  const enabled = new Set(DEBUG_AREAS.filter((area) => matches(patterns, `cachewire:${area}`)))
  const nodeEnabled = env === process.env && node.enabled
  if (enabled.size === 0 && !nodeEnabled) return () => {}
  return (area, message, ...args) => {
    if (enabled.has(area))
      write(`${new Date().toISOString()} cachewire:${area} ${format(message, ...args)}\n`)
    if (nodeEnabled) node(`${area} ${message}`, ...args)
  }
}

interface Patterns {
  include: RegExp[]
  exclude: RegExp[]
}

function parseDebug(value: string | undefined): Patterns {
  const patterns: Patterns = { include: [], exclude: [] }
  for (const part of (value ?? '').split(/[\s,]+/)) {
    if (part === '') continue
    const negated = part.startsWith('-')
    const body = negated ? part.slice(1) : part
    const regex = new RegExp(
      `^${body.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*?')}$`
    )
    ;(negated ? patterns.exclude : patterns.include).push(regex)
  }
  return patterns
}

function matches(patterns: Patterns, namespace: string): boolean {
  if (patterns.exclude.some((regex) => regex.test(namespace))) return false
  return patterns.include.some((regex) => regex.test(namespace))
}

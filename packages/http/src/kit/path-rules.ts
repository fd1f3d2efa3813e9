import { InvalidOptionError } from '@cachewire/core'

/** Which requests a middleware caches: a path prefix (`'/api'`), a RegExp over the path, or a predicate of the framework's request. */
export type PathRule<N> = string | RegExp | ((native: N) => boolean)

/** `include` / `exclude` rules of a middleware or a front door. */
export interface PathRules<N> {
  /**
   * Only requests matching one of these rules use the cache; others pass through untouched.
   * Strings are path prefixes on segment boundaries (`'/api'` matches `/api` and `/api/users`,
   * not `/apis`), matched against the full path (the original URL without the query).
   * @default every path
   */
  include?: PathRule<N> | readonly PathRule<N>[] | undefined
  /** Requests matching one of these rules pass through untouched; wins over `include`. @default none */
  exclude?: PathRule<N> | readonly PathRule<N>[] | undefined
}

/** Compiled rules: does this request use the cache? `native` is undefined for a front door's raw request. */
export interface CompiledPathRules<N> {
  /** Whether a request with this original URL (path and query) uses the cache. */
  selects(url: string, native: N | undefined): boolean
  /** True when a rule is a function of the framework's request (a front door cannot apply it). */
  readonly needsNative: boolean
}

/**
 * Compiles include/exclude rules once; throws `InvalidOptionError` naming a bad rule
 * (`include[1]`), or an unknown name (`inclde`).
 *
 * @example
 * ```ts
 * const rules = compilePathRules({ include: ['/api'], exclude: [/^\/api\/admin/] })
 * rules?.selects('/api/users?page=2', req) // true
 * ```
 */
export function compilePathRules<N>(rules: PathRules<N> = {}): CompiledPathRules<N> | undefined {
  if (typeof rules !== 'object' || rules === null)
    throw new InvalidOptionError('', 'an object of { include, exclude }', rules)
  for (const name of Object.keys(rules)) {
    if (name !== 'include' && name !== 'exclude')
      throw new InvalidOptionError(
        name,
        'include or exclude (the only path rules)',
        (rules as Record<string, unknown>)[name]
      )
  }
  const included = rules.include === undefined ? undefined : compileRules(rules.include, 'include')
  const excluded = rules.exclude === undefined ? undefined : compileRules(rules.exclude, 'exclude')
  if (included === undefined && excluded === undefined) return undefined
  const needsNative = [rules.include, rules.exclude]
    .flat()
    .some((rule) => typeof rule === 'function')
  return {
    needsNative,
    selects(url, native) {
      const path = pathOf(url)
      if (excluded?.some((rule) => rule(native, path)) === true) return false
      return included === undefined || included.some((rule) => rule(native, path))
    },
  }
}

type CompiledRule<N> = (native: N | undefined, path: string) => boolean

function compileRules<N>(
  value: PathRule<N> | readonly PathRule<N>[],
  name: string
): CompiledRule<N>[] {
  const list: readonly unknown[] = Array.isArray(value) ? value : [value]
  return list.map((rule, i) => compileRule<N>(rule, Array.isArray(value) ? `${name}[${i}]` : name))
}

function compileRule<N>(rule: unknown, name: string): CompiledRule<N> {
  if (typeof rule === 'function')
    return (native) => native !== undefined && (rule as (native: N) => boolean)(native) === true
  if (rule instanceof RegExp) {
    // A global or sticky RegExp keeps lastIndex between tests; a copy without those flags does not.
    const pattern = new RegExp(rule.source, rule.flags.replace(/[gy]/g, ''))
    return (_native, path) => pattern.test(path)
  }
  if (typeof rule === 'string' && rule.startsWith('/')) {
    const prefix = rule.length > 1 && rule.endsWith('/') ? rule.slice(0, -1) : rule
    if (prefix === '/') return () => true
    return (_native, path) => path === prefix || path.startsWith(`${prefix}/`)
  }
  throw new InvalidOptionError(
    name,
    'a path prefix starting with "/", a RegExp or a function',
    rule
  )
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

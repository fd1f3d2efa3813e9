/**
 * Every option name, per group, for the unknown-option check; and where the 0.x flat names went,
 * so an upgrade gets "written as options.storage.maxEntryBytes since 1.0" instead of a bare refusal.
 */
export const KNOWN = {
  top: [
    'ttl',
    'tags',
    'etag',
    'storage',
    'freshness',
    'stale',
    'keys',
    'safety',
    'coalesce',
    'cdn',
    'observability',
    'clock',
  ],
  storage: ['cache', 'store', 'maxEntryBytes', 'maxHeaderBytes', 'maxVariants'],
  freshness: ['statuses', 'revalidationWindow', 'targetedField', 'requestDirectives', 'heuristic'],
  heuristic: ['fraction', 'max'],
  stale: ['whileRevalidate', 'ifError'],
  keys: ['hosts', 'methods', 'query', 'key', 'keyedHeaders', 'ignoredHeaders'],
  query: ['sort', 'ignore'],
  safety: [
    'allowCookies',
    'shareAuthenticated',
    'privateIfCredentialed',
    'scope',
    'privateKey',
    'maxKeysPerWindow',
  ],
  coalesce: ['timeout'],
  cdn: ['surrogateKeys', 'surrogateControl', 'cdnCacheControl', 'surrogateKeyHeader', 'purgeHooks'],
  observability: ['debug', 'cacheStatusName', 'onError'],
  routeTop: ['name', 'ttl', 'tags', 'stale', 'keys', 'safety', 'cdn'],
  routeKeys: ['key', 'keyedHeaders', 'ignoredHeaders'],
  routeSafety: [
    'allowCookies',
    'shareAuthenticated',
    'privateIfCredentialed',
    'scope',
    'privateKey',
    'maxKeysPerWindow',
  ],
  routeCdn: ['surrogateKeys', 'surrogateControl', 'cdnCacheControl'],
} as const

/** 0.x flat name → its 1.0 place. */
const FLAT_0X: Readonly<Record<string, string>> = {
  cache: 'storage.cache',
  store: 'storage.store',
  maxEntrySize: 'storage.maxEntryBytes',
  maxHeaderSize: 'storage.maxHeaderBytes',
  maxVariants: 'storage.maxVariants',
  statuses: 'freshness.statuses',
  revalidationWindow: 'freshness.revalidationWindow',
  targetedCacheControl: 'freshness.targetedField',
  respectRequestNoCache: "freshness.requestDirectives ('honour' | 'ignore')",
  staleWhileRevalidate: 'stale.whileRevalidate',
  staleIfError: 'stale.ifError',
  hosts: 'keys.hosts',
  methods: 'keys.methods',
  query: 'keys.query',
  key: 'keys.key',
  keyedHeaders: 'keys.keyedHeaders',
  ignoredHeaders: 'keys.ignoredHeaders',
  allowCookies: 'safety.allowCookies',
  scope: 'safety.scope',
  privateKey: 'safety.privateKey',
  maxKeysPerWindow: 'safety.maxKeysPerWindow',
  surrogateKeyHeader: 'cdn.surrogateKeyHeader',
  purgeHooks: 'cdn.purgeHooks',
  debug: 'observability.debug',
  cacheStatusName: 'observability.cacheStatusName',
  onError: 'observability.onError',
}

/** The top-level hints for engine (app) options. */
export const MOVED_TOP: Readonly<Record<string, string>> = hints(FLAT_0X)
export const MOVED_COALESCE: Readonly<Record<string, string>> = {
  timeoutMs: 'written as options.coalesce.timeout since 1.0',
  enabled: 'written as options.coalesce: false since 1.0',
}

/**
 * Where app-only options of a route policy go. `where` names the app's entry point
 * (`createHttpCache()`, or an adapter's `responseCache()`).
 */
export function appOnly(where: string): {
  top: Record<string, string>
  keys: Record<string, string>
  cdn: Record<string, string>
} {
  const perApp = (name: string): string =>
    `set on the app, not on a route: ${name} is per app, pass it to ${where}`
  const top: Record<string, string> = {}
  for (const name of ['storage', 'freshness', 'coalesce', 'observability', 'clock', 'etag'])
    top[name] = perApp(name)
  for (const [name, place] of Object.entries(FLAT_0X)) {
    const group = place.split('.')[0] as string
    top[name] =
      KNOWN.routeTop.includes(group as never) &&
      !['hosts', 'methods', 'query', 'surrogateKeyHeader', 'purgeHooks'].includes(name)
        ? `written as ${place} since 1.0`
        : perApp(place.split(' ')[0] as string)
  }
  const keys: Record<string, string> = {}
  for (const name of ['hosts', 'methods', 'query']) keys[name] = perApp(`keys.${name}`)
  const cdn: Record<string, string> = {}
  for (const name of ['surrogateKeyHeader', 'purgeHooks']) cdn[name] = perApp(`cdn.${name}`)
  return { top, keys, cdn }
}

function hints(map: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, place] of Object.entries(map))
    out[name] = `written as options.${place} since 1.0`
  return out
}

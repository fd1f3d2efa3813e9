import { sha256 } from './digest.js'

/**
 * Part of every key. Bump it when the key text or the entry format changes incompatibly, so old
 * entries in a shared Redis are simply never found (they expire by their TTL). cw2 (1.0): key
 * function output is tagged (`key:`, `route:`) and route policies mark their entries, so an entry
 * is found only under the key policy that stored it. cw3: entries say whether their ETag is the
 * cache's own (entry format 2). cw4: an entry's header part is binary, not JSON (entry format 3).
 */
export const KEY_FORMAT_VERSION = 'cw4'

/** The path and raw query of a request target. */
export interface RequestTarget {
  path: string
  /** Without the `?`; empty when there is none. */
  query: string
}

/** Any whitespace or control character: never valid in a request target (RFC 9112 §3.2). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it finds
const INVALID_TARGET = /[\x00-\x20\x7f]/
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*(\/[^?#]*)?(?:\?([^#]*))?/i

/**
 * Splits an origin-form (`/a?b`) or absolute-form (`http://h/a?b`) target into path and query,
 * or undefined for anything else (`*`, authority-form, control characters).
 *
 * @example
 * ```ts
 * parseTarget('/products?id=1') // { path: '/products', query: 'id=1' }
 * parseTarget('*')              // undefined
 * ```
 */
export function parseTarget(url: string): RequestTarget | undefined {
  if (url === '' || INVALID_TARGET.test(url)) return undefined
  if (url.startsWith('/')) {
    const hash = url.indexOf('#')
    const target = hash === -1 ? url : url.slice(0, hash)
    const question = target.indexOf('?')
    if (question === -1) return { path: target, query: '' }
    return { path: target.slice(0, question), query: target.slice(question + 1) }
  }
  const match = ABSOLUTE_FORM.exec(url)
  if (match === null) return undefined
  return { path: match[1] ?? '/', query: match[2] ?? '' }
}

/** What identifies a cached resource, before any Vary. */
export interface PrimaryKeyParts {
  scheme: 'http' | 'https'
  /** Normalised host (and non-default port). */
  authority: string
  path: string
  /** Normalised query. */
  query: string
  /** Key material from key functions, in order (engine's, then the route's). */
  extra: readonly string[]
}

/**
 * The full primary key text (RFC 9111 §4: method and target URI, plus our scheme, host and
 * key-function parts). HEAD shares GET's key: a HEAD is answered from the GET entry. The
 * text is JSON so no part can imitate a separator.
 *
 * @example
 * ```ts
 * primaryKey({ scheme: 'https', authority: 'example.com', path: '/a', query: 'b=1', extra: [] })
 * // '["cw3","GET","https","example.com","/a","b=1"]'
 * ```
 */
export function primaryKey(parts: PrimaryKeyParts): string {
  const { scheme, authority, path, query, extra } = parts
  // Printable ASCII without `"` or `\` is its own JSON string body: the same text, without
  // JSON.stringify's array walk on every hit.
  if (
    extra.length === 0 &&
    JSON_PLAIN.test(authority) &&
    JSON_PLAIN.test(path) &&
    JSON_PLAIN.test(query)
  ) {
    return `["${KEY_FORMAT_VERSION}","GET","${scheme}","${authority}","${path}","${query}"]`
  }
  return JSON.stringify([KEY_FORMAT_VERSION, 'GET', scheme, authority, path, query, ...extra])
}

const JSON_PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/**
 * The full key of one variant: the primary key plus the secondary key from Vary (RFC 9111 §4.1).
 *
 * @example
 * ```ts
 * variantKey(primary, '[["accept-encoding","gzip"]]')
 * ```
 */
export function variantKey(primary: string, secondary: string): string {
  return `${primary}\n${secondary}`
}

/**
 * The store key for a full key: SHA-256, so raw request text never becomes a store key
 * (DESIGN rule 1). The full key is kept inside the entry and compared on read.
 *
 * @example
 * ```ts
 * hashKey(primary) // 'http:5e88…' (64 hex digits)
 * ```
 */
export function hashKey(key: string): string {
  return `http:${sha256(key, 'hex')}`
}

/**
 * How many key → hash results one generation of the memo holds (two generations are kept): room
 * for a site's 10,000 hot URLs in the current one. With fewer, a Zipf tail turned the generations
 * over every few thousand requests, and the keys found only in the previous one were moved back
 * one by one, so most hits of a 10,000-key site paid two map misses and an insert, a tenth of them
 * a SHA-256 too.
 */
const HASH_MEMO_ENTRIES = 16_384
/** Characters of keys one generation holds at most, so long keys cannot make the count bound costly. */
const HASH_MEMO_CHARS = 4 * 2 ** 20

/**
 * `hashKey` with a bounded per-engine memo: hot URLs skip SHA-256 on every hit (DESIGN rule 7).
 * Two generations: when the current one is full it becomes the previous one and a new one starts,
 * and a key found only in the previous one moves back. Keys hit since the last turn survive it,
 * so a long tail of cold URLs never flushes the hot ones, as emptying one full map would. Bounded
 * by count and by key length: two generations of at most 16,384 keys and 4 Mi characters each
 * (about 20 MB with the longest keys, a few MB with ordinary URLs).
 */
export class KeyHasher {
  readonly #hashes = new GenerationMemo<string>()
  readonly #plain = new GenerationMemo<PlainKey>()

  /**
   * The primary key and its hash for a key with no extra parts (the usual request), memoised by
   * path (generations and bounds as for `hash`): a hit finds them through its short path, instead
   * of building the key text and hashing all of it for the `hash` memo. Scheme, authority and
   * query are compared before a memoised key is used.
   */
  plain(scheme: 'http' | 'https', authority: string, path: string, query: string): PlainKey {
    const current = this.#plain.current(path)
    if (current !== undefined && madeOf(current, scheme, authority, query)) return current
    let found = this.#plain.previous(path)
    if (found === undefined || !madeOf(found, scheme, authority, query)) {
      const key = primaryKey({ scheme, authority, path, query, extra: NO_EXTRA })
      // Hashed outside the `hash` memo: this memo holds the result, and a second copy there
      // (the key text and its hash, per new path) only added to what a run of misses promotes.
      found = { scheme, authority, query, key, hash: hashKey(key) }
    }
    this.#plain.keep(path, found, path.length + found.key.length)
    return found
  }

  hash(key: string): string {
    const hash = this.#hashes.current(key)
    if (hash !== undefined) return hash
    const known = this.#hashes.previous(key) ?? hashKey(key)
    this.#hashes.keep(key, known, key.length)
    return known
  }
}

/** Whether a memoised plain key was made of these parts besides its path. */
function madeOf(found: PlainKey, scheme: string, authority: string, query: string): boolean {
  return found.scheme === scheme && found.authority === authority && found.query === query
}

/**
 * Two generations of a bounded memo: when the current one is full (by count or by characters) it
 * becomes the previous one and a new one starts; a value found only in the previous one is kept
 * again by its caller, so what is used since the last turn survives it.
 */
class GenerationMemo<V> {
  #current = new Map<string, V>()
  #previous = new Map<string, V>()
  /** Characters charged to `#current`. */
  #chars = 0

  current(key: string): V | undefined {
    return this.#current.get(key)
  }

  previous(key: string): V | undefined {
    return this.#previous.get(key)
  }

  keep(key: string, value: V, chars: number): void {
    if (this.#current.size >= HASH_MEMO_ENTRIES || this.#chars + chars > HASH_MEMO_CHARS) {
      this.#previous = this.#current
      this.#current = new Map()
      this.#chars = 0
    }
    this.#current.set(key, value)
    this.#chars += chars
  }
}

/** A memoised primary key with no extra parts, with what it was made of besides its path. */
export interface PlainKey {
  readonly scheme: 'http' | 'https'
  readonly authority: string
  readonly query: string
  readonly key: string
  readonly hash: string
}

const NO_EXTRA: readonly string[] = Object.freeze([])

/**
 * The tag every entry of one URL carries, whatever its scheme, key-function part or variant, so
 * an unsafe method or a purge can remove them all (RFC 9111 §4.4).
 *
 * @example
 * ```ts
 * urlTag('example.com', '/a', 'b=1') // 'http-url:…'
 * ```
 */
export function urlTag(authority: string, path: string, query: string): string {
  const target = query === '' ? path : `${path}?${query}`
  return `http-url:${sha256(`${authority}\n${target}`, 'hex')}`
}

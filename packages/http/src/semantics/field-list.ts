/** RFC 9110 §5.6.2 token. */
export const TOKEN: RegExp = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** RFC 9110 §5.6.3 OWS: spaces and horizontal tabs. */
const OWS_EDGES = /^[ \t]+|[ \t]+$/g

/**
 * Splits a field value into its list members (RFC 9110 §5.6.1): commas inside a quoted-string
 * (with its quoted-pairs, §5.6.4) do not split, OWS around each member is removed, and empty
 * members are skipped, as §5.6.1.2 asks of recipients. An unterminated quoted-string runs to the
 * end of the value.
 *
 * @example
 * ```ts
 * splitList('a, "b, c" ,, d') // ['a', '"b, c"', 'd']
 * ```
 */
export function splitList(text: string): string[] {
  const members: string[] = []
  let start = 0
  let quoted = false
  const push = (end: number): void => {
    const member = text.slice(start, end).replace(OWS_EDGES, '')
    if (member !== '') members.push(member)
  }
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i)
    if (quoted && char === 0x5c /* \ */) i++
    else if (char === 0x22 /* " */) quoted = !quoted
    else if (char === 0x2c /* , */ && !quoted) {
      push(i)
      start = i + 1
    }
  }
  push(text.length)
  return members
}

/**
 * Reads a quoted-string (RFC 9110 §5.6.4) that makes up all of `text`, undoing its quoted-pairs,
 * or `undefined` when `text` is not exactly one quoted-string.
 *
 * @example
 * ```ts
 * unquote('"a \\"b\\""') // 'a "b"'
 * unquote('"open')       // undefined
 * ```
 */
export function unquote(text: string): string | undefined {
  if (text.length < 2 || text.charCodeAt(0) !== 0x22) return undefined
  let value = ''
  for (let i = 1; i < text.length; i++) {
    const char = text.charCodeAt(i)
    if (char === 0x22) return i === text.length - 1 ? value : undefined
    if (char === 0x5c) {
      i++
      if (i >= text.length) return undefined
      value += text[i]
    } else if (char === 0x09 || (char >= 0x20 && char !== 0x7f)) {
      value += text[i]
    } else {
      return undefined
    }
  }
  return undefined
}

/**
 * The lower-case field names of a `#field-name` list (RFC 9110 §5.6.1, §5.1), or `undefined`
 * when the list is empty or holds anything that is not a token.
 *
 * @example
 * ```ts
 * fieldNameList('Set-Cookie, x-user') // ['set-cookie', 'x-user']
 * fieldNameList('a b')                // undefined
 * ```
 */
export function fieldNameList(text: string): string[] | undefined {
  const names = splitList(text)
  if (names.length === 0) return undefined
  for (const name of names) if (!TOKEN.test(name)) return undefined
  return names.map((name) => name.toLowerCase())
}

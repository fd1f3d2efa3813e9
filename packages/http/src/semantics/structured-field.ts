/** An RFC 8941 §3.3 bare item, tagged with its type. Binary content stays base64 text. */
export type BareItem =
  | { type: 'integer'; value: number }
  | { type: 'decimal'; value: number }
  | { type: 'string'; value: string }
  | { type: 'token'; value: string }
  | { type: 'binary'; value: string }
  | { type: 'boolean'; value: boolean }

/** RFC 8941 §3.1.2 parameters: ordered, a later duplicate key overwrites an earlier one. */
export type Parameters = ReadonlyMap<string, BareItem>

/** RFC 8941 §3.3 item, or §3.1.1 inner list, with its parameters. */
export type DictionaryMember =
  | { kind: 'item'; value: BareItem; params: Parameters }
  | {
      kind: 'inner-list'
      items: ReadonlyArray<{ value: BareItem; params: Parameters }>
      params: Parameters
    }

/** RFC 8941 §3.3.1: an Integer has at most 15 digits. */
const MAX_INTEGER_DIGITS = 15

/**
 * Parses a Dictionary Structured Field (RFC 8941 §3.2, parsing per §4.2 and §4.2.2), or returns
 * `undefined` on any parse failure, as §4.2 requires ("fail parsing" discards the whole field).
 * Several field lines are one value joined with commas (§4.2). Keys are lower-case only; a later
 * duplicate key overwrites an earlier one's value. Never throws.
 *
 * @example
 * ```ts
 * parseDictionary('max-age=60, private')?.get('max-age') // { kind: 'item', value: { type: 'integer', value: 60 }, params: Map {} }
 * parseDictionary('max-age=60, &&&')                     // undefined
 * ```
 */
export function parseDictionary(text: string): Map<string, DictionaryMember> | undefined {
  // §4.2 step 1: the input must be ASCII.
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return undefined
  const parser = new Parser(text)
  return parser.field()
}

/** Thrown only inside this file, to unwind a failed parse; parseDictionary turns it into undefined. */
class ParseFailure {}

class Parser {
  #input: string
  #pos = 0

  constructor(input: string) {
    this.#input = input
  }

  field(): Map<string, DictionaryMember> | undefined {
    try {
      this.#skipSpaces()
      const dictionary = this.#dictionary()
      this.#skipSpaces()
      return this.#pos === this.#input.length ? dictionary : undefined
    } catch (error) {
      if (error instanceof ParseFailure) return undefined
      throw error
    }
  }

  /** §4.2.2 */
  #dictionary(): Map<string, DictionaryMember> {
    const dictionary = new Map<string, DictionaryMember>()
    while (!this.#done()) {
      const key = this.#key()
      let member: DictionaryMember
      if (this.#peek() === '=') {
        this.#pos++
        member = this.#itemOrInnerList()
      } else {
        member = {
          kind: 'item',
          value: { type: 'boolean', value: true },
          params: this.#parameters(),
        }
      }
      dictionary.set(key, member)
      this.#skipOws()
      if (this.#done()) return dictionary
      if (this.#next() !== ',') this.#fail()
      this.#skipOws()
      // A trailing comma is a failure.
      if (this.#done()) this.#fail()
    }
    return dictionary
  }

  #itemOrInnerList(): DictionaryMember {
    if (this.#peek() !== '(') return { kind: 'item', ...this.#item() }
    // §4.2.1.2 inner list
    this.#pos++
    const items: Array<{ value: BareItem; params: Parameters }> = []
    while (!this.#done()) {
      this.#skipSpaces()
      if (this.#peek() === ')') {
        this.#pos++
        return { kind: 'inner-list', items, params: this.#parameters() }
      }
      items.push(this.#item())
      const next = this.#peek()
      if (next !== ' ' && next !== ')') this.#fail()
    }
    return this.#fail()
  }

  /** §4.2.3 */
  #item(): { value: BareItem; params: Parameters } {
    const value = this.#bareItem()
    return { value, params: this.#parameters() }
  }

  /** §4.2.3.1 */
  #bareItem(): BareItem {
    const char = this.#peek()
    if (char === '-' || isDigit(char)) return this.#number()
    if (char === '"') return this.#string()
    if (char === '*' || isAlpha(char)) return this.#token()
    if (char === ':') return this.#binary()
    if (char === '?') return this.#boolean()
    return this.#fail()
  }

  /** §4.2.3.2 */
  #parameters(): Parameters {
    const params = new Map<string, BareItem>()
    while (this.#peek() === ';') {
      this.#pos++
      this.#skipSpaces()
      const key = this.#key()
      let value: BareItem = { type: 'boolean', value: true }
      if (this.#peek() === '=') {
        this.#pos++
        value = this.#bareItem()
      }
      params.set(key, value)
    }
    return params
  }

  /** §4.2.3.3: lcalpha or `*`, then lcalpha, DIGIT, `_`, `-`, `.`, `*`. */
  #key(): string {
    const start = this.#pos
    const first = this.#peek()
    if (first !== '*' && !isLcAlpha(first)) this.#fail()
    this.#pos++
    while (/^[a-z0-9_\-.*]$/.test(this.#peek())) this.#pos++
    return this.#input.slice(start, this.#pos)
  }

  /** §4.2.4 */
  #number(): BareItem {
    let sign = 1
    if (this.#peek() === '-') {
      this.#pos++
      sign = -1
    }
    if (!isDigit(this.#peek())) this.#fail()
    let digits = ''
    let decimal = false
    for (;;) {
      const char = this.#peek()
      if (isDigit(char)) digits += char
      else if (!decimal && char === '.') {
        if (digits.length > 12) this.#fail()
        digits += char
        decimal = true
      } else break
      this.#pos++
      if (!decimal && digits.length > MAX_INTEGER_DIGITS) this.#fail()
      if (decimal && digits.length > 16) this.#fail()
    }
    if (!decimal) return { type: 'integer', value: sign * Number(digits) }
    const fraction = digits.length - digits.indexOf('.') - 1
    if (fraction < 1 || fraction > 3) this.#fail()
    return { type: 'decimal', value: sign * Number(digits) }
  }

  /** §4.2.5 */
  #string(): BareItem {
    this.#pos++
    let value = ''
    while (!this.#done()) {
      const char = this.#next()
      if (char === '\\') {
        if (this.#done()) this.#fail()
        const escaped = this.#next()
        if (escaped !== '"' && escaped !== '\\') this.#fail()
        value += escaped
      } else if (char === '"') {
        return { type: 'string', value }
      } else if (char < ' ' || char > '~') {
        this.#fail()
      } else {
        value += char
      }
    }
    return this.#fail()
  }

  /** §4.2.6: `*` or ALPHA, then tchar, `:` or `/`. */
  #token(): BareItem {
    const start = this.#pos
    this.#pos++
    while (/^[!#$%&'*+\-.^_`|~0-9A-Za-z:/]$/.test(this.#peek())) this.#pos++
    return { type: 'token', value: this.#input.slice(start, this.#pos) }
  }

  /** §4.2.7 */
  #binary(): BareItem {
    const end = this.#input.indexOf(':', this.#pos + 1)
    if (end === -1) this.#fail()
    const content = this.#input.slice(this.#pos + 1, end)
    if (!/^[A-Za-z0-9+/=]*$/.test(content)) this.#fail()
    this.#pos = end + 1
    return { type: 'binary', value: content }
  }

  /** §4.2.8 */
  #boolean(): BareItem {
    this.#pos++
    const char = this.#next()
    if (char === '1') return { type: 'boolean', value: true }
    if (char === '0') return { type: 'boolean', value: false }
    return this.#fail()
  }

  #peek(): string {
    return this.#input.charAt(this.#pos)
  }

  #next(): string {
    return this.#input.charAt(this.#pos++)
  }

  #done(): boolean {
    return this.#pos >= this.#input.length
  }

  #skipSpaces(): void {
    while (this.#peek() === ' ') this.#pos++
  }

  #skipOws(): void {
    while (this.#peek() === ' ' || this.#peek() === '\t') this.#pos++
  }

  #fail(): never {
    throw new ParseFailure()
  }
}

// `''` (past the end) compares below every one of these bounds, so it is never a match.
function isDigit(char: string): boolean {
  return char >= '0' && char <= '9'
}

function isLcAlpha(char: string): boolean {
  return char >= 'a' && char <= 'z'
}

function isAlpha(char: string): boolean {
  return isLcAlpha(char) || (char >= 'A' && char <= 'Z')
}

import { describe, expect, it } from 'vitest'
import { parseDictionary, type DictionaryMember } from '../src/semantics/structured-field.js'

/** A compact view of a parsed dictionary: key → value (inner lists as arrays), parameters dropped. */
function view(text: string): Record<string, unknown> | undefined {
  const parsed = parseDictionary(text)
  if (parsed === undefined) return undefined
  const out: Record<string, unknown> = {}
  for (const [key, member] of parsed) out[key] = plain(member)
  return out
}

function plain(member: DictionaryMember): unknown {
  if (member.kind === 'inner-list') return member.items.map((item) => item.value.value)
  return member.value.value
}

describe('parseDictionary(text) — RFC 8941 §3.2, §4.2.2', () => {
  const valid: Array<[rfc: string, input: string, expected: Record<string, unknown>]> = [
    ['§3.2 empty field is an empty dictionary', '', {}],
    ['§3.2 a bare key is Boolean true', 'private', { private: true }],
    ['§3.3.1 integer', 'max-age=60', { 'max-age': 60 }],
    ['§3.3.1 negative integer', 'a=-5', { a: -5 }],
    ['§3.3.1 fifteen digits', 'a=999999999999999', { a: 999_999_999_999_999 }],
    ['§3.3.2 decimal', 'a=1.5', { a: 1.5 }],
    ['§3.3.2 decimal with three fraction digits', 'a=-12.345', { a: -12.345 }],
    ['§3.3.3 string with escapes', 'a="x \\"y\\" \\\\z"', { a: 'x "y" \\z' }],
    ['§3.3.4 token', 'a=foo/bar:baz', { a: 'foo/bar:baz' }],
    ['§3.3.4 token starting with *', 'a=*x', { a: '*x' }],
    ['§3.3.5 byte sequence', 'a=:aGVsbG8=:', { a: 'aGVsbG8=' }],
    ['§3.3.6 booleans', 'a=?1, b=?0', { a: true, b: false }],
    ['§3.1.1 inner list', 'a=(x "y" 1), b=()', { a: ['x', 'y', 1], b: [] }],
    ['§3.1.2 parameters on items and bare keys', 'a=1;p=2;q, b;r="s"', { a: 1, b: true }],
    ['§4.2.2 a later duplicate key overwrites the value', 'a=1, b=2, a=3', { a: 3, b: 2 }],
    ['§4.2.2 OWS around commas, spaces around the value', '  a=1 ,\tb=2  ', { a: 1, b: 2 }],
    ['§3.3.3 keys may start with *', '*a=1', { '*a': 1 }],
    ['§3.2 keys hold digits, _, -, . and *', 'a1_-.*=1', { 'a1_-.*': 1 }],
  ]
  for (const [rfc, input, expected] of valid) {
    it(`${rfc}: ${JSON.stringify(input)}`, () => expect(view(input)).toEqual(expected))
  }

  it('keeps parameters, in order, a later duplicate overwriting', () => {
    const member = parseDictionary('a=1;x=2;y;x="z"')?.get('a')
    expect(member?.kind).toBe('item')
    expect([...(member?.params ?? [])]).toEqual([
      ['x', { type: 'string', value: 'z' }],
      ['y', { type: 'boolean', value: true }],
    ])
  })

  it('tags integers and decimals, strings and tokens apart', () => {
    const parsed = parseDictionary('i=1, d=1.0, s="t", t=t')
    expect(
      [...(parsed ?? [])].map(([key, member]) => [
        key,
        member.kind === 'item' ? member.value.type : member.kind,
      ])
    ).toEqual([
      ['i', 'integer'],
      ['d', 'decimal'],
      ['s', 'string'],
      ['t', 'token'],
    ])
  })

  const invalid: Array<[rfc: string, input: string]> = [
    ['§4.2.3.3 upper-case key', 'MaX-aGe=3600'],
    ['§4.2.3.3 key starting with a digit', '1a=1'],
    ['§4.2.3.1 unknown item type', 'max-age=10000, &&&&&'],
    ['§4.2.2 trailing comma', 'a=1,'],
    ['§4.2.2 leading comma', ',a=1'],
    ['§4.2.2 empty member', 'a=1,,b=2'],
    ['§4.2.2 members not separated by a comma', 'a=1 b=2'],
    ['§4.2.2 whitespace before "="', 'a =1'],
    ['§4.2.2 whitespace after "="', 'a= 1'],
    ['§4.2.4 sixteen-digit integer', 'a=1234567890123456'],
    ['§4.2.4 decimal with four fraction digits', 'a=1.2345'],
    ['§4.2.4 decimal with a trailing dot', 'a=1.'],
    ['§4.2.4 thirteen integer digits before the dot', 'a=1234567890123.1'],
    ['§4.2.4 a lone minus', 'a=-'],
    ['§4.2.5 unterminated string', 'a="abc'],
    ['§4.2.5 bad escape', 'a="\\n"'],
    ['§4.2.5 control character in a string', 'a="\t"'],
    ['§4.2.7 unterminated byte sequence', 'a=:abc'],
    ['§4.2.7 non-base64 byte', 'a=:ab$c:'],
    ['§4.2.8 bad boolean', 'a=?2'],
    ['§4.2.1.2 unterminated inner list', 'a=(1 2'],
    ['§4.2.1.2 inner list items not separated by a space', 'a=(1,2)'],
    ['§4.2 non-ASCII input', 'a="é"'],
    ['§4.2 a single-quoted value is not a type', "a='1'"],
    ['§4.2 leading tab', '\ta=1'],
  ]
  for (const [rfc, input] of invalid) {
    it(`fails on ${rfc}: ${JSON.stringify(input)}`, () =>
      expect(parseDictionary(input)).toBeUndefined())
  }
})

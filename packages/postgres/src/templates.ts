import { InvalidOptionError } from '@cachewire/core'
import { quoteIdentifier, quoteLiteral } from './sql.js'

/** A key or tag template, parsed: literal text and column names, in order. */
export interface Template {
  source: string
  parts: ReadonlyArray<{ text: string } | { column: string }>
}

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_$]*)\}|[{}]/g

/**
 * Reads a template like `'user:{id}'` or `'org:{org_id}:users'`: text, with `{column}` standing for a
 * column of the changed row (`{{` and `}}` for literal braces). A trigger cannot run JavaScript, so
 * keys and tags are described this way and compiled to SQL the trigger evaluates for each row.
 *
 * @example
 * ```ts
 * parseTemplate('user:{id}', 'keys[0]') // { parts: [{ text: 'user:' }, { column: 'id' }] }
 * ```
 */
export function parseTemplate(source: unknown, option: string): Template {
  if (typeof source !== 'string' || source.length === 0)
    throw new InvalidOptionError(option, "a template like 'user:{id}'", source)
  const parts: Array<{ text: string } | { column: string }> = []
  let text = ''
  let last = 0
  for (const match of source.matchAll(PLACEHOLDER)) {
    text += source.slice(last, match.index)
    last = match.index + match[0].length
    if (match[0] === '{{' || match[0] === '}}') text += match[0][0]
    else if (match[1] !== undefined) {
      if (text !== '') parts.push({ text })
      text = ''
      parts.push({ column: match[1].toLowerCase() })
    } else
      throw new InvalidOptionError(
        option,
        "a template like 'user:{id}' ({column}, with {{ and }} for literal braces)",
        source
      )
  }
  text += source.slice(last)
  if (text !== '') parts.push({ text })
  return { source, parts }
}

/** The columns a template reads. */
export function templateColumns(template: Template): string[] {
  return template.parts.flatMap((part) => ('column' in part ? [part.column] : []))
}

/** True when the template reads no column: the same tag for every row (a table-wide tag). */
export function isStatic(template: Template): boolean {
  return templateColumns(template).length === 0
}

/**
 * The template as a SQL text expression over the row alias `row`: `'user:' || row."id"::text`. A NULL
 * column makes the whole value NULL, and the trigger drops NULLs (no key from a missing value).
 */
export function templateSql(template: Template, row: string): string {
  if (template.parts.length === 0) return quoteLiteral('')
  return template.parts
    .map((part) =>
      'column' in part ? `${row}.${quoteIdentifier(part.column)}::text` : quoteLiteral(part.text)
    )
    .join(' || ')
}

import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '@cachewire/core'
import { isStatic, parseTemplate, templateColumns, templateSql } from '../src/templates.js'
import { parseTableName, quoteIdentifier, quoteLiteral } from '../src/sql.js'
import { triggerFunctionSql } from '../src/triggers.js'

describe('key and tag templates', () => {
  it('reads text and {column} placeholders, with {{ and }} for braces', () => {
    expect(parseTemplate('user:{id}', 'keys[0]').parts).toEqual([
      { text: 'user:' },
      { column: 'id' },
    ])
    expect(parseTemplate('org:{Org_Id}:users', 'tags[0]').parts).toEqual([
      { text: 'org:' },
      { column: 'org_id' },
      { text: ':users' },
    ])
    expect(parseTemplate('{{literal}}', 'tags[0]').parts).toEqual([{ text: '{literal}' }])
    expect(templateColumns(parseTemplate('{a}-{b}', 'keys[0]'))).toEqual(['a', 'b'])
    expect(isStatic(parseTemplate('users', 'tags[0]'))).toBe(true)
  })

  it('refuses what it cannot read, naming the option', () => {
    for (const bad of ['', 'user:{id', 'user:{1d}', 'user:}', 42]) {
      expect(() => parseTemplate(bad, 'keys[1]')).toThrow(InvalidOptionError)
      expect(() => parseTemplate(bad, 'keys[1]')).toThrow(/options\.keys\[1\]/)
    }
  })

  it('compiles to SQL over a row alias, quoting text and columns', () => {
    expect(templateSql(parseTemplate("it's:{id}", 'keys[0]'), 'r')).toBe(`'it''s:' || r."id"::text`)
    expect(templateSql(parseTemplate('users', 'tags[0]'), 'r')).toBe(`'users'`)
  })
})

describe('names', () => {
  it('quotes identifiers and literals', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"')
    expect(quoteLiteral("a'b")).toBe("'a''b'")
  })

  it('reads table names, with an optional schema, and refuses anything else', () => {
    expect(parseTableName('App.Users', 'table')).toMatchObject({
      schema: 'app',
      name: 'users',
      sql: '"app"."users"',
      text: 'app.users',
    })
    expect(parseTableName('users', 'table')).toMatchObject({ schema: undefined, sql: '"users"' })
    for (const bad of ['users; DROP TABLE x', 'a.b.c', '"users"', '', 7])
      expect(() => parseTableName(bad, 'table')).toThrow(/options\.table/)
  })
})

describe('the trigger function', () => {
  const sql = triggerFunctionSql(
    '"f"',
    [parseTemplate('user:{id}', 'keys[0]')],
    [parseTemplate('users', 'tags[0]'), parseTemplate('org:{org_id}', 'tags[1]')],
    'chan',
    '"cachewire_changes"'
  )

  it('reads NEW rows for INSERT, OLD rows for DELETE, both for UPDATE', () => {
    expect(sql).toMatch(/IF TG_OP = 'INSERT' THEN\s+SELECT [^;]+FROM new_rows r/)
    expect(sql).toMatch(
      /ELSIF TG_OP = 'UPDATE' THEN\s+SELECT [^;]+FROM \(SELECT \* FROM new_rows UNION ALL SELECT \* FROM old_rows\) r/
    )
    expect(sql).toMatch(/ELSIF TG_OP = 'DELETE' THEN\s+SELECT [^;]+FROM old_rows r/)
  })

  it('on TRUNCATE, names only the table-wide tags', () => {
    expect(sql).toMatch(/t := ARRAY\['users'\]::text\[\];/)
  })

  it('falls back to the change id when the payload would pass the NOTIFY limit', () => {
    expect(sql).toMatch(
      /IF octet_length\(payload\) > 7900 THEN\s+payload := json_build_object\('id', change_id\)::text;/
    )
    expect(sql).toContain(`PERFORM pg_notify('chan', payload);`)
  })
})

/**
 * The migration guides' snippets, read from the root README.md (or a package's README), so the
 * guides cannot drift from what runs. A snippet is the fenced block after `<!-- snippet: <name> -->`.
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const README = fileURLToPath(new URL('../../README.md', import.meta.url))
/** The core package's README, for its snippets. */
export const CORE_README = fileURLToPath(new URL('../../packages/core/README.md', import.meta.url))
const DIR = fileURLToPath(new URL('./.snippets/', import.meta.url))

/** The code of the snippet called `name`, exactly as the README shows it. */
export function snippet(name: string, readme = README): string {
  const text = readFileSync(readme, 'utf8')
  const marker = `<!-- snippet: ${name} -->`
  const at = text.indexOf(marker)
  if (at === -1) throw new Error(`${readme} has no snippet called ${name}`)
  const fence = /```[a-z]*\n([\s\S]*?)```/.exec(text.slice(at + marker.length))
  if (fence?.[1] === undefined) throw new Error(`the snippet ${name} has no code block`)
  return fence[1]
}

/**
 * Runs a snippet as a module and hands back the names it defines. The only changes: the line
 * `app.listen(3000)` is left out (the test serves `app` on a free port), an `export` of the
 * requested names is appended, and `rewrite` (when given) is applied first (to send an import to
 * another version of a package, say).
 */
export async function runSnippet<T extends Record<string, unknown>>(
  name: string,
  names: readonly (keyof T & string)[],
  readme = README,
  rewrite: (code: string) => string = (code) => code
): Promise<T> {
  const code = rewrite(snippet(name, readme))
  const lines = code.split('\n').filter((line) => line.trim() !== 'app.listen(3000)')
  mkdirSync(DIR, { recursive: true })
  const file = `${DIR}${name}-${randomUUID()}.ts`
  writeFileSync(file, `${lines.join('\n')}\nexport { ${names.join(', ')} }\n`)
  // Each call removes only what it wrote: test files that share DIR run at the same time, and
  // one removing the whole directory pulled another's files from under it (tsc: TS5058).
  try {
    return (await import(/* @vite-ignore */ file)) as T
  } finally {
    rmSync(file, { force: true })
  }
}

/** Writes snippets as files with a tsconfig (the repo's strict settings) and runs tsc on them: '' when they typecheck. */
export async function typecheckSnippets(
  names: readonly string[],
  readme = README
): Promise<string> {
  return typecheckSources(Object.fromEntries(names.map((name) => [name, snippet(name, readme)])))
}

/**
 * As typecheckSnippets, for sources by file name (without `.ts`); `compilerOptions` go over the
 * repository's (`paths`, say, to give every import of a package, in our declarations too, another
 * version of it, as a user's project that installed that version would).
 */
export async function typecheckSources(
  sources: Record<string, string>,
  compilerOptions: Record<string, unknown> = {}
): Promise<string> {
  const dir = `${DIR}typecheck-${randomUUID()}/`
  mkdirSync(dir, { recursive: true })
  for (const [name, code] of Object.entries(sources))
    writeFileSync(`${dir}${name}.ts`, `${code}\nexport {}\n`)
  writeFileSync(
    `${dir}tsconfig.json`,
    JSON.stringify({
      extends: '../../../../tsconfig.base.json',
      compilerOptions: { noEmit: true, rootDir: '.', ...compilerOptions },
      include: ['*.ts'],
    })
  )
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
  const run = promisify(execFile)
  const result = await run(process.execPath, [tsc, '-p', `${dir}tsconfig.json`])
    .catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }))
    .finally(() => rmSync(dir, { recursive: true, force: true }))
  return result.stdout
}

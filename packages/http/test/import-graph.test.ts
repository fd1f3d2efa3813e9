import { readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src')

/** Relative imports of a source file (`import type` included unless `runtimeOnly`), and its bare ones. */
function importsOf(file: string, runtimeOnly: boolean): { local: string[]; bare: string[] } {
  const source = readFileSync(file, 'utf8')
  const local: string[] = []
  const bare: string[] = []
  for (const match of source.matchAll(/^(?:import|export)(\s+type)?[^'"]*?from\s+'([^']+)'/gm)) {
    if (runtimeOnly && match[1] !== undefined) continue
    const spec = match[2] as string
    if (spec.startsWith('.')) local.push(join(dirname(file), spec.replace(/\.js$/, '.ts')))
    else bare.push(spec)
  }
  return { local, bare }
}

/** Every file reached from `entry`, and the bare modules they import. */
function reach(entry: string, runtimeOnly: boolean): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>()
  const bare = new Set<string>()
  const walk = (file: string): void => {
    if (files.has(file)) return
    files.add(file)
    const found = importsOf(file, runtimeOnly)
    for (const name of found.bare) bare.add(name)
    for (const next of found.local) walk(next)
  }
  walk(join(SRC, entry))
  return { files, bare }
}

function cycles(entry: string, runtimeOnly: boolean): string[][] {
  const found: string[][] = []
  const done = new Set<string>()
  const stack: string[] = []
  const visit = (file: string): void => {
    const at = stack.indexOf(file)
    if (at !== -1) {
      found.push(stack.slice(at).map((f) => relative(SRC, f)))
      return
    }
    if (done.has(file)) return
    stack.push(file)
    for (const next of importsOf(file, runtimeOnly).local) visit(next)
    stack.pop()
    done.add(file)
  }
  visit(join(SRC, entry))
  return found
}

describe('import graph of @cachewire/http', () => {
  it.each(['index.ts', 'kit.ts', 'operations.ts', 'metrics.ts', 'otel.ts'])(
    '%s has no import cycle, type imports included',
    (entry) => {
      expect(cycles(entry, false)).toEqual([])
    }
  )

  it('the engine and the kit never reach operations or an optional dependency', () => {
    for (const entry of ['index.ts', 'kit.ts']) {
      const { files, bare } = reach(entry, true)
      const names = [...files].map((file) => relative(SRC, file))
      expect(
        names.filter((name) =>
          /purge-api|inspector-page|varnish-purger|prometheus-metrics|otel|health-checks|operations|metrics\.ts/.test(
            name
          )
        ),
        entry
      ).toEqual([])
      expect(
        [...bare].filter(
          (name) =>
            name === 'prom-client' ||
            name === 'light-my-request' ||
            name.startsWith('@opentelemetry/')
        ),
        entry
      ).toEqual([])
    }
  })

  it('only the metrics entry imports prom-client, only the otel entry @opentelemetry/api; operations imports no optional dependency', () => {
    expect(reach('metrics.ts', true).bare.has('prom-client')).toBe(true)
    expect(reach('otel.ts', true).bare.has('@opentelemetry/api')).toBe(true)
    for (const entry of ['operations.ts', 'metrics.ts'])
      expect(reach(entry, true).bare.has('@opentelemetry/api'), entry).toBe(false)
    for (const entry of ['operations.ts', 'otel.ts'])
      expect(reach(entry, true).bare.has('prom-client'), entry).toBe(false)
  })

  it('light-my-request is loaded on the first background refresh only', () => {
    const refresher = readFileSync(join(SRC, 'kit', 'refresher.ts'), 'utf8')
    expect(refresher).not.toMatch(/^import .*light-my-request/m)
    expect(refresher).toContain("import('light-my-request')")
  })

  it('no file under src/ is over 400 lines', () => {
    const all = [
      ...new Set([
        ...['index.ts', 'kit.ts', 'operations.ts', 'metrics.ts', 'otel.ts'].flatMap((entry) => [
          ...reach(entry, false).files,
        ]),
      ]),
    ]
    const long = all
      .map((file) => [relative(SRC, file), readFileSync(file, 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 400)
    expect(long).toEqual([])
  })
})

#!/usr/bin/env node
/**
 * Finds import cycles among the TypeScript sources of packages/<name>/src, with no dependency.
 *
 * Every static `import … from`, `export … from` and side-effect `import '…'` with a relative
 * specifier counts, `import type` included: a type-only cycle is erased at build time, but it
 * still ties two files together, and a later value import along it becomes a load-order bug.
 * `./x.js` resolves to `./x.ts` (NodeNext style), `./dir` to `./dir/index.ts`. Package imports
 * (`@cachewire/core`, `node:fs`) are edges between packages, not files, and are not followed.
 *
 * Usage: node scripts/check-cycles.mjs [package …]   e.g. `node scripts/check-cycles.mjs core`
 * Prints each cycle as a chain of files and exits 1 if there is any (0 when there is none).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const STATIC_IMPORT = /^\s*(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/gm
const SIDE_EFFECT_IMPORT = /^\s*import\s*['"]([^'"]+)['"]/gm
const BLOCK_COMMENT = /\/\*[\s\S]*?\*\//g

/** Every .ts file (not .d.ts) under `dir`, recursively. */
function sourceFiles(dir) {
  const files = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...sourceFiles(path))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path)
  }
  return files
}

/** The .ts file a relative specifier names, or undefined when there is none. */
function resolveSpecifier(from, specifier) {
  const base = resolve(dirname(from), specifier)
  const candidates = [base.replace(/\.(m|c)?js$/, '.$1ts'), `${base}.ts`, join(base, 'index.ts')]
  return candidates.find((path) => existsSync(path) && statSync(path).isFile())
}

/** Relative imports of one file, resolved to files. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8').replace(BLOCK_COMMENT, '')
  const specifiers = [...text.matchAll(STATIC_IMPORT), ...text.matchAll(SIDE_EFFECT_IMPORT)].map(
    (match) => match[1]
  )
  const targets = new Set()
  for (const specifier of specifiers) {
    if (!specifier.startsWith('.')) continue
    const target = resolveSpecifier(file, specifier)
    if (target !== undefined) targets.add(target)
  }
  return [...targets]
}

/** The import graph of the chosen packages' src folders: file → files it imports. */
export function importGraph(root = ROOT, packages) {
  const base = join(root, 'packages')
  const names = packages?.length
    ? packages
    : readdirSync(base).filter((name) => existsSync(join(base, name, 'src')))
  const graph = new Map()
  for (const name of names) {
    const src = join(base, name, 'src')
    if (!existsSync(src)) throw new Error(`no such package source folder: ${relative(root, src)}`)
    for (const file of sourceFiles(src)) graph.set(file, importsOf(file))
  }
  return graph
}

/** Strongly connected components with a cycle (Tarjan), each as a list of files. */
function cyclicComponents(graph) {
  let index = 0
  const indices = new Map()
  const lowlinks = new Map()
  const stack = []
  const onStack = new Set()
  const components = []
  const visit = (node) => {
    indices.set(node, index)
    lowlinks.set(node, index)
    index++
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue
      if (!indices.has(next)) {
        visit(next)
        lowlinks.set(node, Math.min(lowlinks.get(node), lowlinks.get(next)))
      } else if (onStack.has(next)) {
        lowlinks.set(node, Math.min(lowlinks.get(node), indices.get(next)))
      }
    }
    if (lowlinks.get(node) !== indices.get(node)) return
    const component = []
    let member
    do {
      member = stack.pop()
      onStack.delete(member)
      component.push(member)
    } while (member !== node)
    const selfLoop = component.length === 1 && (graph.get(node) ?? []).includes(node)
    if (component.length > 1 || selfLoop) components.push(component)
  }
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) visit(node)
  return components
}

/** One shortest cycle through the first file (in name order) of a component, as a closed chain. */
function shortestCycle(graph, component) {
  const members = new Set(component)
  const start = [...component].sort()[0]
  const previous = new Map([[start, undefined]])
  const queue = [start]
  while (queue.length > 0) {
    const node = queue.shift()
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue
      if (next === start) {
        const chain = [start]
        for (let at = node; at !== start; at = previous.get(at)) chain.splice(1, 0, at)
        return [...chain, start]
      }
      if (!previous.has(next)) {
        previous.set(next, node)
        queue.push(next)
      }
    }
  }
  return [start, start]
}

/** Every cycle, as `{ files, example }`: the files tied together and one closed chain through them. */
export function findCycles(root = ROOT, packages) {
  const graph = importGraph(root, packages)
  return cyclicComponents(graph).map((component) => ({
    files: component.map((file) => relative(root, file)).sort(),
    example: shortestCycle(graph, component).map((file) => relative(root, file)),
  }))
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const packages = process.argv.slice(2)
  const cycles = findCycles(ROOT, packages)
  const scope = packages.length > 0 ? packages.join(', ') : 'all packages'
  if (cycles.length === 0) {
    console.log(`check-cycles: no import cycle in ${scope}`)
  } else {
    for (const cycle of cycles) {
      console.log(`cycle (${cycle.files.length} files): ${cycle.example.join(' → ')}`)
      if (cycle.files.length > cycle.example.length - 1)
        console.log(`  files in it: ${cycle.files.join(', ')}`)
    }
    console.log(`check-cycles: ${cycles.length} import cycle(s) in ${scope}`)
    process.exitCode = 1
  }
}

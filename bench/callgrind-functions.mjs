// Instructions (or estimated cycles, or any weighing of callgrind's events) per request by
// JavaScript function, from a callgrind dump of a Node process run with --perf-basic-prof:
// callgrind sees V8's generated code only as addresses, which the perf map V8 writes
// (/tmp/perf-<pid>.map) names. Used by `node bench/callgrind.mjs <variant> --functions`.
//
// A function's figure is its own instructions and those of the V8 builtins and runtime calls it
// makes (inline-cache handlers, Map lookups, Date.now, dictionary growth…), down to where they
// call JavaScript again. callgrind keeps callers one level deep, not whole stacks, so a builtin
// called from several functions is shared among them by the instructions each call to it cost.
import { readFileSync } from 'node:fs'

/** `[start, size, name]` ranges of V8 code, sorted by start. */
function readPerfMap(file) {
  const ranges = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [start, size, ...name] = line.split(' ')
    if (name.length > 0) ranges.push([parseInt(start, 16), parseInt(size, 16), name.join(' ')])
  }
  return ranges.sort((a, b) => a[0] - b[0])
}

/** The JavaScript function whose code holds `address`, without V8's tier marks (`JS:*`, `~`, `^`). */
function nameAt(ranges, address) {
  let low = 0
  let high = ranges.length - 1
  let found = -1
  while (low <= high) {
    const mid = (low + high) >> 1
    if (ranges[mid][0] <= address) {
      found = mid
      low = mid + 1
    } else high = mid - 1
  }
  if (found < 0 || address >= ranges[found][0] + ranges[found][1]) return undefined
  return ranges[found][2].replace(/^(\w+:)?[*~^+]?/, '')
}

/**
 * Per-request costs by JavaScript function, most first. `functions`: `{ name, total, own, calls:
 * [[callee, cost]] }`, the callees being the builtins and runtime functions charged to it;
 * `files`: the same summed by source (a package, a dependency, a Node module). The cost of a line
 * is `weigh(events)`, `events` naming each event the dump recorded (`Ir`, and with the cache
 * simulation `I1mr`, `D1mr`, `DLmw`, `Bcm`…); by default its instructions.
 */
export function costsByFunction(dumpFile, perfMapFile, requests, weigh = (events) => events.Ir) {
  const ranges = readPerfMap(perfMapFile)
  let names = ['Ir']
  const compressed = new Map()
  const label = (spec) => {
    // callgrind names a function in full once, `(12) name`, and as `(12)` after that.
    const match = /^\((\d+)\)(?: (.*))?$/.exec(spec)
    let name = spec
    if (match !== null) {
      if (match[2] !== undefined) compressed.set(match[1], match[2])
      name = compressed.get(match[1])
    }
    if (!/^0x[0-9a-f]+$/.test(name)) return name.replace(/\(.*$/, '').replace(/ \[.*$/, '')
    const js = nameAt(ranges, parseInt(name, 16))
    return js === undefined ? `(unnamed code) ${name}` : `JS ${js}`
  }
  const own = new Map()
  const calls = new Map()
  let current
  let callee
  for (const line of readFileSync(dumpFile, 'utf8').split('\n')) {
    if (line.startsWith('events:')) names = line.slice(7).trim().split(/\s+/)
    else if (line.startsWith('fn=')) current = label(line.slice(3))
    else if (line.startsWith('cfn=')) callee = label(line.slice(4))
    else if (/^[0-9+\-*]/.test(line)) {
      // A cost line: its position (the line number), then one value per event, in the order
      // `events:` names them; trailing zeros are left out.
      const fields = line.trim().split(/\s+/)
      const events = {}
      for (let i = 0; i < names.length; i++) events[names[i]] = Number(fields[i + 1] ?? 0)
      const cost = weigh(events)
      if (!Number.isFinite(cost)) continue
      if (callee === undefined) {
        own.set(current, (own.get(current) ?? 0) + cost)
        continue
      }
      // The cost line after `calls=` is that call's inclusive cost.
      let out = calls.get(current)
      if (out === undefined) calls.set(current, (out = new Map()))
      out.set(callee, (out.get(callee) ?? 0) + cost)
      callee = undefined
    }
  }

  const isJs = (name) => name.startsWith('JS ')
  const calledFor = new Map()
  for (const out of calls.values())
    for (const [name, cost] of out) calledFor.set(name, (calledFor.get(name) ?? 0) + cost)
  // What a builtin or runtime function costs short of the JavaScript it calls back into.
  const nativeCost = new Map()
  const visiting = new Set()
  const native = (name) => {
    if (nativeCost.has(name)) return nativeCost.get(name)
    if (visiting.has(name)) return own.get(name) ?? 0
    visiting.add(name)
    let cost = own.get(name) ?? 0
    for (const [next, spent] of calls.get(name) ?? []) {
      if (isJs(next) || next === name) continue
      const all = calledFor.get(next) || 1
      cost += (spent / all) * Math.min(native(next), all)
    }
    visiting.delete(name)
    nativeCost.set(name, cost)
    return cost
  }

  const byName = new Map()
  for (const name of new Set([...own.keys(), ...calls.keys()])) {
    if (!isJs(name)) continue
    const key = name.slice(3)
    const entry = byName.get(key) ?? { name: key, own: 0, calls: new Map() }
    entry.own += own.get(name) ?? 0
    for (const [next, spent] of calls.get(name) ?? []) {
      if (isJs(next)) continue
      const all = calledFor.get(next) || 1
      const share = (spent / all) * Math.min(native(next), all)
      entry.calls.set(next, (entry.calls.get(next) ?? 0) + share)
    }
    byName.set(key, entry)
  }
  const perRequest = (n) => n / requests
  const functions = [...byName.values()]
    .map((entry) => {
      let total = entry.own
      for (const spent of entry.calls.values()) total += spent
      return {
        name: entry.name,
        total: perRequest(total),
        own: perRequest(entry.own),
        calls: [...entry.calls]
          .map(([next, spent]) => [next, perRequest(spent)])
          .sort((a, b) => b[1] - a[1]),
      }
    })
    .sort((a, b) => b.total - a.total)
  const files = new Map()
  for (const { name, total } of functions) {
    const file = sourceOf(name)
    files.set(file, (files.get(file) ?? 0) + total)
  }
  return { functions, files: [...files].sort((a, b) => b[1] - a[1]) }
}

/** A function's source, coarsely: a workspace package, a dependency, a Node module, or the file. */
function sourceOf(name) {
  const match =
    /(packages\/[\w-]+)\//.exec(name) ??
    /node_modules\/\.pnpm\/([^/]+)\//.exec(name) ??
    /(node:[\w/]+)/.exec(name) ??
    /([\w.-]+\.m?js)/.exec(name)
  return match === null ? '(other)' : match[1]
}

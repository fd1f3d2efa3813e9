/**
 * Compiles a Redis MATCH-style glob (`*`, `?`, `[abc]`, `[^a]`, `\x`) to an anchored RegExp, so
 * `KeyvStore.deletePattern` matches keys exactly as `MemoryStore` and `RedisStore` do.
 *
 * A copy of core's internal `globToRegExp`, which `@cachewire/core` does not export; keep the two
 * in step until core exports it.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '^'
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string
    if (char === '\\' && i + 1 < glob.length) {
      source += escapeRegExp(glob[++i] as string)
    } else if (char === '*') {
      source += '[\\s\\S]*'
    } else if (char === '?') {
      source += '[\\s\\S]'
    } else if (char === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end === -1) {
        source += '\\['
        continue
      }
      let body = glob.slice(i + 1, end)
      const negate = body.startsWith('^')
      if (negate) body = body.slice(1)
      source += '[' + (negate ? '^' : '') + body.replace(/[\\\]]/g, '\\$&') + ']'
      i = end
    } else {
      source += escapeRegExp(char)
    }
  }
  return new RegExp(source + '$')
}

function escapeRegExp(char: string): string {
  return char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

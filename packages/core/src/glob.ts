/**
 * Compiles a Redis MATCH-style glob (`*`, `?`, `[abc]`, `[^a]`, `\x`) to an anchored RegExp,
 * so the memory store filters keys exactly as Redis SCAN would.
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

/** Escapes glob metacharacters so that `value` matches only itself in a Redis MATCH pattern. */
export function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, '\\$&')
}

function escapeRegExp(char: string): string {
  return char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/**
 * Reads a JSON request body of at most `maxBytes`; `undefined` when it is larger, empty or not
 * JSON. For small control requests (the purge routers), where a body parser may not be mounted.
 *
 * @example
 * ```ts
 * const body = await readJsonBody(req, 64 * 1024)
 * ```
 */
export async function readJsonBody(
  stream: AsyncIterable<Buffer>,
  maxBytes: number
): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += chunk.length
    if (size > maxBytes) return undefined
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
  } catch {
    return undefined
  }
}

// Requests the bench scripts send before a measured run, from Node rather than wrk.

/** How many keys a -zipf load draws from (bench/zipf.lua, bench/callgrind.mjs). */
export const ZIPF_KEYS = 10_000

/**
 * Asks `origin` for every path in `paths`, `concurrency` at a time; throws on a status other
 * than 200.
 *
 * @example
 * await askEach('http://127.0.0.1:3100', ['/data/1'], { concurrency: 1 })
 */
export async function askEach(origin, paths, { headers = {}, concurrency = 16 } = {}) {
  let next = 0
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++]
      const response = await fetch(origin + path, { headers })
      await response.arrayBuffer()
      if (response.status !== 200) throw new Error(`status ${response.status} for ${path}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/**
 * A -zipf run compares hits across its keys: each is asked for once before the warm-up, so every
 * server holds all of them when the measured run starts. With a fixed-time warm-up alone, a
 * faster server stored more of the tail before measuring, so the rows mixed hit cost with how
 * warm each server got (about a quarter of the measured requests were misses). The cost of
 * storing is what the -miss rows measure.
 */
export function storeEveryZipfKey(origin) {
  return askEach(
    origin,
    Array.from({ length: ZIPF_KEYS }, (_, id) => `/data/${id}`),
    { concurrency: 16 }
  )
}

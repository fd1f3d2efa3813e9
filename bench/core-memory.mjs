// RSS while a million distinct keys (100-byte values) pass through a 64 MiB MemoryStore, in a
// fresh process so nothing else is on the heap. Run: node --expose-gc bench/core-memory.mjs
import { MemoryStore } from '@cachewire/core'

// Memory: a million distinct keys with 100-byte values through a 64 MiB store.
const big = new MemoryStore({ maxBytes: 64 * 1024 * 1024 })
globalThis.gc?.()
const rssBefore = process.memoryUsage().rss
const samples = []
for (let i = 0; i < 1_000_000; i++) {
  await big.set(`distinct:${i}`, Buffer.alloc(100), { ttlMs: 600_000 })
  if (i % 250_000 === 249_999) {
    globalThis.gc?.()
    const m = process.memoryUsage()
    samples.push(
      `${(i + 1).toLocaleString('en-US')} keys: rss ${(m.rss / 2 ** 20).toFixed(0)} MiB (heap used ${(m.heapUsed / 2 ** 20).toFixed(0)} of ${(m.heapTotal / 2 ** 20).toFixed(0)}, external ${(m.external / 2 ** 20).toFixed(0)}), held ${big.size().entries.toLocaleString('en-US')} entries / ${(big.size().bytes / 2 ** 20).toFixed(1)} MiB`
    )
  }
}
console.log(`RSS before the million keys: ${(rssBefore / 2 ** 20).toFixed(0)} MiB`)
for (const line of samples) console.log(line)

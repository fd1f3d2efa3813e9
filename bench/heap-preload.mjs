// Loaded into a bench server by `node bench/heap-per-entry.mjs` and `node bench/http-memory.mjs`:
// on a `{ heap: 'measure' }` message from the parent, collects garbage fully and answers with
// the heap in use and the rest of process.memoryUsage().
process.on('message', (message) => {
  if (message?.heap !== 'measure') return
  globalThis.gc()
  globalThis.gc()
  const memory = process.memoryUsage()
  process.send({ heapUsed: memory.heapUsed, memory })
})

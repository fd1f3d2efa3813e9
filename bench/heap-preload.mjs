// Loaded into a bench server by `node bench/heap-per-entry.mjs`: on a `{ heap: 'measure' }`
// message from the parent, collects garbage fully and answers with the heap in use.
process.on('message', (message) => {
  if (message?.heap !== 'measure') return
  globalThis.gc()
  globalThis.gc()
  process.send({ heapUsed: process.memoryUsage().heapUsed })
})

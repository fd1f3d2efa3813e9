// Loaded into a bench server by `node bench/gc.mjs <variant> --survivors` (or `--allocations`):
// samples the allocations that outlive young-generation collections (promoted, or still alive at
// the end), or with `--allocations` every allocation, between a start and a stop message from the
// parent, and writes V8's sampling heap profile to a file.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

const session = new Session()
session.connect()
/** Whether this run samples every allocation (`--allocations`), not only the survivors. */
let everything = false

process.on('message', async (message) => {
  if (message?.survivors === 'start') {
    everything = message.all === true
    await session.post('HeapProfiler.enable')
    await session.post('HeapProfiler.startSampling', {
      // Every allocation is a far larger sample than the survivors: a finer interval keeps a
      // request's few hundred bytes here and there from being missed.
      samplingInterval: everything ? 512 : 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: everything,
    })
    process.send({ survivors: 'started' })
  } else if (message?.survivors === 'stop') {
    if (!everything) {
      // What is young and dead at the end is collected first, so it is not counted as a survivor.
      globalThis.gc({ type: 'minor' })
      globalThis.gc({ type: 'minor' })
    }
    const { profile } = await session.post('HeapProfiler.stopSampling')
    writeFileSync(message.file, JSON.stringify(profile))
    process.send({ survivors: 'written' })
  }
})

// Loaded into a bench server by `node bench/gc.mjs <variant> --survivors`: samples the allocations
// that outlive young-generation collections (promoted, or still alive at the end), between a
// start and a stop message from the parent, and writes V8's sampling heap profile to a file.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

const session = new Session()
session.connect()

process.on('message', async (message) => {
  if (message?.survivors === 'start') {
    await session.post('HeapProfiler.enable')
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: false,
    })
    process.send({ survivors: 'started' })
  } else if (message?.survivors === 'stop') {
    // What is young and dead at the end is collected first, so it is not counted as a survivor.
    globalThis.gc({ type: 'minor' })
    globalThis.gc({ type: 'minor' })
    const { profile } = await session.post('HeapProfiler.stopSampling')
    writeFileSync(message.file, JSON.stringify(profile))
    process.send({ survivors: 'written' })
  }
})

import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: ['packages/*', 'test'],
    // Most test time is waiting (real servers, Redis round trips, fault timers), not CPU: on a
    // 2-core machine vitest's default of one worker left the second core idle and the suite
    // serial. Files stay apart by key prefix and private ports, so they may overlap.
    maxWorkers: Math.max(3, availableParallelism()),
  },
})

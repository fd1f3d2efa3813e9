import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Cache } from '../src/cache.js'
import { InvalidOptionError } from '../src/errors.js'
import {
  WriteBehind,
  type PendingWrite,
  type PersistContext,
  type WriteJournal,
} from '../src/patterns/write-behind.js'

const base = { flushInterval: '60s', flushOnSignals: false, spillFile: false } as const
const directories: string[] = []

async function spillPath(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'cachewire-wb-'))
  directories.push(directory)
  return join(directory, 'writes.spill')
}

afterEach(async () => {
  for (const directory of directories.splice(0))
    await rm(directory, { recursive: true, force: true })
})

/** An in-memory journal, to see what the writer records and replays. */
function memoryJournal(): WriteJournal<number> & {
  entries: Map<string, { key: string; value: number; version?: number }>
} {
  const entries = new Map<string, { key: string; value: number; version?: number }>()
  let next = 0
  return {
    entries,
    append: async (key, value, version) => {
      const id = String(next++)
      entries.set(id, { key, value, version })
      return id
    },
    acknowledge: async (ids) => {
      for (const id of ids) entries.delete(id)
    },
    replay: async () => [...entries].map(([id, entry]) => ({ id, ...entry })),
  }
}

const never = (): Promise<void> => new Promise(() => {})

describe('WriteBehind options', () => {
  const persist = async (): Promise<void> => {}

  it('reads durations by the unit rule and names the option it refuses', () => {
    const cache = new Cache()
    expect(
      () =>
        new WriteBehind(cache, {
          ...base,
          persist,
          flushInterval: '250ms',
          retry: { baseDelay: 5, maxDelay: '2s' },
        })
    ).not.toThrow()
    expect(
      () => new WriteBehind(cache, { ...base, persist, flushInterval: 'soon' as never })
    ).toThrow(/options\.flushInterval/)
    expect(() => new WriteBehind(cache, { ...base, persist, retry: { maxDelay: -1 } })).toThrow(
      /options\.retry\.maxDelay/
    )
    expect(() => new WriteBehind(cache, { ...base, persist, shutdownTimeout: 0 })).toThrow(
      /options\.shutdownTimeout/
    )
    expect(() => new WriteBehind(cache, { ...base, persist, spillFile: '' })).toThrow(
      /options\.spillFile/
    )
  })

  it('refuses unknown options, suggesting the known name', () => {
    const cache = new Cache()
    expect(
      () => new WriteBehind(cache, { ...base, persist, flushIntervall: '1s' } as never)
    ).toThrow(InvalidOptionError)
    expect(
      () => new WriteBehind(cache, { ...base, persist, flushIntervall: '1s' } as never)
    ).toThrow(/did you mean "flushInterval"/)
    expect(
      () => new WriteBehind(cache, { ...base, persist, retry: { attempt: 3 } } as never)
    ).toThrow(/options\.retry\.attempt\b.*"attempts"/)
  })

  it('refuses the pre-1.0 …Ms names, naming their successors', () => {
    const persist = async (): Promise<void> => {}
    expect(() => new WriteBehind(new Cache(), { persist, flushIntervalMs: 10 } as never)).toThrow(
      /options\.flushIntervalMs.*"flushInterval".*renamed/
    )
    expect(
      () => new WriteBehind(new Cache(), { persist, retry: { baseDelayMs: 10 } } as never)
    ).toThrow(/options\.retry\.baseDelayMs.*"baseDelay"/)
  })
})

describe('WriteBehind retries and versions', () => {
  it('retries a batch under the same batchId, with the attempt number', async () => {
    const calls: Array<{ keys: string[]; context: PersistContext }> = []
    const writer = new WriteBehind<number>(new Cache(), {
      ...base,
      retry: { attempts: 3, baseDelay: '1ms' },
      persist: async (batch, context) => {
        calls.push({ keys: batch.map((write) => write.key), context })
        // Fails mid-way the first time: as if half the batch reached the database before the error.
        if (context.attempt === 1) throw new Error('connection reset')
      },
    })
    for (let i = 0; i < 5; i++) await writer.write(`k${i}`, i)
    await writer.flush()
    await writer.write('other', 9)
    await writer.close()
    expect(calls.map((call) => call.context.attempt)).toEqual([1, 2, 1, 2])
    expect(calls[1]?.context.batchId).toBe(calls[0]?.context.batchId)
    expect(calls[1]?.keys).toEqual(calls[0]?.keys)
    expect(calls[2]?.context.batchId).not.toBe(calls[0]?.context.batchId)
  })

  it('hands out increasing versions even when the clock goes back', async () => {
    let now = 1_700_000_000_000
    const versions: number[] = []
    const writer = new WriteBehind<number>(new Cache(), {
      ...base,
      clock: () => now,
      batchSize: 1,
      persist: async (batch) => void versions.push(...batch.map((write) => write.version)),
    })
    await writer.write('a', 1)
    now -= 60_000 // NTP steps the clock back a minute
    await writer.write('b', 2)
    await writer.write('c', 3)
    await writer.close()
    expect(versions).toHaveLength(3)
    expect(versions[0]).toBe(1_700_000_000_000_000)
    expect(versions[1]).toBeGreaterThan(versions[0] as number)
    expect(versions[2]).toBeGreaterThan(versions[1] as number)
  })

  it('records versions in the journal and continues above the highest one replayed', async () => {
    const journal = memoryJournal()
    journal.entries.set('old', { key: 'k', value: 1, version: 9_000_000_000_000_000 })
    const persisted: PendingWrite<number>[] = []
    const writer = new WriteBehind<number>(new Cache(), {
      ...base,
      journal,
      persist: async (batch) => void persisted.push(...batch),
    })
    expect(await writer.ready()).toBe(1)
    await writer.flush()
    await writer.write('k', 2)
    expect([...journal.entries.values()][0]?.version).toBeGreaterThan(9_000_000_000_000_000)
    await writer.close()
    expect(persisted.map((write) => write.value)).toEqual([1, 2])
    expect((persisted[1] as PendingWrite<number>).version).toBeGreaterThan(
      (persisted[0] as PendingWrite<number>).version
    )
    expect(journal.entries.size).toBe(0)
  })
})

describe('WriteBehind shutdown', () => {
  it('runs one flush however often close() is called', async () => {
    let calls = 0
    const writer = new WriteBehind<number>(new Cache(), {
      ...base,
      persist: async () => void calls++,
    })
    await writer.write('k', 1)
    const first = writer.close()
    expect(writer.close()).toBe(first)
    expect(await first).toEqual({ clean: true, unpersisted: 0, spilled: 0, journaled: 0, lost: 0 })
    expect(calls).toBe(1)
  })

  it('spills what a hung persist left at the deadline, and the next writer replays and removes it', async () => {
    const spillFile = await spillPath()
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const hung = new WriteBehind<number>(new Cache(), {
      ...base,
      spillFile,
      shutdownTimeout: '50ms',
      batchSize: 10,
      persist: never,
    })
    for (let i = 0; i < 25; i++) await hung.write(`k${i}`, i)
    const result = await hung.close()
    const printed = stderr.mock.calls.map(([line]) => String(line)).join('')
    stderr.mockRestore()
    expect(result).toMatchObject({ clean: false, unpersisted: 25, spilled: 25, lost: 0 })
    expect(printed).toMatch(
      /deadline \(50 ms\) passed with 25 write\(s\) unpersisted: 25 spilled to /
    )
    expect(await readdir(join(spillFile, '..'))).toHaveLength(1)

    const persisted = new Map<string, number>()
    const next = new WriteBehind<number>(new Cache(), {
      ...base,
      spillFile,
      persist: async (batch) => batch.forEach((write) => persisted.set(write.key, write.value)),
    })
    expect(await next.ready()).toBe(25)
    expect(await next.close()).toMatchObject({ clean: true })
    expect(persisted.size).toBe(25)
    expect(persisted.get('k24')).toBe(24)
    expect(await readdir(join(spillFile, '..'))).toEqual([])
  })

  it('spills writes that failed every retry, so closing never drops them', async () => {
    const spillFile = await spillPath()
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const writer = new WriteBehind<number>(new Cache(), {
      ...base,
      spillFile,
      retry: { attempts: 2, baseDelay: '1ms' },
      persist: async () => Promise.reject(new Error('db gone')),
    })
    writer.on('failed', () => {})
    await writer.write('a', 1)
    const result = await writer.close()
    stderr.mockRestore()
    expect(result).toMatchObject({ clean: false, unpersisted: 1, spilled: 1 })
  })

  it('counts leftovers as lost, on stderr, when spilling is off', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const writer = new WriteBehind<number>(new Cache(), {
      ...base,
      shutdownTimeout: '20ms',
      persist: never,
    })
    await writer.write('a', 1)
    await writer.write('b', 2)
    const result = await writer.close()
    const printed = stderr.mock.calls.map(([line]) => String(line)).join('')
    stderr.mockRestore()
    expect(result).toMatchObject({ clean: false, unpersisted: 2, spilled: 0, lost: 2 })
    expect(printed).toMatch(/2 LOST \(spillFile is off\)/)
  })

  it('leaves journaled writes in the journal at the deadline instead of spilling them twice', async () => {
    const spillFile = await spillPath()
    const journal = memoryJournal()
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const writer = new WriteBehind<number>(new Cache(), {
      ...base,
      journal,
      spillFile,
      shutdownTimeout: '20ms',
      persist: never,
    })
    await writer.write('a', 1)
    const result = await writer.close()
    stderr.mockRestore()
    expect(result).toMatchObject({ clean: false, unpersisted: 1, journaled: 1, spilled: 0 })
    expect(journal.entries.size).toBe(1)
    await expect(readdir(join(spillFile, '..'))).resolves.toEqual([])
  })

  it('leaves alone a spill file another live process is replaying', async () => {
    const spillFile = await spillPath()
    // PID 1 is always alive: its claim stands.
    await writeFile(
      `${spillFile}.claimed-1-0123abcd`,
      `{"format":"cachewire-write-behind-spill"}\n{"k":"x","v":1,"n":5}\n`
    )
    await writeFile(
      `${spillFile}.4242-89abcdef`,
      `{"format":"cachewire-write-behind-spill"}\n{"k":"y","v":2,"n":6}\n`
    )
    const persisted: string[] = []
    const writer = new WriteBehind<number>(new Cache(), {
      ...base,
      spillFile,
      persist: async (batch) => void persisted.push(...batch.map((write) => write.key)),
    })
    expect(await writer.ready()).toBe(1)
    await writer.close()
    expect(persisted).toEqual(['y'])
    expect(await readdir(join(spillFile, '..'))).toEqual(['writes.spill.claimed-1-0123abcd'])
  })
})

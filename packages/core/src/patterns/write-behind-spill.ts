import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** One acknowledged write that was not persisted when a writer shut down. */
export interface SpilledWrite<T> {
  key: string
  value: T
  version: number
}

/** A spill file taken over by this process for replay; removed once every write in it is persisted. */
export interface ClaimedSpill<T> {
  path: string
  writes: Array<SpilledWrite<T>>
}

const HEADER = 'cachewire-write-behind-spill'
const CLAIMED = '.claimed-'
/** `<pid>-<random>` as written, `claimed-<pid>-<random>` once a process replays it (never `.tmp`). */
const SPILL_SUFFIX = /^(?:claimed-)?\d+-[0-9a-f]{8}$/

/**
 * Writes `writes` to a new file next to `base` (`<base>.<pid>-<random>`), as one JSON line each,
 * through a temporary name: written, fsync'd, renamed, and the directory fsync'd, so after a crash
 * the file is either whole or absent. Several processes may spill beside one `base` at once; each
 * gets its own file. Resolves the file's path and how many writes it holds: a value that cannot be
 * written as JSON is left out, and `unwritable` counts it.
 */
export async function writeSpill<T>(
  base: string,
  writes: ReadonlyArray<SpilledWrite<T>>
): Promise<{ path: string; written: number; unwritable: number }> {
  const directory = dirname(base)
  await mkdir(directory, { recursive: true })
  const lines: string[] = []
  let unwritable = 0
  for (const write of writes) {
    try {
      lines.push(JSON.stringify({ k: write.key, v: write.value, n: write.version }))
    } catch {
      unwritable++
    }
  }
  const path = `${base}.${process.pid}-${randomBytes(4).toString('hex')}`
  const temporary = `${path}.tmp`
  const file = await open(temporary, 'wx', 0o600)
  try {
    await file.writeFile(
      `${JSON.stringify({ format: HEADER, version: 1, count: lines.length })}\n${lines.join('\n')}\n`
    )
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(temporary, path)
  await syncDirectory(directory)
  return { path, written: lines.length, unwritable }
}

/**
 * Takes over every spill file beside `base` that no live process is replaying: renames it to a
 * name that says this process holds it (a rename is atomic, so of two processes starting at once
 * exactly one gets each file) and reads it. Files whose writes are all persisted are removed with
 * `removeSpill`; a file a crashed replayer held is taken over again at the next start.
 */
export async function claimSpills<T>(base: string): Promise<Array<ClaimedSpill<T>>> {
  const directory = dirname(base)
  const prefix = `${basename(base)}.`
  let names: string[]
  try {
    names = await readdir(directory)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const claimed: Array<ClaimedSpill<T>> = []
  for (const name of names.sort()) {
    if (!name.startsWith(prefix) || !SPILL_SUFFIX.test(name.slice(prefix.length))) continue
    const owner = claimOwner(name)
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) continue
    const from = join(directory, name)
    const to = `${base}${CLAIMED}${process.pid}-${randomBytes(4).toString('hex')}`
    try {
      await rename(from, to)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue // another process took it
      throw error
    }
    claimed.push({ path: to, writes: parseSpill<T>(await readFile(to, 'utf8')) })
  }
  return claimed
}

/** Removes a replayed spill file once everything in it is persisted. */
export async function removeSpill(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await syncDirectory(dirname(path))
}

function parseSpill<T>(text: string): Array<SpilledWrite<T>> {
  const writes: Array<SpilledWrite<T>> = []
  for (const line of text.split('\n')) {
    if (line.length === 0) continue
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch {
      continue // a torn line cannot happen (rename after fsync), but never let one stop a replay
    }
    const { k, v, n } = record as { k?: unknown; v?: unknown; n?: unknown }
    if (typeof k === 'string' && typeof n === 'number')
      writes.push({ key: k, value: v as T, version: n })
  }
  return writes
}

function claimOwner(name: string): number | undefined {
  const at = name.lastIndexOf(CLAIMED)
  if (at === -1) return undefined
  const pid = Number.parseInt(name.slice(at + CLAIMED.length), 10)
  return Number.isSafeInteger(pid) ? pid : undefined
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A rename or unlink is durable only once the directory holding it is fsync'd. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import {
  accessSync,
  chownSync,
  constants,
  mkdtempSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

export interface TemporaryPostgresOptions {
  /** Directory holding `initdb` and `postgres`. @default $PG_BIN, else the newest /usr/lib/postgresql/<version>/bin, else `pg_config --bindir` */
  binDir?: string
  /** Extra server settings (`-c name=value`). Durability settings are relaxed by default: this is a throwaway server. */
  settings?: Record<string, string>
}

/** A PostgreSQL server of its own, on a loopback port, in a temporary directory. */
export interface TemporaryPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  url: string
  port: number
  /** The server's data directory (removed by `stop()`). */
  dataDir: string
  /** The postmaster's PID while it runs. */
  pid(): number | undefined
  /** Stops the server (fast shutdown, by PID) and keeps the data: `start()` brings it back on the same port. */
  stopServer(): Promise<void>
  /** Starts the server again after `stopServer()`. */
  startServer(): Promise<void>
  /** Stops the server and removes everything it wrote. Idempotent. */
  stop(): Promise<void>
}

const CANDIDATE_ROOT = '/usr/lib/postgresql'

/**
 * Where the PostgreSQL server binaries are, or `undefined` (with the reason) when they are not
 * installed. On Debian and Ubuntu: `apt-get install postgresql`.
 *
 * @example
 * ```ts
 * import { findPostgresBinaries } from '@cachewire/postgres/testing'
 * const found = findPostgresBinaries()
 * if (found.binDir === undefined) console.error(found.reason)
 * ```
 */
export function findPostgresBinaries(binDir?: string): { binDir?: string; reason?: string } {
  const candidates: string[] = []
  if (binDir !== undefined) candidates.push(binDir)
  else {
    if (process.env.PG_BIN) candidates.push(process.env.PG_BIN)
    try {
      const versions = readdirSync(CANDIDATE_ROOT)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
      candidates.push(...versions.map((version) => join(CANDIDATE_ROOT, version, 'bin')))
    } catch {
      // not Debian's layout
    }
    try {
      candidates.push(
        execFileSync('pg_config', ['--bindir'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim()
      )
    } catch {
      // no pg_config on PATH
    }
  }
  for (const candidate of candidates) {
    try {
      accessSync(join(candidate, 'initdb'), constants.X_OK)
      accessSync(join(candidate, 'postgres'), constants.X_OK)
      return { binDir: candidate }
    } catch {
      // try the next
    }
  }
  return {
    reason: `no initdb and postgres found (looked in ${candidates.join(', ') || `${CANDIDATE_ROOT}/*/bin`}; set PG_BIN, or: apt-get install postgresql)`,
  }
}

/**
 * Starts a throwaway PostgreSQL server from the installed binaries: `initdb` into a new temporary
 * directory, the server on a free loopback port (no Unix socket), trust authentication. Running as
 * root, where `initdb` and `postgres` refuse to run, both run as the `postgres` OS user (Debian's
 * package creates it; else `nobody`), through Node's `spawn` `uid`/`gid` options.
 *
 * A watchdog (`sh`, reading a pipe from this process) stops the server by PID and removes the
 * directory when `stop()` is called — or when this process dies without calling it, since the pipe
 * then closes: nothing is left behind either way.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { startTemporaryPostgres } from '@cachewire/postgres/testing'
 *
 * const server = await startTemporaryPostgres()
 * const pool = new pg.Pool({ connectionString: server.url })
 * console.log((await pool.query('SELECT version()')).rows[0])
 * await pool.end()
 * await server.stop()
 * ```
 */
export async function startTemporaryPostgres(
  options: TemporaryPostgresOptions = {}
): Promise<TemporaryPostgres> {
  const found = findPostgresBinaries(options.binDir)
  if (found.binDir === undefined) throw new Error(`cannot start PostgreSQL: ${found.reason}`)
  const binDir = found.binDir
  const base = mkdtempSync(join(tmpdir(), 'cachewire-pg-'))
  const dataDir = join(base, 'data')
  const owner = serverUser()
  if (owner !== undefined) chownSync(base, owner.uid, owner.gid)
  // The watchdog first: from here on, whatever happens to this process, the directory goes.
  const watchdog = startWatchdog(base)
  const env = {
    ...process.env,
    LC_ALL: 'C',
    LANG: 'C',
    ...(owner !== undefined ? { HOME: base } : {}),
  }
  let server: ChildProcess | undefined
  try {
    execFileSync(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      {
        env,
        cwd: base, // the server user may not be allowed into ours
        stdio: ['ignore', 'ignore', 'pipe'],
        ...(owner !== undefined ? { uid: owner.uid, gid: owner.gid } : {}),
      }
    )
  } catch (error) {
    await watchdog.stop()
    throw new Error(`initdb failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`, {
      cause: error,
    })
  }
  const port = await freePort()
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: '',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '100',
    shared_buffers: '32MB',
    ...options.settings,
  }
  const log = join(base, 'postgres.log')

  const startServer = async (): Promise<void> => {
    if (server !== undefined && server.exitCode === null && server.signalCode === null) return
    const logFd = openSync(log, 'a')
    const args = [
      '-D',
      dataDir,
      ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ]
    const child = spawn(join(binDir, 'postgres'), args, {
      env,
      cwd: base,
      // Its own process group: a Ctrl-C meant for the test runner is handled by the watchdog's stop, not raced.
      detached: true,
      stdio: ['ignore', logFd, logFd],
      ...(owner !== undefined ? { uid: owner.uid, gid: owner.gid } : {}),
    })
    closeSync(logFd)
    child.unref()
    server = child
    watchdog.watch(child.pid as number)
    await waitUntilReady(port, child, log)
  }
  const stopServer = async (): Promise<void> => {
    const child = server
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    child.ref() // an unref'd child would let this process end while it waits
    const exited = once(child, 'exit')
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, the server exits cleanly.
    child.kill('SIGINT')
    await exited
  }
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await stopServer().catch(() => {})
      await watchdog.stop()
    })())

  try {
    await startServer()
  } catch (error) {
    await stop()
    throw error
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    pid: () =>
      server !== undefined && server.exitCode === null && server.signalCode === null
        ? server.pid
        : undefined,
    stopServer,
    startServer,
    stop,
  }
}

/** The user the server runs as when we are root (initdb and postgres refuse root). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined
  const passwd = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
  for (const name of ['postgres', 'nobody']) {
    const entry = passwd.find((fields) => fields[0] === name)
    if (entry !== undefined) return { uid: Number(entry[2]), gid: Number(entry[3]) }
  }
  throw new Error(
    "running as root, PostgreSQL needs another user to run as: create a `postgres` user (Debian's postgresql package does)"
  )
}

/**
 * `sh` that waits on a pipe from this process. "pid N" tells it the server's PID; "stop", or the pipe
 * closing because this process died, makes it stop that PID (fast shutdown, then SIGKILL after 10 s)
 * and remove the directory. It ignores SIGINT/SIGTERM/SIGHUP so a signal to the whole group cannot
 * kill it before it has cleaned up.
 */
function startWatchdog(base: string): { watch(pid: number): void; stop(): Promise<void> } {
  const script = `
trap '' INT TERM HUP
pid=''
while read -r command argument; do
  case "$command" in
    pid) pid="$argument" ;;
    stop) break ;;
  esac
done
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  kill -INT "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf -- "$1"
`
  const child = spawn('sh', ['-c', script, 'cachewire-pg-watchdog', base], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  })
  child.unref()
  // The pipe must not keep this process alive either.
  ;(child.stdin as unknown as { unref?: () => void }).unref?.()
  child.stdin?.on('error', () => {})
  const exited = once(child, 'exit')
  let stopped: Promise<void> | undefined
  return {
    watch: (pid) => void child.stdin?.write(`pid ${pid}\n`),
    stop: () =>
      (stopped ??= (async () => {
        child.ref()
        child.stdin?.end('stop\n')
        await exited
        rmSync(base, { recursive: true, force: true })
      })()),
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitUntilReady(port: number, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
      connectionTimeoutMillis: 1000,
    })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      await client.end()
      return
    } catch {
      await client.end().catch(() => {})
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  let tail = ''
  try {
    tail = readFileSync(log, 'utf8').split('\n').slice(-10).join('\n')
  } catch {
    // no log yet
  }
  throw new Error(`PostgreSQL did not accept connections on 127.0.0.1:${port}:\n${tail}`)
}

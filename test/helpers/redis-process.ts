import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { registerCleanup } from '../setup/cleanup.js'

export interface RedisProcess {
  port: number
  url: string
  /** PID of the running server (undefined while stopped). */
  pid(): number | undefined
  /** kill -STOP: the socket stays open and nothing answers (a hung Redis). */
  freeze(): void
  /** kill -CONT. */
  thaw(): void
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts it again on the same port (after stop). */
  start(): Promise<void>
}

/**
 * A free loopback port below the kernel's range of ephemeral ports. A stopped server is started
 * again on its port while its clients keep reconnecting to it, and a port inside that range can be
 * taken meanwhile by one of their own connections: the kernel may pick it as a connection's source
 * port, even for a connection to that very port, which then connects to itself (seen under load:
 * "redis-server did not start: port 46625: exited (1) before answering"). Below the range only a
 * listener can hold it.
 */
async function freePort(): Promise<number> {
  const ceiling = ephemeralPortsStart()
  if (ceiling !== undefined && ceiling - PORT_FLOOR >= 1024) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = PORT_FLOOR + Math.floor(Math.random() * (ceiling - PORT_FLOOR))
      if ((await listenOn(port)) !== undefined) return port
    }
  }
  const port = await listenOn(0)
  if (port === undefined) throw new Error('no free loopback port')
  return port
}

/** Lowest port this helper picks: above the local Redis Cluster's ports and their bus ports. */
const PORT_FLOOR = 20_000

/** The first ephemeral port (Linux's ip_local_port_range), or undefined where it cannot be read. */
function ephemeralPortsStart(): number | undefined {
  try {
    const start = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]
    )
    return Number.isInteger(start) && start > 0 ? start : undefined
  } catch {
    return undefined
  }
}

/** Binds `port` on loopback and lets it go: the port bound, or undefined when it is taken. */
async function listenOn(port: number): Promise<number | undefined> {
  const server = createServer()
  try {
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    return (server.address() as { port: number }).port
  } catch {
    return undefined
  } finally {
    server.close()
  }
}

/** Tries at a free port before `startRedisProcess` gives up: another socket may take it first. */
const PORT_ATTEMPTS = 5
/** How long one redis-server has to answer PING after it is spawned (a busy machine is slow). */
const READY_WITHIN_MS = 20_000

/**
 * A private redis-server for fault tests, on a free loopback port, stopped by PID when the test
 * file ends. Freezing or stopping it never disturbs the shared Redis other files use.
 * `password` starts it with `--requirepass` (clients must AUTH); `args` go on its command line
 * (`['--maxmemory', '4mb']`, `['--replicaof', '127.0.0.1', String(port)]`).
 *
 * The port is free when chosen, but between then and redis-server's bind another socket may take
 * it (any client's ephemeral port, under a parallel test run): redis-server then exits, or a
 * server that is not this one answers there. Either way the server is started again on another
 * port; it is ready once it answers PING and says it is the process spawned. A server that never
 * gets there fails the test at once rather than leaving clients retrying until the test's timeout.
 */
export async function startRedisProcess(
  options: { password?: string; args?: readonly string[] } = {}
): Promise<RedisProcess> {
  // A directory of its own: a replica saves the RDB of its full sync there, and a server loads
  // whatever dump.rdb it finds in its directory at start (the repo's, if it ran in the cwd).
  const dir = mkdtempSync(join(tmpdir(), 'cachewire-redis-'))
  let child: ChildProcess | undefined
  let port = 0
  const spawnOn = async (at: number): Promise<string | undefined> => {
    const auth = options.password === undefined ? [] : ['--requirepass', options.password]
    const spawned = spawn(
      'redis-server',
      [
        '--port',
        String(at),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        ...auth,
        ...(options.args ?? []),
      ],
      { stdio: 'ignore' }
    )
    child = spawned
    const probe = new Redis({
      port: at,
      host: '127.0.0.1',
      password: options.password,
      lazyConnect: true,
      retryStrategy: () => 50,
      maxRetriesPerRequest: 0,
    })
    probe.on('error', () => {})
    const deadline = Date.now() + READY_WITHIN_MS
    let failure = 'did not answer PING'
    try {
      while (Date.now() < deadline) {
        if (spawned.exitCode !== null || spawned.signalCode !== null)
          return `exited (${spawned.exitCode ?? spawned.signalCode}) before answering`
        try {
          if (probe.status !== 'ready') await probe.connect()
          const info = await probe.info('server')
          if (/^process_id:(\d+)/m.exec(info)?.[1] === String(spawned.pid)) return undefined
          failure = 'another server answers on its port'
          break
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    } finally {
      probe.disconnect()
    }
    if (spawned.exitCode === null && spawned.signalCode === null) {
      const exited = once(spawned, 'exit')
      spawned.kill('SIGKILL')
      await exited
    }
    child = undefined
    return failure
  }
  const launch = async (): Promise<void> => {
    // A restart keeps its port: the clients under test reconnect to it.
    const fixed = port !== 0
    const failures: string[] = []
    for (let attempt = 0; attempt < (fixed ? 1 : PORT_ATTEMPTS); attempt++) {
      const at = fixed ? port : await freePort()
      const failure = await spawnOn(at)
      if (failure === undefined) {
        port = at
        return
      }
      failures.push(`port ${at}: ${failure}`)
    }
    throw new Error(`redis-server did not start: ${failures.join('; ')}`)
  }
  const stop = async (): Promise<void> => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
    running.kill('SIGCONT')
    const exited = once(running, 'exit')
    running.kill('SIGTERM')
    await exited
  }
  registerCleanup(async () => {
    await stop()
    rmSync(dir, { recursive: true, force: true })
  })
  await launch()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => child?.pid,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    stop,
    start: launch,
  }
}

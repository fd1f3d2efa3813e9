import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
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

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

/**
 * A private redis-server for fault tests, on a free loopback port, stopped by PID when the test
 * file ends. Freezing or stopping it never disturbs the shared Redis other files use.
 * `password` starts it with `--requirepass` (clients must AUTH); `args` go on its command line
 * (`['--maxmemory', '4mb']`, `['--replicaof', '127.0.0.1', String(port)]`).
 */
export async function startRedisProcess(
  options: { password?: string; args?: readonly string[] } = {}
): Promise<RedisProcess> {
  const port = await freePort()
  // A directory of its own: a replica saves the RDB of its full sync there, and a server loads
  // whatever dump.rdb it finds in its directory at start (the repo's, if it ran in the cwd).
  const dir = mkdtempSync(join(tmpdir(), 'cachewire-redis-'))
  let child: ChildProcess | undefined
  const launch = async (): Promise<void> => {
    const auth = options.password === undefined ? [] : ['--requirepass', options.password]
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
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
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      password: options.password,
      lazyConnect: true,
      retryStrategy: () => 50,
      maxRetriesPerRequest: 0,
    })
    probe.on('error', () => {})
    for (let i = 0; i < 100; i++) {
      try {
        if (probe.status !== 'ready') await probe.connect()
        if ((await probe.ping()) === 'PONG') break
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    probe.disconnect()
  }
  const stop = async (): Promise<void> => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    running.kill('SIGCONT')
    const exited = once(running, 'exit')
    running.kill('SIGTERM')
    await exited
  }
  await launch()
  registerCleanup(async () => {
    await stop()
    rmSync(dir, { recursive: true, force: true })
  })
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

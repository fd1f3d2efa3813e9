/**
 * A real varnishd on loopback, in front of a test's app: started with the VCL in
 * test/observability/varnish/cachewire.vcl (backend port filled in), stopped by its PID when the
 * test (or file) ends. `-j none`: no privilege separation, so it runs the same as root or not.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { registerCleanup } from '../setup/cleanup.js'

const VCL_TEMPLATE = fileURLToPath(
  new URL('../observability/varnish/cachewire.vcl', import.meta.url)
)

export interface RunningVarnish {
  /** `http://127.0.0.1:<port>` */
  url: string
  port: number
  pid: number
  stop(): Promise<void>
}

/** A free loopback port (asked of the kernel, then released for varnishd to take). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * Starts varnishd (the binary at `varnishd`) in front of 127.0.0.1:`backendPort`.
 *
 * @example
 * ```ts
 * const varnish = await startVarnish(varnishdPath, app.port)
 * const res = await request(`${varnish.url}/products`)
 * ```
 */
export async function startVarnish(varnishd: string, backendPort: number): Promise<RunningVarnish> {
  const dir = await mkdtemp(join(tmpdir(), 'cachewire-varnish-'))
  const vcl = join(dir, 'cachewire.vcl')
  await writeFile(
    vcl,
    (await readFile(VCL_TEMPLATE, 'utf8')).replaceAll('__BACKEND_PORT__', String(backendPort))
  )
  const port = await freePort()
  const child = spawn(
    varnishd,
    [
      '-F',
      '-j',
      'none',
      '-a',
      `127.0.0.1:${port}`,
      '-T',
      '127.0.0.1:0',
      '-f',
      vcl,
      '-n',
      join(dir, 'work'),
      '-s',
      'malloc,32m',
      '-p',
      'ban_lurker_sleep=0.05',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  let exited = false
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => ((exited = true), resolve()))
  )
  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exit
    clearTimeout(timer)
    await rm(dir, { recursive: true, force: true })
  }
  registerCleanup(stop)
  for (let attempt = 0; attempt < 100; attempt++) {
    if (exited) break
    if (await accepts(port))
      return { url: `http://127.0.0.1:${port}`, port, pid: child.pid as number, stop }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop()
  throw new Error(`varnishd did not start on 127.0.0.1:${port}:\n${output}`)
}

/**
 * A loopback TCP proxy that sits between a client and Redis and misbehaves on request, so fault
 * tests use the real client and the real server with a bad network in between (no mocks).
 *
 * Modes (apply at once to open connections and to new ones):
 * - `pass`: bytes flow both ways.
 * - `delay`: every chunk, both ways, is held `delayMs` before it is forwarded (order kept).
 * - `blackhole`: nothing is forwarded; connections stay open, so clients hang until their own
 *   deadline. Held bytes are delivered if the mode goes back to pass/delay, as TCP would after a
 *   partition heals — dropping them would desynchronise the Redis protocol, which no real
 *   network does.
 * - `reset`: every connection is closed with a TCP RST now, and new ones are reset on accept.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { registerCleanup } from '../setup/cleanup.js'

export type ProxyMode = 'pass' | 'delay' | 'blackhole' | 'reset'

export interface TcpProxy {
  /** Point the client here: 127.0.0.1:`port`. */
  port: number
  setMode(mode: ProxyMode, delayMs?: number): void
  /** Connections open right now. */
  connectionCount(): number
  /** Closes the listener and every connection. Idempotent. */
  close(): Promise<void>
}

interface Pending {
  chunk: Buffer
  due: number
}

/** One direction of one connection: a queue that the current mode drains. */
class Lane {
  #queue: Pending[] = []
  #timer: NodeJS.Timeout | undefined
  readonly #to: net.Socket
  readonly #state: { mode: ProxyMode; delayMs: number }

  constructor(to: net.Socket, state: { mode: ProxyMode; delayMs: number }) {
    this.#to = to
    this.#state = state
  }

  push(chunk: Buffer): void {
    const delay = this.#state.mode === 'delay' ? this.#state.delayMs : 0
    this.#queue.push({ chunk, due: Date.now() + delay })
    this.pump()
  }

  pump(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#state.mode === 'blackhole' || this.#to.destroyed) return
    const now = Date.now()
    while (this.#queue.length > 0 && this.#queue[0]!.due <= now) {
      this.#to.write(this.#queue.shift()!.chunk)
    }
    const next = this.#queue[0]
    if (next) this.#timer = setTimeout(() => this.pump(), next.due - now)
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.#queue = []
  }
}

/**
 * @example
 * ```ts
 * const proxy = await createTcpProxy({ targetPort: 6379 })
 * const client = createClient({ port: proxy.port, commandTimeout: 200 })
 * proxy.setMode('blackhole')   // the next command times out
 * ```
 */
export async function createTcpProxy(options: {
  targetPort: number
  targetHost?: string
  /**
   * Sees every chunk of one connection before it is forwarded (`up`: client to server); returning
   * 'reset' resets that connection instead of forwarding the chunk. For faults at a protocol step:
   * "drop the server's answer to COMMIT" is an `up` chunk holding COMMIT, then 'reset' on the next
   * `down` chunk — the server has committed, the client never hears it.
   */
  inspect?: (chunk: Buffer, direction: 'up' | 'down') => 'reset' | undefined
}): Promise<TcpProxy> {
  const state: { mode: ProxyMode; delayMs: number } = { mode: 'pass', delayMs: 0 }
  const connections = new Set<{ client: net.Socket; upstream: net.Socket; lanes: Lane[] }>()

  const server = net.createServer((client) => {
    if (state.mode === 'reset') {
      client.resetAndDestroy()
      return
    }
    // Writes to a still-connecting socket are buffered by node, so no handshake wait is needed.
    const upstream = net.connect(options.targetPort, options.targetHost ?? '127.0.0.1')
    const lanes = [new Lane(upstream, state), new Lane(client, state)]
    const connection = { client, upstream, lanes }
    connections.add(connection)
    const forward = (lane: Lane, chunk: Buffer, direction: 'up' | 'down'): void => {
      if (options.inspect?.(chunk, direction) === 'reset') {
        client.resetAndDestroy()
        upstream.destroy()
        return
      }
      lane.push(chunk)
    }
    client.on('data', (chunk: Buffer) => forward(lanes[0]!, chunk, 'up'))
    upstream.on('data', (chunk: Buffer) => forward(lanes[1]!, chunk, 'down'))
    const teardown = (): void => {
      connections.delete(connection)
      for (const lane of lanes) lane.stop()
      client.destroy()
      upstream.destroy()
    }
    // Either side closing or failing closes both, as a real connection would end.
    for (const socket of [client, upstream]) {
      socket.on('error', teardown)
      socket.on('close', teardown)
    }
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })

  let closing: Promise<void> | undefined
  const proxy: TcpProxy = {
    port: (server.address() as AddressInfo).port,
    setMode(mode, delayMs = 0) {
      state.mode = mode
      state.delayMs = delayMs
      for (const { client, upstream, lanes } of [...connections]) {
        if (mode === 'reset') {
          client.resetAndDestroy()
          upstream.destroy()
        } else {
          for (const lane of lanes) lane.pump()
        }
      }
    },
    connectionCount: () => connections.size,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const { client, upstream } of connections) {
          client.destroy()
          upstream.destroy()
        }
      })),
  }
  registerCleanup(proxy.close)
  return proxy
}

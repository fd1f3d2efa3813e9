import type { Writable } from 'node:stream'

export interface SocketWrites {
  /** How many times the socket handed data to the kernel (one `write` or one `writev` each). */
  readonly calls: number
  /** How many chunks those calls carried. */
  readonly chunks: number
  /** Puts the socket's own methods back. */
  restore(): void
}

type WriteInternals = Writable & {
  _write: (...args: unknown[]) => void
  _writev?: (chunks: unknown[], callback: unknown) => void
}

/**
 * Counts what a real socket sends, by wrapping its `_write` and `_writev` (the calls a Writable
 * makes once it is uncorked), so a test can see how many writes a set of commands cost.
 */
export function countSocketWrites(stream: Writable): SocketWrites {
  const socket = stream as WriteInternals
  const ownWrite = Object.getOwnPropertyDescriptor(socket, '_write')
  const ownWritev = Object.getOwnPropertyDescriptor(socket, '_writev')
  const write = socket._write
  const writev = socket._writev
  const counts = { calls: 0, chunks: 0 }
  socket._write = function (...args: unknown[]) {
    counts.calls += 1
    counts.chunks += 1
    write.apply(this, args)
  }
  if (writev !== undefined)
    socket._writev = function (chunks: unknown[], callback: unknown) {
      counts.calls += 1
      counts.chunks += chunks.length
      writev.call(this, chunks, callback)
    }
  return {
    get calls() {
      return counts.calls
    },
    get chunks() {
      return counts.chunks
    },
    restore() {
      if (ownWrite === undefined) delete (socket as Partial<WriteInternals>)._write
      else Object.defineProperty(socket, '_write', ownWrite)
      if (ownWritev === undefined) delete (socket as Partial<WriteInternals>)._writev
      else Object.defineProperty(socket, '_writev', ownWritev)
    },
  }
}

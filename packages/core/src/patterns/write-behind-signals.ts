/** Marks the signal listeners cachewire writers install, so each can tell them from the app's. */
const kWriterListener = Symbol.for('cachewire.write-behind.signal-listener')

/** Set on a writer's listener once its flush is over: it no longer holds the exit back. */
const kFlushed = Symbol.for('cachewire.write-behind.flushed')

const SIGNALS = ['SIGTERM', 'SIGINT'] as const

type Listener = ((signal: NodeJS.Signals) => void) & { [kWriterListener]?: true; [kFlushed]?: true }

const isWriterListener = (listener: unknown): boolean =>
  typeof listener === 'function' && kWriterListener in listener
const isFlushing = (listener: unknown): boolean =>
  isWriterListener(listener) && !(kFlushed in (listener as Listener))

/**
 * Runs `shutdown` once on the first SIGTERM or SIGINT; later signals while it runs are noted on
 * stderr and otherwise ignored, so a second signal never ends the process mid-flush (the writer's
 * own deadline bounds the wait).
 *
 * Who exits: Node ends a process on SIGTERM/SIGINT only when nothing listens to that signal. If,
 * when the signal arrives, every listener is a cachewire writer's, cachewire stands in for Node's
 * default: once the last writer has finished, it calls `process.exit()` — code 0 after a clean
 * flush, 1 if any writer had to spill (or `process.exitCode` if the app set one). If the app listens
 * to the signal too, the app owns the shutdown: the writers flush (and spill at their deadline) but
 * never exit; the app should `await writer.close()` (the same flush, not a second one) and exit.
 *
 * Returns a function that removes the listeners.
 */
export function installShutdownSignals(
  shutdown: () => Promise<{ clean: boolean }>,
  describe: () => string
): () => void {
  let running = false
  const onSignal: Listener = (signal) => {
    if (onSignal[kFlushed] === true) return
    if (running) {
      process.stderr.write(
        `cachewire write-behind: ${signal} received again while flushing; the flush goes on (${describe()})\n`
      )
      return
    }
    running = true
    const appOwnsExit = process.listeners(signal).some((listener) => !isWriterListener(listener))
    const finish = (clean: boolean): void => {
      if (appOwnsExit) {
        remove()
        return
      }
      // The listener stays on until the process is gone: a signal arriving while it exits must
      // not get Node's default action (death by SIGTERM instead of the clean exit code).
      onSignal[kFlushed] = true
      if (!clean && (process.exitCode === undefined || process.exitCode === 0)) process.exitCode = 1
      // The last writer to finish its flush ends the process.
      if (SIGNALS.some((name) => process.listeners(name).some(isFlushing))) return
      process.exit()
    }
    shutdown().then(
      ({ clean }) => finish(clean),
      (error: unknown) => {
        process.stderr.write(`cachewire write-behind: shutdown failed: ${String(error)}\n`)
        finish(false)
      }
    )
  }
  onSignal[kWriterListener] = true
  for (const signal of SIGNALS) process.on(signal, onSignal)
  const remove = (): void => {
    for (const signal of SIGNALS) process.off(signal, onSignal)
  }
  return remove
}

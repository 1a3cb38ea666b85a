// Where the gateway's log lines go: stdout, in batches. The gateway logs one
// JSON line per probe; written one by one, each is a write(2) of its own,
// which costs more than the line itself (figures: README "Metrics", logs).
// sonic-boom's asynchronous mode is no cure on 2 cores: its writes go through
// the thread pool. So info lines are written synchronously once 4 KiB has
// gathered, and at least every 250 ms; a warning or an error goes out at
// once, with what came before it; whatever is left goes at close or exit.
import pino from 'pino'

const BATCH_BYTES = 4096
const FLUSH_MS = 250
/** pino's level number for warn: from here on, a line is written at once. */
const URGENT_LEVEL = 40

/** pino sets `lastLevel` on a destination that asks for it (pino.metadata) before each write. */
interface Destination {
  readonly [key: symbol]: boolean
  lastLevel: number
  write (line: string): void
}

export interface LogDestination {
  readonly stream: Destination
  /** Writes what is buffered and stops the timer (the app's close). */
  close (): void
}

export function logDestination (fd = 1): LogDestination {
  const boom = pino.destination({ dest: fd, sync: true, minLength: BATCH_BYTES })
  const flush = (): void => {
    try {
      boom.flushSync()
    } catch {
      // Not ready yet, or stdout is gone: nothing to do about it here.
    }
  }
  const stream: Destination = {
    [Symbol.for('pino.metadata')]: true,
    lastLevel: 0,
    write (line: string): void {
      boom.write(line)
      if (this.lastLevel >= URGENT_LEVEL) flush()
    },
  }
  const timer = setInterval(flush, FLUSH_MS)
  timer.unref()
  process.on('exit', flush)
  return {
    stream,
    close () {
      clearInterval(timer)
      process.removeListener('exit', flush)
      flush()
    },
  }
}

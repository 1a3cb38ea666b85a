// A local file's current content, for files read on every probe (credentials,
// TLS material): Prometheus reads them on every request, so a rotated file
// works without a reload. Here a stat decides whether to read: the file is
// read again when its stat (inode, device, size, mtime, ctime) changed, or
// while its ctime is so recent that a same-size rewrite within the
// filesystem's timestamp granularity could hide behind an unchanged stat
// (git's "racily clean" entries). ctime, not mtime: every change sets it to
// now (a write, and also utimes, which can put an old mtime back), and
// nothing sets it back. Every read therefore sees what a fresh read
// would, at the cost of one stat instead of open, fstat, read and close.
//
// A file is checked at most once per event-loop turn: the probes a busy
// gateway starts in one turn (tens at a time) share the check, as if they
// had all started at the first of them; a change is seen by every probe
// started in a later turn.
//
// Synchronous on purpose: a stat of a local or tmpfs file (a Kubernetes
// secret) costs microseconds, an async one a thread-pool round trip per probe
// (figures in README "scrape_configs[]").
// On a filesystem whose stat lags its content (an NFS attribute cache), a
// rotation is seen once the attributes are refreshed.
//
// The read itself is bounded and never blocks on what the file is
// (src/config/bounded-file.ts): a file swapped for a named pipe, a device or
// something huge changes the stat, and the read refuses it. The stat needs no
// such check: stat(2) never opens the file, and an unchanged stat means the
// regular file already read.
import { statSync, type BigIntStats } from 'node:fs'
import { FILE_LIMITS, readBoundedFile } from '../config/bounded-file.js'

/** A file whose ctime is this close to (or after) its last read is read again even when its stat is unchanged. */
const RACY_MS = 2_000

let turn = 0
let turnOpen = false
const endTurn = (): void => {
  turn++
  turnOpen = false
}

/** The current event-loop turn's number; the turn ends at the next setImmediate. */
function currentTurn (): number {
  if (!turnOpen) {
    turnOpen = true
    setImmediate(endTurn)
  }
  return turn
}

export class FreshFile {
  #stat: BigIntStats | undefined
  #readAt = 0
  #text: string | undefined
  /** The turn in which #text was last checked against the file. */
  #checked = -1

  /**
   * `loaded`: the content as config load read it; its stat is unknown, so the
   * first read() reads again. `limit`: the most the file may hold, in bytes.
   */
  constructor (readonly path: string, loaded?: string, readonly limit: number = FILE_LIMITS.credential) {
    this.#text = loaded
  }

  /** The file's content as of this turn (untrimmed). Throws what readBoundedFile throws. */
  read (): string {
    const now = currentTurn()
    if (this.#checked === now && this.#text !== undefined) return this.#text
    const st = statSync(this.path, { bigint: true })
    if (this.#text === undefined || !this.#unchanged(st)) {
      const readAt = Date.now()
      this.#text = readBoundedFile(this.path, this.limit)
      this.#stat = st
      this.#readAt = readAt
    }
    this.#checked = now
    return this.#text
  }

  #unchanged (st: BigIntStats): boolean {
    const last = this.#stat
    if (last === undefined) return false
    const same = st.ino === last.ino && st.dev === last.dev && st.size === last.size &&
      st.mtimeNs === last.mtimeNs && st.ctimeNs === last.ctimeNs
    return same && Number(st.ctimeNs / 1_000_000n) < this.#readAt - RACY_MS
  }
}

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
// Synchronous on purpose: a stat of a local or tmpfs file (a Kubernetes
// secret) costs about 2 µs, an async one a thread-pool round trip per probe.
// On a filesystem whose stat lags its content (an NFS attribute cache), a
// rotation is seen once the attributes are refreshed.
import { readFileSync, statSync, type BigIntStats } from 'node:fs'

/** A file whose ctime is this close to (or after) its last read is read again even when its stat is unchanged. */
const RACY_MS = 2_000

export class FreshFile {
  #stat: BigIntStats | undefined
  #readAt = 0
  #text: string | undefined

  /** `loaded`: the content as config load read it; its stat is unknown, so the first read() reads again. */
  constructor (readonly path: string, loaded?: string) {
    this.#text = loaded
  }

  /** The file's content now (untrimmed). Throws what node:fs throws. */
  read (): string {
    const st = statSync(this.path, { bigint: true })
    if (this.#text !== undefined && this.#unchanged(st)) return this.#text
    const readAt = Date.now()
    const text = readFileSync(this.path, 'utf8')
    this.#text = text
    this.#stat = st
    this.#readAt = readAt
    return text
  }

  #unchanged (st: BigIntStats): boolean {
    const last = this.#stat
    if (last === undefined) return false
    const same = st.ino === last.ino && st.dev === last.dev && st.size === last.size &&
      st.mtimeNs === last.mtimeNs && st.ctimeNs === last.ctimeNs
    return same && Number(st.ctimeNs / 1_000_000n) < this.#readAt - RACY_MS
  }
}

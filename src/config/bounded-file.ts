// The one way the gateway reads a file its config names (credentials, TLS
// material, the web config and its files): without blocking, bounded, and
// only if it is a regular file. A config is input like any other: a named
// pipe with no writer would freeze the event loop in open(), /dev/zero would
// grow memory without end, and a 1 GiB file would block every request for
// seconds, at load, at --config.check, at reload and on every probe.
//
// The file is opened with O_NONBLOCK (a FIFO's open returns at once instead of
// waiting for a writer; O_NOCTTY so a terminal never becomes ours), and the
// checks are made by fstat on what was opened, so a swap between a check and
// the read cannot slip anything past them. Symlinks are followed: a
// Kubernetes secret volume is a chain of them (`..data`), swapped atomically.
// The size is checked before reading, and the read stops at limit + 1 bytes,
// so a file that grows while it is read is bounded too.
//
// Synchronous on purpose, like every read of these files (README
// "scrape_configs[]": a local read is microseconds, an async one a thread-pool
// round trip per probe). Nothing here can block on what the file is, only on
// the filesystem it is on.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'

/** The most a file may hold, by kind (README "scrape_configs[]"). */
export const FILE_LIMITS = {
  /** A token, password, header value or oauth2 signing key. */
  credential: 64 * 1024,
  /** A PEM bundle (CA, certificate chain, key), and the config files themselves. */
  pem: 4 * 1024 * 1024,
} as const

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY

/** A file refused for what it is, not for a failing system call. `code` is node's errno name where one fits. */
export class FileRefusedError extends Error {
  constructor (readonly code: 'EISDIR' | 'ENOTREG' | 'EFBIG', reason: string, readonly op: 'open' | 'read') {
    super(reason)
    this.name = 'FileRefusedError'
  }
}

/** `64 KiB`, `4 MiB`: how the limits are written in README and in errors. */
export function sizeWords (bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`
  return `${bytes} B`
}

function kindOf (st: ReturnType<typeof fstatSync>): string {
  if (st.isFIFO()) return 'a named pipe'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

/**
 * The file's content as UTF-8, at most `limit` bytes. Throws FileRefusedError
 * for a directory, anything else that is not a regular file, or a file over
 * the limit; otherwise what node:fs throws (ENOENT, EACCES, ELOOP, ...).
 */
export function readBoundedFile (file: string, limit: number): string {
  const fd = openSync(file, OPEN_FLAGS)
  try {
    const st = fstatSync(fd)
    if (st.isDirectory()) throw new FileRefusedError('EISDIR', 'is a directory', 'read')
    if (!st.isFile()) throw new FileRefusedError('ENOTREG', `is ${kindOf(st)}, not a regular file`, 'open')
    const tooLarge = (): FileRefusedError => new FileRefusedError('EFBIG', `is larger than ${sizeWords(limit)}`, 'read')
    if (st.size > limit) throw tooLarge()
    // One byte more than the size seen: the file as statted is one read that
    // comes back short, which for a regular file is its end (read(2)), so the
    // common case costs one read. A file that grew fills the buffer and is
    // read on, up to limit + 1 bytes.
    let buf = Buffer.allocUnsafe(st.size + 1)
    let n = 0
    for (;;) {
      if (n === buf.length) {
        if (n > limit) throw tooLarge()
        const grown = Buffer.allocUnsafe(Math.min(limit + 1, buf.length * 2))
        buf.copy(grown, 0, 0, n)
        buf = grown
      }
      const want = buf.length - n
      const got = readSync(fd, buf, n, want, null)
      n += got
      if (got < want) break
    }
    return buf.toString('utf8', 0, n)
  } finally {
    closeSync(fd)
  }
}

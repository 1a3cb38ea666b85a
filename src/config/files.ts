// File reads at config load, with Go's error wording (`open F: no such file or
// directory`), so messages match Prometheus's. Every read is bounded and
// refuses what is not a regular file (./bounded-file.ts).
import { FileRefusedError, readBoundedFile } from './bounded-file.js'

const GO_ERRNO: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENXIO: 'no such device or address',
}

/** `open F: no such file or directory`, the way Go's os.ReadFile words it. */
export function goFileError (err: unknown, file: string): string {
  if (err instanceof FileRefusedError) return `${err.op} ${file}: ${err.message}`
  const code = (err as NodeJS.ErrnoException).code ?? ''
  if (code === 'EISDIR') return `read ${file}: is a directory`
  return `open ${file}: ${GO_ERRNO[code] ?? (err as Error).message}`
}

/** Reads a file of at most `limit` bytes for Prometheus's `unable to read file F: open F: ...` errors. */
export function readFileForConfig (file: string, limit: number): string {
  try {
    return readBoundedFile(file, limit)
  } catch (err) {
    throw new Error(`unable to read file ${file}: ${goFileError(err, file)}`, { cause: err })
  }
}

/**
 * Why a file read at each use (a credentials file) must be refused at load,
 * or undefined. Only what the file is counts (not a regular file, too large,
 * a symlink loop): a file that is missing or unreadable now is read again at
 * each scrape, as Prometheus does, so it may appear later.
 */
export function refusedAtLoad (file: string, limit: number): string | undefined {
  try {
    readBoundedFile(file, limit)
    return undefined
  } catch (err) {
    if (err instanceof FileRefusedError || (err as NodeJS.ErrnoException).code === 'ELOOP') {
      return `unable to read file ${file}: ${goFileError(err, file)}`
    }
    return undefined
  }
}

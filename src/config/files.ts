// File reads at config load, with Go's error wording (`open F: no such file or
// directory`), so messages match Prometheus's.
import { readFileSync } from 'node:fs'

const GO_ERRNO: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
}

/** `open F: no such file or directory`, the way Go's os.ReadFile words it. */
export function goFileError (err: unknown, file: string): string {
  const code = (err as NodeJS.ErrnoException).code ?? ''
  if (code === 'EISDIR') return `read ${file}: is a directory`
  return `open ${file}: ${GO_ERRNO[code] ?? (err as Error).message}`
}

/** Reads a file for Prometheus's `unable to read file F: open F: ...` errors. */
export function readFileForConfig (file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new Error(`unable to read file ${file}: ${goFileError(err, file)}`, { cause: err })
  }
}

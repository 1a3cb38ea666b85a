// What the tests that start a real daemon (squid, prometheus) share: the tail
// of its output for error messages, and whether it failed to spawn at all.
import type { ChildProcess } from 'node:child_process'

export interface Watched {
  /** The last 8 KiB the daemon wrote to stdout and stderr. */
  output (): string
  /** Set when the binary could not be spawned. */
  spawnError (): Error | undefined
}

export function watch (child: ChildProcess): Watched {
  let output = ''
  let spawnError: Error | undefined
  const collect = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-8192) }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  child.once('error', (err) => { spawnError = err })
  return { output: () => output, spawnError: () => spawnError }
}

// What the tests that start a real daemon (squid, prometheus, the bench's
// gateway) share: the tail of its output for error messages, whether it
// failed to spawn at all, and whether its /-/ready answers.
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

/** Whether `url`/-/ready answers 200 within a second (Prometheus's and the gateway's readiness endpoint). */
export async function ready (url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })
    await res.arrayBuffer()
    return res.status === 200
  } catch {
    return false
  }
}

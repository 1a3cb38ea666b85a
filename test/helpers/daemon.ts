// What the tests that start a real daemon (squid, prometheus, node_exporter,
// the bench's gateway) share: the tail of its output for error messages,
// whether it failed to spawn at all, whether its /-/ready answers, and a
// close that cannot leave it behind.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'

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

/** Whether `child` exited within `ms`. */
export async function exited (child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => { clearTimeout(timer); resolve(true) })
  })
}

export interface Daemon extends Watched {
  child: ChildProcess
  /** SIGTERM, then SIGKILL after 5 s; removes `dir`. Idempotent. */
  close (): Promise<void>
}

/** Starts `bin` with `args`; `dir` (its temp files) goes with it on close. */
export function spawnDaemon (bin: string, args: readonly string[], dir: string): Daemon {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  // A test process that dies without running after() must not leave the daemon behind.
  const reap = (): void => { child.kill('SIGKILL') }
  process.once('exit', reap)
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      child.kill('SIGTERM')
      if (!(await exited(child, 5000))) {
        child.kill('SIGKILL')
        await exited(child, 5000)
      }
      process.off('exit', reap)
      fs.rmSync(dir, { recursive: true, force: true })
    })()
    return closing
  }
  return { child, close, ...watch(child) }
}

/** Whether the process is alive: not gone, and not a zombie waiting for a parent that no longer reaps it. */
export function alive (pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

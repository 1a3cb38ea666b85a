// Every child process of the benchmark, and their end: each runs in its own
// process group (so nginx's workers and a shell's wrk go with it), and every
// group still alive is killed when the benchmark exits, by any road.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'

export interface Child {
  name: string
  pid: number
  proc: ChildProcess
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  hasExited(): boolean
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once exited. */
  stop(graceMs?: number): Promise<void>
}

const live = new Set<Child>()
const tempDirs = new Set<string>()

export interface StartOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Where stdout and stderr go; 'pipe' to read them. */
  log?: string | 'pipe'
}

export function startChild (name: string, command: string, args: string[], opts: StartOptions = {}): Child {
  let fd: number | undefined
  if (opts.log !== undefined && opts.log !== 'pipe') fd = openSync(opts.log, 'a')
  const out = opts.log === 'pipe' ? 'pipe' : fd ?? 'ignore'
  const proc = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true, // own process group: kill(-pid) reaches the whole tree
    stdio: ['ignore', out, out],
  })
  if (fd !== undefined) closeSync(fd)
  if (proc.pid === undefined) {
    // spawn failed (e.g. ENOENT); the error event carries why.
    throw new Error(`cannot start ${name} (${command})`)
  }
  const pid = proc.pid
  let done = false
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      done = true
      live.delete(child)
      resolve({ code, signal })
    })
  })
  proc.on('error', () => { /* reported through exit */ })
  const child: Child = {
    name,
    pid,
    proc,
    exited,
    hasExited: () => done,
    async stop (graceMs = 3000) {
      if (done) return
      killGroup(pid, 'SIGTERM')
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
      // The leader is gone; make sure no member of its group outlives it.
      killGroup(pid, 'SIGKILL')
    },
  }
  live.add(child)
  return child
}

function killGroup (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

export async function stopAll (): Promise<void> {
  await Promise.all([...live].map(async (c) => c.stop()))
}

/** A temp dir removed when the benchmark exits. */
export function removeOnExit (dir: string): void {
  tempDirs.add(dir)
}

function cleanupSync (): void {
  for (const c of live) killGroup(c.pid, 'SIGKILL')
  live.clear()
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true })
    } catch {
      // best effort
    }
  }
  tempDirs.clear()
}

let stopping = false

/** True once a signal or an uncaught error started the shutdown: later failures are its echo. */
export function isStopping (): boolean {
  return stopping
}

/**
 * Exit paths: normal end, SIGINT/SIGTERM/SIGHUP, uncaught errors. Children get a
 * graceful stop when there is time, and SIGKILL from the synchronous exit hook
 * otherwise.
 */
export function installCleanup (): void {
  process.once('exit', cleanupSync)
  const bail = (why: string, code: number): void => {
    if (stopping) {
      cleanupSync()
      process.exit(code)
    }
    stopping = true
    process.stderr.write(`\nbench: ${why}; stopping every child process\n`)
    const hard = setTimeout(() => { cleanupSync(); process.exit(code) }, 5000)
    hard.unref()
    void stopAll().finally(() => { cleanupSync(); process.exit(code) })
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => bail(sig, 130))
  process.on('uncaughtException', (err) => { process.stderr.write(`${err.stack ?? err.message}\n`); bail('uncaught exception', 1) })
  process.on('unhandledRejection', (err) => { process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`); bail('unhandled rejection', 1) })
}

/** A free 127.0.0.1 port for a child that cannot listen on port 0 and tell us (nginx). */
export async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function canConnect (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/** The last lines of a log file, for error messages. */
export function tail (file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/**
 * Waits until `ready()` holds, failing early when the child exits. The error
 * carries the tail of the child's log.
 */
export async function waitReady (child: Child, ready: () => Promise<boolean>, log: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.hasExited()) {
      const { code, signal } = await child.exited
      throw new Error(`${child.name} exited (${signal ?? `code ${code}`}) before it was ready:\n${tail(log)}`)
    }
    if (await ready()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await child.stop()
  throw new Error(`${child.name} was not ready after ${timeoutMs} ms:\n${tail(log)}`)
}

export function portOpen (port: number): () => Promise<boolean> {
  return async () => canConnect(port)
}

// What a process tree costs, read from /proc: CPU time (utime + stime of every
// process in the tree, all threads included), RSS now and at its peak, and the
// whole host's busy share. Linux only.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'

/** Clock ticks per second, the unit of utime/stime in /proc/PID/stat. */
export const CLK_TCK: number = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isInteger(n) && n > 0 ? n : 100
  } catch {
    return 100
  }
})()

interface Stat { pid: number, ppid: number, ticks: number }

function readStat (pid: number): Stat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined // exited
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state): field k is fields[k - 3]; ppid = 4, utime = 14, stime = 15.
  return { pid, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) }
}

function allStats (): Stat[] {
  const stats: Stat[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = readStat(Number(name))
    if (s !== undefined) stats.push(s)
  }
  return stats
}

/** The pids of the tree rooted at `root` (root first): nginx master + workers, or a node process. */
export function processTree (root: number): number[] {
  const stats = allStats()
  const tree = [root]
  for (let i = 0; i < tree.length; i++) {
    for (const s of stats) if (s.ppid === tree[i]) tree.push(s.pid)
  }
  return tree.filter((pid) => stats.some((s) => s.pid === pid))
}

/** CPU milliseconds (user + system) used so far by the tree rooted at `root`. */
export function treeCpuMs (root: number): number {
  let ticks = 0
  for (const pid of processTree(root)) ticks += readStat(pid)?.ticks ?? 0
  return (ticks * 1000) / CLK_TCK
}

/** CPU milliseconds (user + system) used so far by each of `pids` (0 for one that is gone). */
export function cpuMsOf (pids: readonly number[]): number[] {
  return pids.map((pid) => ((readStat(pid)?.ticks ?? 0) * 1000) / CLK_TCK)
}

function statusKb (pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1])
  } catch {
    return 0
  }
}

/** Resident set now, summed over the pids, in kB. */
export function rssKb (pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + statusKb(pid, 'VmRSS'), 0)
}

/** Peak resident set (VmHWM) since start or since resetPeak, summed over the pids, in kB. */
export function hwmKb (pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + statusKb(pid, 'VmHWM'), 0)
}

/** Resets VmHWM to the current RSS (`echo 5 > /proc/PID/clear_refs`); false when not permitted. */
export function resetPeak (pids: readonly number[]): boolean {
  let ok = true
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5')
    } catch {
      ok = false
    }
  }
  return ok
}

export interface HostCpu { busy: number, total: number }

/** The aggregate `cpu` line of /proc/stat, in ticks: busy = total - idle - iowait. */
export function hostCpu (): HostCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal (guest is already inside user)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0)
  const idle = (v[3] ?? 0) + (v[4] ?? 0)
  return { busy: total - idle, total }
}

/** Busy and total CPU milliseconds of all cores between two readings. */
export function hostDeltaMs (a: HostCpu, b: HostCpu): { busyMs: number, totalMs: number } {
  return { busyMs: ((b.busy - a.busy) * 1000) / CLK_TCK, totalMs: ((b.total - a.total) * 1000) / CLK_TCK }
}

/** Busy share of all cores between two readings, 0..1. */
export function hostBusy (a: HostCpu, b: HostCpu): number {
  const total = b.total - a.total
  return total > 0 ? (b.busy - a.busy) / total : 0
}

/** Samples the summed VmRSS of a set of pids every `intervalMs`, keeping the peak. */
export class RssSampler {
  #timer: NodeJS.Timeout | undefined
  #peakKb = 0
  #samples = 0

  constructor (readonly pids: readonly number[], readonly intervalMs = 100) {}

  start (): this {
    this.sample()
    this.#timer = setInterval(() => this.sample(), this.intervalMs)
    return this
  }

  sample (): number {
    const kb = rssKb(this.pids)
    this.#samples++
    if (kb > this.#peakKb) this.#peakKb = kb
    return kb
  }

  /** Starts a new peak from the current value (e.g. after warm-up). */
  resetPeak (): void {
    this.#peakKb = 0
    this.sample()
  }

  get peakKb (): number { return this.#peakKb }
  get samples (): number { return this.#samples }

  stop (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.sample()
  }
}

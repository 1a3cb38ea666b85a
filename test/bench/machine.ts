// Where the figures were measured: CPU model, cores, memory, versions.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { nginxVersion } from './nginx.js'
import { WRK } from './load.js'

export interface Machine {
  cpuModel: string
  cores: number
  memoryGiB: number
  kernel: string
  node: string
  nginx: string | undefined
  wrk: string | undefined
  gateway: string
}

export function describeMachine (repoRoot: string): Machine {
  let cpuModel = 'unknown'
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel
  } catch { /* not Linux */ }
  const w = spawnSync(WRK, ['-v'], { encoding: 'utf8' })
  const wrk = w.error === undefined ? /wrk\s+(\S+)/.exec(`${w.stdout}${w.stderr}`)?.[1] : undefined
  let gateway = 'unknown'
  try {
    gateway = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version
  } catch { /* reported as unknown */ }
  return {
    cpuModel,
    cores: os.availableParallelism(),
    memoryGiB: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: nginxVersion(),
    wrk,
    gateway,
  }
}

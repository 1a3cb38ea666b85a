// A real Prometheus for end-to-end tests: Debian's prometheus, started in the
// foreground on a free 127.0.0.1 port with a throwaway config and TSDB in a
// temp dir, queried through its HTTP API, killed in close().
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { refusedPort } from './targets.js'
import { ready, spawnDaemon } from './daemon.js'

/** The binary, or undefined when none is installed (CI installs Debian's: apt-get install prometheus). */
export const PROMETHEUS_BIN: string | undefined = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => fs.existsSync(p))

/** Why an e2e test is skipped: on a developer machine without Prometheus only, never in CI (CI=true), where a missing binary must fail. */
export const PROMETHEUS_SKIP: string | undefined = PROMETHEUS_BIN === undefined && process.env.CI !== 'true'
  ? 'no prometheus binary at /usr/bin/prometheus (apt-get install prometheus; CI installs it)'
  : undefined

export interface Sample {
  metric: Record<string, string>
  value: number
}

/** One of Prometheus's active targets, as /api/v1/targets lists it. */
export interface ActiveTarget {
  labels: Record<string, string>
  health: string
  lastError: string
}

export interface Prometheus {
  /** http://127.0.0.1:PORT */
  url: string
  port: number
  /** `prometheus --version`'s first line. */
  version: string
  /** An instant query through /api/v1/query (vector results only). */
  query (expr: string): Promise<Sample[]>
  /**
   * Polls `expr` until `done` accepts its result, bounded by timeoutMs; the
   * error carries the last result and Prometheus's log tail.
   */
  waitFor (expr: string, done: (samples: Sample[]) => boolean, timeoutMs?: number): Promise<Sample[]>
  /** The last 8 KiB of Prometheus's stdout and stderr. */
  output (): string
  /** The active targets (/api/v1/targets?state=active). */
  activeTargets (): Promise<ActiveTarget[]>
  close (): Promise<void>
}

interface QueryResponse {
  status: string
  error?: string
  data?: { resultType: string, result: Array<{ metric: Record<string, string>, value: [number, string] }> }
}

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Starts Prometheus with `configYaml` as its prometheus.yml; resolves once /-/ready answers 200. */
export async function startPrometheus (configYaml: string): Promise<Prometheus> {
  if (PROMETHEUS_BIN === undefined) throw new Error('no prometheus binary (install Debian\'s: apt-get install prometheus)')
  const bin = PROMETHEUS_BIN
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-prometheus-'))
  const conf = path.join(dir, 'prometheus.yml')
  fs.writeFileSync(conf, configYaml)
  const port = await refusedPort()
  const url = `http://127.0.0.1:${port}`

  const daemon = spawnDaemon(bin, [
    `--config.file=${conf}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // Debian's defaults point into /etc/prometheus; nothing here uses consoles.
    `--web.console.templates=${dir}`,
    `--web.console.libraries=${dir}`,
  ], dir)
  const { child, close } = daemon

  const deadline = Date.now() + 20_000
  while (!(await ready(url))) {
    if (daemon.spawnError() !== undefined) {
      await close()
      throw new Error(`cannot start ${bin}: ${daemon.spawnError()?.message}`)
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await close()
      throw new Error(`prometheus did not become ready on ${url}:\n${daemon.output()}`)
    }
    await sleep(100)
  }

  const version = await new Promise<string>((resolve) => {
    const v = spawn(bin, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    v.stdout?.on('data', (c: Buffer) => { text += c.toString() })
    v.stderr?.on('data', (c: Buffer) => { text += c.toString() })
    v.once('error', () => resolve('unknown'))
    v.once('close', () => resolve(text.split('\n')[0]?.trim() ?? 'unknown'))
  })

  const query = async (expr: string): Promise<Sample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) })
    const body = await res.json() as QueryResponse
    if (body.status !== 'success' || body.data === undefined) throw new Error(`query ${expr} failed (${res.status}): ${body.error ?? JSON.stringify(body)}`)
    if (body.data.resultType !== 'vector') throw new Error(`query ${expr}: expected a vector, got ${body.data.resultType}`)
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
  }

  return {
    url,
    port,
    version,
    query,
    async waitFor (expr, done, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs
      let last: Sample[] = []
      for (;;) {
        last = await query(expr)
        if (done(last)) return last
        if (Date.now() > until) {
          throw new Error(`${expr} never satisfied the condition within ${timeoutMs} ms; last result ${JSON.stringify(last)}; prometheus log:\n${daemon.output()}`)
        }
        await sleep(200)
      }
    },
    output: daemon.output,
    async activeTargets () {
      const res = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5000) })
      return (await res.json() as { data: { activeTargets: ActiveTarget[] } }).data.activeTargets
    },
    close,
  }
}

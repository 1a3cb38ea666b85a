// Load: wrk for fixed-connection throughput and latency (its done() hook prints
// one JSON line), and a small Node driver for an exact count of probes.
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import path from 'node:path'
import { createGunzip } from 'node:zlib'
import { startChild } from './procs.js'

export const WRK = '/usr/bin/wrk'

// Only done(): defining response() would make wrk hand every body to Lua.
const DONE_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`

export function writeWrkScript (dir: string): string {
  const file = path.join(dir, 'done.lua')
  writeFileSync(file, DONE_LUA)
  return file
}

export interface WrkOptions {
  url: string
  connections: number
  threads: number
  durationS: number
  timeoutS: number
  headers: Record<string, string>
  script: string
}

export interface WrkResult {
  requests: number
  durationS: number
  rps: number
  /** Response bytes read, headers included. */
  bytes: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  meanMs: number
  /** connect + read + write + timeout errors (sockets), and responses with status >= 400 (wrk counts no other). */
  socketErrors: number
  statusErrors: number
  /** wrk's own user + system CPU, from the shell's `times`. */
  cpuMs: number
}

interface WrkJson {
  requests: number,
  duration_us: number,
  bytes: number,
  connect: number,
  read: number,
  write: number,
  status: number,
  timeout: number,
  p50_us: number,
  p90_us: number,
  p99_us: number,
  max_us: number,
  mean_us: number
}

/** Seconds in `times` output: '0m1.234000s'. */
function timesSeconds (s: string): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(s)
  return m === null ? 0 : Number(m[1]) * 60 + Number(m[2])
}

export function wrkArgs (o: WrkOptions): string[] {
  const threads = Math.max(1, Math.min(o.threads, o.connections))
  return [
    `-t${threads}`, `-c${o.connections}`, `-d${o.durationS}s`, '--timeout', `${o.timeoutS}s`, '-s', o.script,
    ...Object.entries(o.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    o.url,
  ]
}

export async function runWrk (o: WrkOptions): Promise<WrkResult> {
  // `times` prints the shell's children's CPU (wrk's, exact) once wrk has exited.
  const child = startChild('wrk', 'sh', ['-c', '"$0" "$@"; s=$?; times >&2; exit $s', WRK, ...wrkArgs(o)], { log: 'pipe' })
  let stdout = ''
  let stderr = ''
  child.proc.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.proc.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const { code, signal } = await child.exited
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '))
  if (code !== 0 || line === undefined) {
    throw new Error(`wrk ${wrkArgs(o).join(' ')} failed (${signal ?? `code ${code}`}):\n${stdout}${stderr}`)
  }
  const j = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson
  const children = stderr.trim().split('\n').at(-1)?.trim().split(/\s+/) ?? []
  const cpuMs = (timesSeconds(children[0] ?? '') + timesSeconds(children[1] ?? '')) * 1000
  const durationS = j.duration_us / 1e6
  return {
    requests: j.requests,
    durationS,
    rps: durationS > 0 ? j.requests / durationS : 0,
    bytes: j.bytes,
    p50Ms: j.p50_us / 1000,
    p90Ms: j.p90_us / 1000,
    p99Ms: j.p99_us / 1000,
    maxMs: j.max_us / 1000,
    meanMs: j.mean_us / 1000,
    socketErrors: j.connect + j.read + j.write + j.timeout,
    statusErrors: j.status,
    cpuMs,
  }
}

export interface FetchResult {
  status: number
  contentEncoding: string
  /** Body bytes as received. */
  wireBytes: number
  /** Body bytes after gunzip (when Content-Encoding: gzip). */
  decodedBytes: number
  /** First line of a non-200 body, for messages. */
  reason: string
}

/** One GET, body read to the end and gunzipped when so encoded: the check before each peer is measured. */
export function fetchOnce (url: string, headers: Record<string, string>, ca?: string, agent?: http.Agent): Promise<FetchResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const options = { headers, ...(agent !== undefined ? { agent } : {}), ...(ca !== undefined ? { ca } : {}) }
    const req = (u.protocol === 'https:' ? https : http).get(u, options, (res) => {
      const encoding = String(res.headers['content-encoding'] ?? 'identity')
      let wire = 0
      let decoded = 0
      let head = ''
      res.on('data', (d: Buffer) => { wire += d.length })
      const body = encoding === 'gzip' ? res.pipe(createGunzip()) : res
      body.on('data', (d: Buffer) => {
        decoded += d.length
        if (head.length < 200) head += d.toString('utf8', 0, 200)
      })
      body.once('error', reject)
      body.once('end', () => resolve({
        status: res.statusCode ?? 0,
        contentEncoding: encoding,
        wireBytes: wire,
        decodedBytes: decoded,
        reason: res.statusCode === 200 ? '' : head.split('\n')[0] ?? '',
      }))
    })
    req.once('error', reject)
    req.setTimeout(60_000, () => req.destroy(new Error(`no response from ${url} in 60 s`)))
  })
}

export interface DriveResult { ok: number, failed: number, statuses: Record<string, number>, seconds: number }

/** Exactly `count` GETs, `concurrency` at a time over keep-alive connections; every body read to the end. */
export async function drive (url: string, count: number, concurrency: number, headers: Record<string, string>): Promise<DriveResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const statuses: Record<string, number> = {}
  let next = 0
  let ok = 0
  let failed = 0
  const started = Date.now()
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++
      try {
        const r = await fetchOnce(url, headers, undefined, agent)
        statuses[r.status] = (statuses[r.status] ?? 0) + 1
        if (r.status === 200) ok++
        else failed++
      } catch (err) {
        statuses[(err as { code?: string }).code ?? 'error'] = (statuses[(err as { code?: string }).code ?? 'error'] ?? 0) + 1
        failed++
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  agent.destroy()
  return { ok, failed, statuses, seconds: (Date.now() - started) / 1000 }
}

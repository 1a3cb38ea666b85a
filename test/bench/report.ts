// The results as Markdown: a headline table of the gateway on each node
// runtime (and process count) side by side, a scaling table of throughput
// and cost per process count, one throughput/latency/cost table with every
// figure also as a ratio to nginx and to direct, the memory scenario, the
// growth check, and notes on anything that makes a figure mean less than it
// seems.
import type { Body } from './bodies.js'
import type { NodeRuntime } from './gateway.js'
import type { WrkResult } from './load.js'
import type { Machine } from './machine.js'
import type { BenchOptions, Encoding, Peer } from './options.js'

export interface CaseResult {
  size: string
  encoding: Encoding
  connections: number
  peer: Peer
  /** The node runtime (its NodeRuntime label) the gateway peer ran on; undefined for direct and nginx. */
  runtime: string | undefined
  /** How many gateway processes served the port (--gateway-processes); undefined for direct and nginx. */
  processes: number | undefined
  wrk: WrkResult
  /** CPU of the peer's processes over the measured period (undefined for direct: there is no peer). */
  peerCpuMs: number | undefined
  /** With several gateway processes, each one's CPU over the measured period, in start order (launcher excluded). */
  processCpuMs: number[] | undefined
  targetCpuMs: number
  /** Share of all cores busy over the measured period, 0..1. */
  hostBusy: number
  /** Share of all cores busy with processes that are not the benchmark's (other test runs, builds), 0..1. */
  otherLoad: number
  /** Peak summed VmRSS sampled every 100 ms over the measured period (nginx: master + worker). */
  peakRssKb: number | undefined
  /** VmHWM after the case (reset before its warm-up when permitted). */
  hwmKb: number | undefined
  /** What the client received, from one request before the case. */
  response: { contentEncoding: string, wireBytes: number, decodedBytes: number }
  /** Fewer completions than connections in the planned period: measured again, longer (wrk.durationS). */
  extended: boolean
  /** How many times the case was measured (--repeat); this result is the median run. */
  runs: number
  /** Min and max over the runs: req/s, and the peer's CPU ms per request (undefined for direct). */
  spread: { rps: [number, number], cpuMsPerReq: [number, number] | undefined }
}

export interface MemoryResult {
  /** The node runtime's label. */
  runtime: string
  processes: number
  size: string
  encoding: Encoding
  connections: number
  durationS: number
  requests: number
  rps: number
  errors: number
  idleRssKb: number
  peakRssKb: number
  hwmKb: number
  /** RSS a moment (options.afterMs) after the load stopped. */
  afterRssKb: number
}

export interface GrowthPoint { probes: number, rssKb: number, hwmKb: number, seconds: number }

export interface GrowthResult {
  /** The node runtime's label. */
  runtime: string
  processes: number
  size: string
  encoding: Encoding
  concurrency: number
  idleRssKb: number
  points: GrowthPoint[]
  failed: number
  statuses: Record<string, number>
}

export interface Report {
  date: Date
  totalSeconds: number
  command: string
  machine: Machine
  options: BenchOptions
  target: string
  gatewayCommand: string | undefined
  /** The node runtimes of the gateway peer (--node), in the order they were measured; empty without it. */
  runtimes: NodeRuntime[]
  bodies: Body[]
  clientHeaders: Record<string, string>
  cases: CaseResult[]
  memory: MemoryResult[]
  /** One per runtime. */
  growth: GrowthResult[]
  /** HWM could be reset per case (clear_refs); otherwise VmHWM is since the process started. */
  hwmResettable: boolean
  /** With more than one gateway process: the launcher's own RSS when idle (part of every ×N row's RSS). */
  launcherRssKb: number | undefined
  notes: string[]
}

const mb = (kb: number | undefined): string => (kb === undefined ? '—' : (kb / 1024).toFixed(1))
const fixed = (n: number, digits: number): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const ms = (n: number): string => (n >= 100 ? fixed(n, 0) : n >= 10 ? fixed(n, 1) : fixed(n, 2))
const cpu = (n: number | undefined): string => (n === undefined ? '—' : n >= 10 ? fixed(n, 1) : fixed(n, 3))
const pct = (x: number): string => `${Math.round(x * 100)}%`
const bytes = (n: number): string => (n >= 1e6 ? `${fixed(n / 1e6, 2)} MB` : n >= 1e3 ? `${fixed(n / 1e3, 1)} kB` : `${n} B`)

function ratio (a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return '—'
  const r = a / b
  return `${r >= 10 ? fixed(r, 0) : r >= 1 ? fixed(r, 2) : fixed(r, 2)}×`
}

/** The host was saturated over the case: the figures measure contention as much as the peer. */
export function saturated (c: CaseResult): boolean {
  return Math.round(c.hostBusy * 100) >= 90
}

/** Processes other than the benchmark's took a noticeable share of the CPUs: the figures are not trustworthy. */
export function disturbed (c: CaseResult): boolean {
  return c.otherLoad >= 0.1
}

/** `v22.23.3`, or `v22.23.3 ×2`: a gateway peer's runtime, with its process count when it is more than one. */
export function variantLabel (runtime: string, processes: number | undefined): string {
  return processes === undefined || processes === 1 ? runtime : `${runtime} ×${processes}`
}

/** `nginx`, `gateway on v22.23.3`, or `gateway on v22.23.3 ×2`: a row's peer, with the runtime (and processes) for the gateway. */
export function peerName (c: { peer: Peer, runtime: string | undefined, processes?: number | undefined }): string {
  return c.runtime === undefined ? c.peer : `${c.peer} on ${variantLabel(c.runtime, c.processes)}`
}

function perRequest (c: CaseResult, cpuMs: number | undefined): number | undefined {
  return cpuMs === undefined || c.wrk.requests === 0 ? undefined : cpuMs / c.wrk.requests
}

const rps = (n: number): string => fixed(n, n >= 100 ? 0 : 1)

/** `1`, or `3 (2,100–2,740; 0.41–0.52)`: the runs and their range of req/s and CPU ms/req. */
function runsCell (c: CaseResult): string {
  if (c.runs <= 1) return String(c.runs)
  const { rps: [lo, hi], cpuMsPerReq } = c.spread
  const cpuRange = cpuMsPerReq === undefined ? '—' : `${cpu(cpuMsPerReq[0])}–${cpu(cpuMsPerReq[1])}`
  return `${c.runs} (${rps(lo)}–${rps(hi)}; ${cpuRange})`
}

function row (cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

/** The row of `peer` (and `runtime`, `processes`) in c's case: same size, encoding and connections. */
function sameCase (r: Report, c: CaseResult, peer: Peer, runtime?: string, processes?: number): CaseResult | undefined {
  return r.cases.find((o) => o.peer === peer && o.runtime === runtime && o.processes === processes &&
    o.size === c.size && o.encoding === c.encoding && o.connections === c.connections)
}

/** A gateway peer of the run: one node runtime with one process count. */
interface Variant { runtime: string, processes: number, label: string }

/** The gateway peers in the order they were measured: each runtime, with each process count. */
function variants (r: Report): Variant[] {
  return r.runtimes.flatMap(({ label: runtime }) => r.options.gatewayProcesses.map((processes) =>
    ({ runtime, processes, label: variantLabel(runtime, processes) })))
}

/**
 * Per case, the gateway's headline figures on each runtime (and process count) side by side, and each
 * later one's req/s and CPU ms/req divided by the first's: measured in one run, interleaved, so comparable.
 */
function headlineTable (r: Report): string[] {
  const all = variants(r)
  const [first, ...later] = all.map((v) => v.label)
  if (first === undefined) return []
  const head = ['size', 'enc', 'conns',
    ...all.flatMap(({ label }) => [`${label} req/s`, '÷nginx', 'p50 ms', 'CPU ms/req (÷nginx)', 'peak RSS MB']),
    ...later.flatMap((label) => [`req/s ${label} ÷ ${first}`, `CPU ${label} ÷ ${first}`])]
  const lines = [row(head), row(head.map((_, i) => (i < 2 ? '---' : '---:')))]
  // One row per case, in the order measured: the cases of the first runtime that has them.
  const keys = new Set<string>()
  for (const c of r.cases.filter((o) => o.peer === 'gateway')) {
    const key = `${c.size} ${c.encoding} ${c.connections}`
    if (keys.has(key)) continue
    keys.add(key)
    const n = sameCase(r, c, 'nginx')
    const byLabel = new Map(all.map((v) => [v.label, sameCase(r, c, 'gateway', v.runtime, v.processes)]))
    const on = (label: string): CaseResult | undefined => byLabel.get(label)
    const cpuOf = (g: CaseResult | undefined): number | undefined => (g === undefined ? undefined : perRequest(g, g.peerCpuMs))
    const cells = all.flatMap(({ label }) => {
      const g = on(label)
      if (g === undefined) return ['—', '—', '—', '—', '—']
      const nginxCpu = n === undefined ? undefined : perRequest(n, n.peerCpuMs)
      return [`${rps(g.wrk.rps)}${g.extended ? '*' : ''}`, ratio(g.wrk.rps, n?.wrk.rps), ms(g.wrk.p50Ms),
        `${cpu(cpuOf(g))} (${ratio(cpuOf(g), nginxCpu)})`, mb(g.peakRssKb)]
    })
    const base = on(first)
    const versus = later.flatMap((label) => [ratio(on(label)?.wrk.rps, base?.wrk.rps), ratio(cpuOf(on(label)), cpuOf(base))])
    lines.push(row([c.size, c.encoding, String(c.connections), ...cells, ...versus]))
  }
  return lines
}

/** `52/48`: each process's share of the peer's process CPU, in start order. */
function splitCell (c: CaseResult | undefined): string {
  const ms = c?.processCpuMs
  if (ms === undefined) return '—'
  const total = ms.reduce((a, b) => a + b, 0)
  return total > 0 ? ms.map((x) => Math.round((x / total) * 100)).join('/') : '—'
}

/** Cores the peer kept busy over the measured period: its CPU ÷ wall time. */
function coresUsed (c: CaseResult | undefined): number | undefined {
  return c?.peerCpuMs === undefined ? undefined : c.peerCpuMs / 1000 / Math.max(c.wrk.durationS, 1e-9)
}

/**
 * With more than one process count: per runtime and case, req/s, CPU ms/req, the cores the gateway
 * kept busy and the host's load at each count, the CPU split over the processes, and each later
 * count's req/s and CPU ms/req divided by the first's.
 */
function scalingTable (r: Report): string[] {
  const counts = r.options.gatewayProcesses
  const [base, ...more] = counts
  if (base === undefined || more.length === 0 || r.runtimes.length === 0) return []
  const name = (n: number): string => `×${n}`
  const several = r.runtimes.length > 1
  const head = [...(several ? ['node'] : []), 'size', 'enc', 'conns',
    ...counts.flatMap((n) => [`${name(n)} req/s`, `${name(n)} CPU ms/req`, `${name(n)} cores`, `${name(n)} host busy`, ...(n > 1 ? [`${name(n)} CPU split %`] : [])]),
    ...more.flatMap((n) => [`req/s ${name(n)} ÷ ${name(base)}`, `CPU/req ${name(n)} ÷ ${name(base)}`])]
  const lines = [row(head), row(head.map((_, i) => (i < (several ? 4 : 3) ? '---' : '---:')))]
  for (const { label: runtime } of r.runtimes) {
    const keys = new Set<string>()
    for (const c of r.cases.filter((o) => o.peer === 'gateway' && o.runtime === runtime)) {
      const key = `${c.size} ${c.encoding} ${c.connections}`
      if (keys.has(key)) continue
      keys.add(key)
      const at = new Map(counts.map((n) => [n, sameCase(r, c, 'gateway', runtime, n)]))
      const cpuOf = (g: CaseResult | undefined): number | undefined => (g === undefined ? undefined : perRequest(g, g.peerCpuMs))
      const cells = counts.flatMap((n) => {
        const g = at.get(n)
        const cores = coresUsed(g)
        return [g === undefined ? '—' : `${rps(g.wrk.rps)}${g.extended ? '*' : ''}`, cpu(cpuOf(g)), cores === undefined ? '—' : fixed(cores, 2),
          g === undefined ? '—' : `${pct(g.hostBusy)}${saturated(g) ? ' ⚠' : ''}${disturbed(g) ? ' ⚠other' : ''}`,
          ...(n > 1 ? [splitCell(g)] : [])]
      })
      const b = at.get(base)
      const versus = more.flatMap((n) => [ratio(at.get(n)?.wrk.rps, b?.wrk.rps), ratio(cpuOf(at.get(n)), cpuOf(b))])
      lines.push(row([...(several ? [runtime] : []), c.size, c.encoding, String(c.connections), ...cells, ...versus]))
    }
  }
  return lines
}

function scalingSection (r: Report): string[] {
  const table = scalingTable(r)
  if (table.length === 0) return []
  const counts = r.options.gatewayProcesses
  const launcher = r.launcherRssKb === undefined ? '' : ` (the launcher itself: ${mb(r.launcherRssKb)} MB idle)`
  return ['## Scaling: gateway processes behind one port', '',
    `The gateway as ${counts.map((n) => (n === 1 ? '1 process (as the image runs it)' : `${n} processes (${sharingText(r.options.gatewaySharing)})`)).join(', ')}, ` +
      'measured in one run with the peers interleaved. *cores*: the CPU of all the peer\'s processes ÷ wall time, ' +
      `the launcher's included${launcher}; *host busy*: all ${r.machine.cores} cores, wrk and the target included (⚠ ≥ 90%: the machine, not the gateway, ` +
      'is the limit; ⚠other: processes outside the bench took ≥ 10%); *CPU split*: each process\'s share of the processes\' CPU (an uneven split means the kernel ' +
      'gave one process most connections). With 1 connection only one process can work at a time.',
    '', ...table, '']
}

/** What --gateway-sharing did, in a few words. */
function sharingText (sharing: BenchOptions['gatewaySharing']): string {
  switch (sharing) {
    case 'cluster': return 'node:cluster, SCHED_NONE: one socket, the kernel picks the process that accepts'
    case 'cluster-rr': return 'node:cluster, SCHED_RR: the launcher accepts and deals connections out in turn'
    case 'reuseport': return 'SO_REUSEPORT: one socket per process, the kernel hashes connections over them'
  }
}

function casesTable (r: Report): string[] {
  const head = ['size', 'enc', 'conns', 'peer', 'req/s', '÷nginx', '÷direct', 'p50 ms', '÷nginx', '÷direct', 'p99 ms', '÷nginx', '÷direct',
    'CPU ms/req', '÷nginx', 'peak RSS MB', '÷nginx', 'VmHWM MB', 'target CPU ms/req', 'host busy', 'other load', 'wrk CPU', 'client got', 'errors',
    'runs (req/s, CPU ms/req min–max)']
  const lines = [row(head), row(head.map((h, i) => (i < 4 || h === 'client got' ? '---' : '---:')))]
  for (const c of r.cases) {
    const n = c.peer === 'nginx' ? undefined : sameCase(r, c, 'nginx')
    const d = c.peer === 'direct' ? undefined : sameCase(r, c, 'direct')
    const w = c.wrk
    const cpuReq = perRequest(c, c.peerCpuMs)
    const errors = w.socketErrors + w.statusErrors
    lines.push(row([
      c.size, c.encoding, String(c.connections), peerName(c),
      `${rps(w.rps)}${c.extended ? '*' : ''}`, ratio(w.rps, n?.wrk.rps), ratio(w.rps, d?.wrk.rps),
      ms(w.p50Ms), ratio(w.p50Ms, n?.wrk.p50Ms), ratio(w.p50Ms, d?.wrk.p50Ms),
      ms(w.p99Ms), ratio(w.p99Ms, n?.wrk.p99Ms), ratio(w.p99Ms, d?.wrk.p99Ms),
      cpu(cpuReq), n === undefined ? '—' : ratio(cpuReq, perRequest(n, n.peerCpuMs)),
      mb(c.peakRssKb), n === undefined ? '—' : ratio(c.peakRssKb, n.peakRssKb),
      mb(c.hwmKb),
      cpu(perRequest(c, c.targetCpuMs)),
      `${pct(c.hostBusy)}${saturated(c) ? ' ⚠' : ''}`,
      `${pct(c.otherLoad)}${disturbed(c) ? ' ⚠' : ''}`,
      pct(w.cpuMs / 1000 / Math.max(w.durationS, 1e-9)),
      `${c.response.contentEncoding} ${bytes(c.response.wireBytes)}`,
      errors === 0 ? '0' : `**${w.socketErrors} socket, ${w.statusErrors} ≥400** of ${w.requests + w.socketErrors}`,
      runsCell(c),
    ]))
  }
  return lines
}

function memoryTable (r: Report): string[] {
  const after = `RSS ${r.options.afterMs / 1000} s after MB`
  const lines = [
    row(['node', 'body', 'enc', 'conns', 'seconds', 'requests', 'req/s', 'errors', 'RSS idle MB', 'peak RSS MB (100 ms samples)', 'VmHWM MB', after]),
    row(['---', '---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ]
  for (const m of r.memory) {
    lines.push(row([variantLabel(m.runtime, m.processes), m.size, m.encoding, String(m.connections), String(m.durationS), String(m.requests), fixed(m.rps, 1), String(m.errors),
      mb(m.idleRssKb), mb(m.peakRssKb), mb(m.hwmKb), mb(m.afterRssKb)]))
  }
  return lines
}

function growthSection (g: GrowthResult): string[] {
  const lines = [
    `Fresh gateway on ${variantLabel(g.runtime, g.processes)}, ${g.size} bodies, ${g.encoding}, ${g.concurrency} concurrent keep-alive connections (Node client); RSS idle before the first probe: ${mb(g.idleRssKb)} MB.`,
    '',
    row(['probes', 'RSS MB', 'VmHWM MB', 'elapsed s']),
    row(['---:', '---:', '---:', '---:']),
    ...g.points.map((p) => row([p.probes.toLocaleString('en-US'), mb(p.rssKb), mb(p.hwmKb), fixed(p.seconds, 1)])),
  ]
  const first = g.points[0]
  const last = g.points.at(-1)
  if (first !== undefined && last !== undefined && last !== first) {
    const delta = last.rssKb - first.rssKb
    lines.push('', `RSS after ${last.probes.toLocaleString('en-US')} probes vs after ${first.probes.toLocaleString('en-US')}: ` +
      `${delta >= 0 ? '+' : ''}${mb(delta)} MB (${delta >= 0 ? '+' : ''}${fixed((delta / first.rssKb) * 100, 1)}%), ` +
      `${fixed((delta * 1024) / (last.probes - first.probes), 0)} bytes per probe.`)
  }
  lines.push(g.failed === 0 ? 'Every probe returned 200.' : `**${g.failed} probes failed**: ${JSON.stringify(g.statuses)}`)
  return lines
}

/** `, the gateway on Node v22.23.3 (`/opt/…/node`)`: what --node ran it on. */
function runtimesText (r: Report): string {
  if (r.runtimes.length === 0) return ''
  return `, the ${r.options.gateway === 'floor' ? 'Node floor' : 'gateway'} on ${r.runtimes.map((rt) => `Node ${rt.label === rt.version ? `${rt.version} (\`${rt.bin}\`)` : rt.label}`).join(' and ')}`
}

function headlineSection (r: Report): string[] {
  const table = headlineTable(r)
  if (table.length === 0) return []
  const what = r.options.gateway === 'floor' ? 'The Node floor (node-floor.mjs, in the gateway\'s place)' : 'The gateway'
  const runtimes = r.runtimes.length > 1 ? `on each of ${r.runtimes.length} node runtimes (*Versions*, above)` : `on Node ${r.runtimes[0]!.label}`
  const counts = r.options.gatewayProcesses
  const processes = counts.length > 1 || counts[0] !== 1 ? `, as ${counts.join(', ')} process${counts.length === 1 && counts[0] === 1 ? '' : 'es'} (×N, see *Gateway processes*)` : ''
  const several = variants(r).length > 1
  return [`## Headline: the gateway per node runtime${counts.length > 1 ? ' and process count' : ''}`, '',
    `${what} ${runtimes}${processes}${several ? ', measured in one run with the peers interleaved' : ''}; each figure as in the full table below, *÷nginx* against the nginx row of the same case` +
      (several ? ', and the last columns each later peer\'s req/s and CPU ms/req divided by the first\'s (req/s above 1×: faster; CPU below 1×: cheaper).' : '.'),
    '', ...table, '']
}

export function renderMarkdown (r: Report): string {
  const m = r.machine
  const o = r.options
  const h = Object.entries(r.clientHeaders).map(([k, v]) => `\`${k}: ${v}\``).join(', ')
  const out = [
    '# scrape-gateway benchmark',
    '',
    `- **Date**: ${r.date.toISOString()} — total run time ${fixed(r.totalSeconds, 0)} s`,
    `- **Machine**: ${m.cpuModel}, ${m.cores} cores, ${fixed(m.memoryGiB, 1)} GiB RAM, ${m.kernel}`,
    `- **Versions**: Node ${m.node} (the harness)${runtimesText(r)}, nginx ${m.nginx ?? 'not installed'}, wrk ${m.wrk ?? '?'}, scrape-gateway ${m.gateway}`,
    `- **Command**: \`${r.command}\``,
    ...(o.gatewayProcesses.length > 1 || o.gatewayProcesses[0] !== 1
      ? [`- **Gateway processes**: ${o.gatewayProcesses.join(', ')} (--gateway-processes); more than one through test/bench/launcher.mjs, ` +
          `each process with the single process's node flags and arguments, sharing the port by ${sharingText(o.gatewaySharing)} (--gateway-sharing=${o.gatewaySharing})`]
      : []),
    `- **Target**: ${r.target}, https on 127.0.0.1 with a test-CA certificate, requires \`Authorization: Bearer <token>\`; bodies from test/helpers/targets.ts exposition(): ` +
      r.bodies.map((b) => `${b.label} = ${b.series.toLocaleString('en-US')} series, ${bytes(b.bytes)} (gzip ${bytes(b.gzipBytes)})`).join('; '),
    '- **Peers**: *direct* = wrk → the https target itself (the limit); *nginx* = wrk → nginx reverse proxy (plain http in; https out with the bearer header, ' +
      '`proxy_ssl_verify on` against the test CA, upstream keep-alive; `gunzip on` for gzip) → target; ' +
      `*gateway* = wrk → \`GET /probe?job=…&target=…\` of the gateway in its own process${r.gatewayCommand !== undefined ? ` (\`${r.gatewayCommand}\`)` : ''} → target.`,
    `- **Load**: wrk -t${o.threads} (capped at the connection count), ${o.warmupS} s warm-up ` +
      `${o.quick ? '(--quick: once per peer, size and encoding) ' : ''}then ${o.durationS} s measured per case, --timeout ${o.timeoutS}s, all keep-alive.`,
    `- **Client headers, identical for every peer**: ${h}, and \`Accept-Encoding\` per case; *direct* adds the \`Authorization\` header that nginx and the gateway add upstream.`,
    '- **Cases**: *identity* — the target serves identity, the client sends `Accept-Encoding: identity`. ' +
      '*gzip* — the target serves gzip, the client sends `Accept-Encoding: gzip` as Prometheus does: nginx and the gateway pass the gzip through (the gateway still counts decoded bytes when the job has a body_size_limit). ' +
      '*gunzip* — the target serves gzip to nginx and the gateway, the client sends `Accept-Encoding: identity`: both must decode (direct then gets identity from the target).',
    '',
    ...headlineSection(r),
    ...scalingSection(r),
    '## Throughput, latency, cost',
    '',
    ...casesTable(r),
    '',
    '*÷nginx*, *÷direct*: this row\'s figure divided by the nginx / direct row of the same case (req/s: below 1× is slower; latency, CPU, RSS: above 1× is more). ' +
      '*CPU ms/req*: user+system CPU of the peer\'s processes (gateway: its node process, or with ×N the launcher and its N processes; nginx: master + worker; /proc/PID/stat, CLK_TCK) over the measured period ÷ requests. ' +
      '*peak RSS*: VmRSS sampled every 100 ms during the measured period (nginx: master + worker summed; gateway ×N: the launcher and its processes summed). ' +
      `*VmHWM*: kernel peak RSS ${r.hwmResettable ? 'since the case\'s warm-up (reset through /proc/PID/clear_refs)' : 'since the process started (clear_refs was not permitted)'}. ` +
      '*target CPU ms/req*: the https target\'s CPU per request. *host busy*: all cores, from /proc/stat (⚠ ≥ 90%: the machine is saturated, the figures measure contention). *other load*: the share of all cores used by processes that are not the benchmark\'s (host busy − target, peers, wrk and the harness; ⚠ ≥ 10%: the machine was not quiet, distrust the row). ' +
      '*wrk CPU*: wrk\'s own CPU as a share of one core. *client got*: Content-Encoding and body size of one response before the case. *errors*: wrk socket errors (connect/read/write/timeout) and responses ≥ 400.',
  ]
  if (r.memory.length > 0) {
    out.push('', '## Memory: concurrent large bodies', '',
      `A fresh gateway per row; wrk -c${o.memoryConnections} for ${o.memoryDurationS} s, no warm-up.`, '', ...memoryTable(r))
  }
  if (r.growth.length > 0) out.push('', '## Growth over many probes', '', ...r.growth.flatMap((g, i) => [...(i > 0 ? [''] : []), ...growthSection(g)]))
  if (r.notes.length > 0) out.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`))
  return out.join('\n') + '\n'
}

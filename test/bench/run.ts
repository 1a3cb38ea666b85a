// The benchmark of issue #6: the gateway's /probe against nginx doing the same
// job and against the target itself, with wrk, on 127.0.0.1.
//
//   npx tsx test/bench/run.ts [--quick] [--sizes=100k,1m,10m] [--connections=1,32] ...   (--help lists all)
//
// Writes a Markdown report to stdout and to test/bench/results/latest.md (and
// the raw figures to latest.json next to it).
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createCa } from '../helpers/pki.js'
import { writeBodies, type Body } from './bodies.js'
import { jobName, nodeRuntimes, startGatewayProcess, writeGatewayConfig, type GatewayProcess, type NodeRuntime, type UpstreamEncoding } from './gateway.js'
import { drive, fetchOnce, runWrk, writeWrkScript, WRK, type WrkResult } from './load.js'
import { describeMachine } from './machine.js'
import { startNginxProxy, type Nginx } from './nginx.js'
import { parseOptions, REPO_ROOT, USAGE, type BenchOptions, type Encoding, type Peer } from './options.js'
import { installCleanup, isStopping, removeOnExit, stopAll } from './procs.js'
import { summarizeLogs } from './logs.js'
import { disturbed, peerName, renderMarkdown, saturated, variantLabel, type CaseResult, type GrowthResult, type MemoryResult, type Report } from './report.js'
import { cpuMsOf, hostBusy, hostCpu, hostDeltaMs, hwmKb, processTree, resetPeak, RssSampler, rssKb, treeCpuMs, type HostCpu } from './sample.js'
import { startTarget, type BenchTarget } from './target.js'

// What Prometheus 3 sends by default (scrape_protocols defaults, utf-8 escaping).
const CLIENT_HEADERS: Readonly<Record<string, string>> = {
  Accept: 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,' +
    'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
  'User-Agent': 'Prometheus/3.0.0',
  'X-Prometheus-Scrape-Timeout-Seconds': '30',
}

/** The longest measured period a too-slow case is extended to, seconds. */
const MAX_EXTENDED_S = 8

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const progress = (s: string): void => { process.stderr.write(`${s}\n`) }

/** What the target is asked for: gunzip differs from gzip only on the client side. */
function upstreamOf (enc: Encoding): UpstreamEncoding {
  return enc === 'identity' ? 'identity' : 'gzip'
}

/**
 * The gateway peer on one --node runtime with one --gateway-processes count. The memory scenario and
 * the growth check replace its process(es).
 */
interface RuntimeGateway {
  runtime: NodeRuntime
  processes: number
  process: GatewayProcess
  /** The log file of every process it has had, for the notes. */
  logs: string[]
}

/** What a row of the cases measures: a peer, and for the gateway, on which runtime. */
interface Contender {
  peer: Peer
  gateway: RuntimeGateway | undefined
}

const gatewayPeer = (g: RuntimeGateway): Contender => ({ peer: 'gateway', gateway: g })
const contenderName = (c: Contender): string => peerName({ peer: c.peer, runtime: c.gateway?.runtime.label, processes: c.gateway?.processes })

interface Rig {
  opts: BenchOptions
  target: BenchTarget
  proxy: Nginx | undefined
  /** One per --node runtime and --gateway-processes count, in their order (empty without the gateway peer). */
  gateways: RuntimeGateway[]
  gatewayConfig: string
  gatewayDir: string
  token: string
  caPem: string
  script: string
}

function url (rig: Rig, c: Contender, body: Body, enc: Encoding): string {
  const up = upstreamOf(enc)
  switch (c.peer) {
    case 'direct': return `https://${rig.target.host}${body.path}`
    case 'nginx': return `http://127.0.0.1:${rig.proxy!.port}/${up}${body.path}`
    case 'gateway': return `${c.gateway!.process.url}/probe?job=${jobName(body, up)}&target=${rig.target.host}`
  }
}

function headers (rig: Rig, peer: Peer, enc: Encoding): Record<string, string> {
  return {
    ...CLIENT_HEADERS,
    'Accept-Encoding': enc === 'gzip' ? 'gzip' : 'identity',
    ...(peer === 'direct' ? { Authorization: `Bearer ${rig.token}` } : {}),
  }
}

/** The peer's process tree root (undefined for direct). */
function peerRoot (rig: Rig, c: Contender): number | undefined {
  return c.peer === 'gateway' ? c.gateway!.process.child.pid : c.peer === 'nginx' ? rig.proxy!.child.pid : undefined
}

function peerPids (rig: Rig, c: Contender): number[] {
  return c.peer === 'gateway' ? c.gateway!.process.pids() : c.peer === 'nginx' ? processTree(rig.proxy!.child.pid) : []
}

async function startGateway (rig: Pick<Rig, 'opts' | 'gatewayConfig' | 'gatewayDir'>, runtime: NodeRuntime, processes: number): Promise<GatewayProcess> {
  const { opts } = rig
  return startGatewayProcess({
    repoRoot: REPO_ROOT,
    configFile: rig.gatewayConfig,
    dir: rig.gatewayDir,
    kind: opts.gateway,
    node: runtime.bin,
    processes,
    sharing: opts.gatewaySharing,
  })
}

async function restartGateway (rig: Rig, g: RuntimeGateway): Promise<GatewayProcess> {
  await g.process.stop()
  g.process = await startGateway(rig, g.runtime, g.processes)
  g.logs.push(...g.process.logs)
  return g.process
}

function wrkOptions (rig: Rig, c: Contender, body: Body, enc: Encoding, connections: number, durationS: number): Parameters<typeof runWrk>[0] {
  return {
    url: url(rig, c, body, enc),
    connections,
    threads: rig.opts.threads,
    durationS,
    timeoutS: rig.opts.timeoutS,
    headers: headers(rig, c.peer, enc),
    script: rig.script,
  }
}

function describeWrk (w: WrkResult): string {
  const errors = w.socketErrors + w.statusErrors
  return `${w.rps.toFixed(1)} req/s, p50 ${w.p50Ms.toFixed(2)} ms, p99 ${w.p99Ms.toFixed(2)} ms${errors > 0 ? `, ${errors} errors` : ''}`
}

/**
 * CPU so far: the peer's, each of its gateway processes' (with more than one), the target's, everything
 * of ours (children and this process), and the host's.
 */
interface CpuSnapshot { peerMs: number | undefined, processMs: number[] | undefined, targetMs: number, oursMs: number, host: HostCpu }

function cpuSnapshot (rig: Rig, root: number | undefined, workers?: readonly number[]): CpuSnapshot {
  const targetMs = treeCpuMs(rig.target.child.pid)
  const self = process.cpuUsage()
  const oursMs = targetMs + (self.user + self.system) / 1000 +
    (rig.proxy === undefined ? 0 : treeCpuMs(rig.proxy.child.pid)) + rig.gateways.reduce((sum, g) => sum + treeCpuMs(g.process.child.pid), 0)
  return {
    peerMs: root === undefined ? undefined : treeCpuMs(root),
    processMs: workers === undefined ? undefined : cpuMsOf(workers),
    targetMs,
    oursMs,
    host: hostCpu(),
  }
}

/** One measured run of a case; the runs of a case become one CaseResult (summarizeRuns). */
type Run = Omit<CaseResult, 'runs' | 'spread'>

async function measureCase (rig: Rig, c: Contender, body: Body, enc: Encoding, connections: number,
  response: CaseResult['response'], warmupS: number): Promise<{ result: Run, hwmReset: boolean }> {
  const { opts } = rig
  const pids = peerPids(rig, c)
  const root = peerRoot(rig, c)
  // Several gateway processes: each one's CPU too, to see how the kernel spread the connections.
  const workers = c.gateway !== undefined && c.gateway.processes > 1 ? c.gateway.process.workers() : undefined
  const hwmReset = pids.length === 0 || resetPeak(pids)
  const sampler = pids.length > 0 ? new RssSampler(pids).start() : undefined
  if (warmupS > 0) await runWrk(wrkOptions(rig, c, body, enc, connections, warmupS))
  sampler?.resetPeak()
  let before = cpuSnapshot(rig, root, workers)
  let wrk = await runWrk(wrkOptions(rig, c, body, enc, connections, opts.durationS))
  // Slower than the period: fewer completions than connections say little. The
  // short run then served as a warm-up; measure once more, longer.
  const longer = Math.min(MAX_EXTENDED_S, opts.durationS * 3)
  const extended = wrk.requests < connections && longer > opts.durationS
  if (extended) {
    sampler?.resetPeak()
    before = cpuSnapshot(rig, root, workers)
    wrk = await runWrk(wrkOptions(rig, c, body, enc, connections, longer))
  }
  const after = cpuSnapshot(rig, root, workers)
  sampler?.stop()
  const host = hostDeltaMs(before.host, after.host)
  const oursMs = after.oursMs - before.oursMs + wrk.cpuMs
  return {
    hwmReset,
    result: {
      size: body.label,
      encoding: enc,
      connections,
      peer: c.peer,
      runtime: c.gateway?.runtime.label,
      processes: c.gateway?.processes,
      wrk,
      peerCpuMs: before.peerMs === undefined || after.peerMs === undefined ? undefined : after.peerMs - before.peerMs,
      processCpuMs: before.processMs === undefined || after.processMs === undefined ? undefined : after.processMs.map((ms, i) => ms - before.processMs![i]!),
      targetCpuMs: after.targetMs - before.targetMs,
      hostBusy: hostBusy(before.host, after.host),
      otherLoad: host.totalMs > 0 ? Math.max(0, host.busyMs - oursMs) / host.totalMs : 0,
      peakRssKb: sampler?.peakKb,
      hwmKb: pids.length > 0 ? hwmKb(pids) : undefined,
      response,
      extended,
    },
  }
}

/** The peer's CPU ms per request of a run (undefined for direct). */
function cpuPerRequest (r: Run): number | undefined {
  return r.peerCpuMs === undefined ? undefined : r.wrk.requests === 0 ? Infinity : r.peerCpuMs / r.wrk.requests
}

function range (xs: number[]): [number, number] {
  return [Math.min(...xs), Math.max(...xs)]
}

/** The run with the median CPU ms/req (req/s for direct; the lower median for an even count), with the runs' spread. */
function summarizeRuns (runs: Run[]): CaseResult {
  const cpus = runs.map(cpuPerRequest)
  const byCpu = cpus.every((x) => x !== undefined)
  const key = (r: Run): number => (byCpu ? cpuPerRequest(r)! : r.wrk.rps)
  const sorted = [...runs].sort((a, b) => key(a) - key(b))
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!
  return {
    ...median,
    runs: runs.length,
    spread: { rps: range(runs.map((r) => r.wrk.rps)), cpuMsPerReq: byCpu ? range(cpus as number[]) : undefined },
  }
}

async function memoryScenario (rig: Rig, g: RuntimeGateway, body: Body, enc: Encoding): Promise<MemoryResult> {
  const { opts } = rig
  const gw = await restartGateway(rig, g)
  await sleep(opts.settleMs)
  const pids = gw.pids()
  const idleRssKb = rssKb(pids)
  resetPeak(pids)
  const sampler = new RssSampler(pids).start()
  const w = await runWrk(wrkOptions(rig, gatewayPeer(g), body, enc, opts.memoryConnections, opts.memoryDurationS))
  sampler.stop()
  const hwm = hwmKb(pids)
  await sleep(opts.afterMs)
  return {
    runtime: g.runtime.label,
    processes: g.processes,
    size: body.label,
    encoding: enc,
    connections: opts.memoryConnections,
    durationS: opts.memoryDurationS,
    requests: w.requests,
    rps: w.rps,
    errors: w.socketErrors + w.statusErrors,
    idleRssKb,
    peakRssKb: sampler.peakKb,
    hwmKb: hwm,
    afterRssKb: rssKb(pids),
  }
}

async function growthCheck (rig: Rig, g: RuntimeGateway, body: Body): Promise<GrowthResult> {
  const { opts } = rig
  const enc = opts.growthEncoding
  const gw = await restartGateway(rig, g)
  await sleep(opts.settleMs)
  const pids = gw.pids()
  const result: GrowthResult = {
    runtime: g.runtime.label,
    processes: g.processes,
    size: body.label,
    encoding: enc,
    concurrency: opts.growthConcurrency,
    idleRssKb: rssKb(pids),
    points: [],
    failed: 0,
    statuses: {},
  }
  const started = Date.now()
  let done = 0
  for (const target of opts.growthProbes) {
    const r = await drive(url(rig, gatewayPeer(g), body, enc), target - done, opts.growthConcurrency, headers(rig, 'gateway', enc))
    done = target
    result.failed += r.failed
    for (const [k, v] of Object.entries(r.statuses)) result.statuses[k] = (result.statuses[k] ?? 0) + v
    // Let the last responses' buffers go before reading RSS.
    await sleep(opts.settleMs)
    result.points.push({ probes: target, rssKb: rssKb(pids), hwmKb: hwmKb(pids), seconds: (Date.now() - started) / 1000 })
    progress(`  growth on ${contenderName(gatewayPeer(g))}: ${target} probes, RSS ${(rssKb(pids) / 1024).toFixed(1)} MB`)
  }
  return result
}

/** The gateway's command line for the report: temp paths as TMP/, and NODE for the binary when there are several. */
function gatewayCommandOf (gateways: readonly RuntimeGateway[], gatewayDir: string): string | undefined {
  const [first] = gateways
  if (first === undefined) return undefined
  const command = first.process.command.replace(`${gatewayDir}/`, 'TMP/')
  return new Set(gateways.map((g) => g.runtime.bin)).size > 1 ? `NODE${command.slice(first.runtime.bin.length)}` : command
}

async function main (): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2))
  if (parsed === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  const opts = parsed
  const started = Date.now()
  installCleanup()
  if (!existsSync(WRK)) throw new Error(`${WRK} is not installed (Debian: apt-get install wrk)`)
  const machine = describeMachine(REPO_ROOT)
  const notes: string[] = []

  let peers = opts.peers
  if (machine.nginx === undefined && peers.includes('nginx')) {
    peers = peers.filter((p) => p !== 'nginx')
    notes.push('nginx is not installed: the nginx peer was skipped, and the target is a Node https server.')
  }
  const needGateway = peers.includes('gateway')
  // Before anything slow: a --node binary that cannot tell its version cannot run the gateway either.
  const runtimes = needGateway ? nodeRuntimes(opts.nodes) : []
  const memory = needGateway && opts.memoryDurationS > 0
  const growth = needGateway && opts.growthProbes.length > 0

  const work = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-'))
  removeOnExit(work)
  // nginx workers may run as another user (nobody): they must reach the bodies.
  chmodSync(work, 0o755)
  const www = path.join(work, 'www')
  mkdirSync(www)
  const labels = [...new Set([...opts.sizes, ...(memory ? [opts.memorySize] : []), ...(growth ? [opts.growthSize] : [])].map((s) => s.toLowerCase()))]
  progress(`bench: generating bodies ${labels.join(', ')}`)
  const bodies = writeBodies(www, labels)
  const bodyOf = (label: string): Body => bodies.find((b) => b.label === label.toLowerCase())!

  const ca = createCa('scrape-gateway bench CA')
  removeOnExit(path.dirname(ca.certFile))
  const cert = ca.issue({ cn: 'bench-target' })
  const token = randomBytes(24).toString('hex')
  const gatewayDir = path.join(work, 'gateway')
  mkdirSync(gatewayDir)
  const tokenFile = path.join(gatewayDir, 'token')
  writeFileSync(tokenFile, token, { mode: 0o600 })

  const target = await startTarget(opts.target, { dir: work, root: www, certFile: cert.certFile, keyFile: cert.keyFile, token, repoRoot: REPO_ROOT })
  progress(`bench: target ${target.kind} on ${target.host}`)
  const proxy = peers.includes('nginx')
    ? await startNginxProxy({ dir: path.join(work, 'nginx-proxy'), target: target.host, caFile: ca.certFile, token })
    : undefined
  if (proxy !== undefined) progress(`bench: nginx proxy on 127.0.0.1:${proxy.port}`)
  const gatewayConfig = writeGatewayConfig({ dir: gatewayDir, target: target.host, bodies, caFile: ca.certFile, tokenFile })
  // One gateway per runtime and process count, all up for the whole run: an idle one costs the measured one nothing.
  const gateways: RuntimeGateway[] = []
  let launcherRssKb: number | undefined
  for (const runtime of runtimes) {
    for (const processes of opts.gatewayProcesses) {
      let gw: GatewayProcess
      const what = `node ${variantLabel(runtime.label, processes)}`
      try {
        gw = await startGateway({ opts, gatewayConfig, gatewayDir }, runtime, processes)
      } catch (err) {
        throw new Error(`the gateway did not start on ${what} (src/, not test/bench, is at fault if the log says so): ${(err as Error).message}`)
      }
      gateways.push({ runtime, processes, process: gw, logs: [...gw.logs] })
      // The launcher's own weight, idle: part of every ×N row's RSS.
      if (processes > 1) launcherRssKb ??= rssKb([gw.child.pid])
      progress(`bench: gateway on ${what} at ${gw.url} (pid${processes > 1 ? `s ${gw.pids().join(', ')}, the launcher first` : ` ${gw.child.pid}`})`)
    }
  }
  const rig: Rig = {
    opts, target, proxy, gateways, gatewayConfig, gatewayDir, token, caPem: ca.cert, script: writeWrkScript(work),
  }
  const gatewayCommand = gatewayCommandOf(gateways, gatewayDir)
  // The peers of each case, in the order they are measured: the gateway once per runtime, where it stands in --peers.
  const contenders: Contender[] = peers.flatMap((peer) => (peer === 'gateway' ? gateways.map(gatewayPeer) : [{ peer, gateway: undefined }]))

  // One idle second: is anything else keeping the CPUs busy?
  const idleBefore = cpuSnapshot(rig, undefined)
  await sleep(1000)
  const idleAfter = cpuSnapshot(rig, undefined)
  const idleHost = hostDeltaMs(idleBefore.host, idleAfter.host)
  const idleLoad = idleHost.totalMs > 0 ? Math.max(0, idleHost.busyMs - (idleAfter.oursMs - idleBefore.oursMs)) / idleHost.totalMs : 0
  progress(`bench: other processes use ${Math.round(idleLoad * 100)}% of the CPUs${idleLoad >= 0.1 ? ' — the machine is not quiet, figures will suffer' : ''}`)

  const cases: CaseResult[] = []
  const caseBodies = opts.sizes.map(bodyOf)
  const perRound = caseBodies.length * opts.encodings.length * opts.connections.length * contenders.length
  const total = perRound * opts.repeat
  // Only a case's first round warms up.
  const estimate = perRound * (opts.quick ? opts.warmupS / opts.connections.length : opts.warmupS) + total * (opts.durationS + 0.3) +
    gateways.length * ((memory ? opts.encodings.length * (opts.memoryDurationS + 4) : 0) + (growth ? 15 : 0))
  progress(`bench: ${total} ${opts.repeat > 1 ? `runs (${perRound} cases × ${opts.repeat})` : 'cases'}, about ${Math.round(estimate)} s`)
  let hwmResettable = true
  let n = 0
  const warmed = new Set<string>()
  for (const body of caseBodies) {
    for (const enc of opts.encodings) {
      // One request per peer first: the setup works, and what the client receives.
      const responses = new Map<Contender, CaseResult['response']>()
      for (const c of contenders) {
        let r: Awaited<ReturnType<typeof fetchOnce>>
        try {
          r = await fetchOnce(url(rig, c, body, enc), headers(rig, c.peer, enc), c.peer === 'direct' ? rig.caPem : undefined)
        } catch (err) {
          r = { status: 0, contentEncoding: '', wireBytes: 0, decodedBytes: 0, reason: (err as Error).message }
        }
        if (r.status !== 200 || r.decodedBytes !== body.bytes) {
          const why = `${contenderName(c)} ${body.label} ${enc}: status ${r.status}, ${r.decodedBytes} of ${body.bytes} bytes decoded ${r.reason}`.trim()
          progress(`bench: check failed: ${why}; skipping ${contenderName(c)} for this case`)
          notes.push(`**Check failed, not measured**: ${why}`)
          continue
        }
        responses.set(c, { contentEncoding: r.contentEncoding, wireBytes: r.wireBytes, decodedBytes: r.decodedBytes })
      }
      for (const connections of opts.connections) {
        // --repeat: round-robin over the peers (each runtime's gateway one of them), so slow drifts of
        // the machine hit every peer alike.
        const runs = new Map<Contender, Run[]>()
        for (let round = 0; round < opts.repeat; round++) {
          for (const c of contenders) {
            n++
            const response = responses.get(c)
            if (response === undefined) continue
            // --quick warms each peer and path up once: JIT and pools stay warm across connection counts.
            // Later rounds follow a warm peer: no warm-up.
            const key = `${contenderName(c)} ${body.label} ${enc}`
            const warmupS = round > 0 || (opts.quick && warmed.has(key)) ? 0 : opts.warmupS
            warmed.add(key)
            const { result, hwmReset } = await measureCase(rig, c, body, enc, connections, response, warmupS)
            hwmResettable &&= hwmReset
            runs.set(c, [...(runs.get(c) ?? []), result])
            const run = opts.repeat > 1 ? ` run ${round + 1}/${opts.repeat}` : ''
            progress(`[${n}/${total}] ${body.label} ${enc} c=${connections} ${contenderName(c)}${run}: ${describeWrk(result.wrk)}`)
          }
        }
        for (const c of contenders) {
          const peerRuns = runs.get(c)
          if (peerRuns !== undefined) cases.push(summarizeRuns(peerRuns))
        }
      }
    }
  }

  const memoryResults: MemoryResult[] = []
  if (memory) {
    for (const enc of opts.encodings) {
      // The runtimes alternate here too.
      for (const g of gateways) {
        progress(`bench: memory scenario on ${g.runtime.label}, ${opts.memorySize} ${enc} c=${opts.memoryConnections} for ${opts.memoryDurationS} s`)
        memoryResults.push(await memoryScenario(rig, g, bodyOf(opts.memorySize), enc))
      }
    }
  }
  const growthResults: GrowthResult[] = []
  if (growth) {
    for (const g of gateways) {
      progress(`bench: growth check on ${g.runtime.label}, ${opts.growthProbes.join(', ')} probes of ${opts.growthSize} ${opts.growthEncoding}`)
      growthResults.push(await growthCheck(rig, g, bodyOf(opts.growthSize)))
    }
  }
  await stopAll()

  // Notes: what makes a figure mean less than it seems.
  const disturbedCases = cases.filter(disturbed)
  if (idleLoad >= 0.1 || disturbedCases.length > 0) {
    const worst = Math.max(idleLoad, ...cases.map((c) => c.otherLoad))
    notes.push(`**The machine was not quiet**: other processes used ${Math.round(idleLoad * 100)}% of the CPUs in the idle second before the cases, ` +
      `and ≥ 10% during ${disturbedCases.length} of ${cases.length} cases (up to ${Math.round(worst * 100)}%; column *other load*). Those rows measure the neighbours too; rerun on a quiet machine.`)
  }
  const saturatedCases = cases.filter(saturated)
  if (saturatedCases.length > 0) {
    notes.push(`${saturatedCases.length} of ${cases.length} cases ran with the host ≥ 90% busy (⚠): on ${machine.cores} cores wrk, the target and the peer share the CPUs, ` +
      'so there req/s and latency measure contention as much as the peer; CPU ms/req stays comparable.')
  }
  const wrkBound = cases.filter((c) => c.wrk.cpuMs / 1000 / c.wrk.durationS >= 0.9 * Math.min(opts.threads, c.connections))
  if (wrkBound.length > 0) {
    notes.push(`wrk used ≥ 90% of its thread(s) in: ${wrkBound.map((c) => `${c.size} ${c.encoding} c=${c.connections} ${peerName(c)}`).join('; ')} — the client may be the limit there.`)
  }
  const fewRequests = cases.filter((c) => c.wrk.requests < 50)
  if (fewRequests.length > 0) {
    notes.push(`Fewer than 50 requests in the measured period (p99 is then about the slowest request): ${fewRequests.map((c) => `${c.size} ${c.encoding} c=${c.connections} ${peerName(c)} (${c.wrk.requests})`).join('; ')}.`)
  }
  if (!hwmResettable) notes.push('VmHWM could not be reset per case (/proc/PID/clear_refs not writable): it is the peak since the process started.')
  if (gateways.length > 1) {
    const scenarios = [...(memory ? ['the memory scenario'] : []), ...(growth ? ['the growth check'] : [])]
    const counts = opts.gatewayProcesses
    const shape = [
      ...(runtimes.length > 1 ? [`on ${runtimes.length} node runtimes`] : []),
      counts.length > 1 ? `as ${counts.join(', ')} processes` : `as ${counts[0]} process${counts[0] === 1 ? '' : 'es'} each`,
    ].join(', ')
    notes.push(`The gateway ran ${shape}: ${gateways.length} gateway peers, all up for the whole run; each case measured ` +
      `${contenders.map(contenderName).join(', ')} in turn${opts.repeat > 1 ? ', in every round' : ''}` +
      (scenarios.length > 0 ? `, and ${scenarios.join(' and ')} ran once per gateway peer, on a fresh start each.` : '.'))
  }
  const lopsided = cases.filter((c) => {
    const ms = c.processCpuMs
    const total = ms?.reduce((a, b) => a + b, 0) ?? 0
    return ms !== undefined && c.connections >= ms.length && total > 0 && Math.max(...ms) / total >= 0.75
  })
  if (lopsided.length > 0) {
    notes.push(`One process did ≥ 75% of the processes' work in: ${lopsided.map((c) => `${c.size} ${c.encoding} c=${c.connections} ${peerName(c)}`).join('; ')} — ` +
      `most of wrk's connections went to it (--gateway-sharing=${opts.gatewaySharing}); those rows show how the port was shared, not what the processes could do together.`)
  }
  if (opts.repeat > 1) {
    notes.push(`Each case was measured ${opts.repeat} times with the peers interleaved; each row is the run with the median CPU ms/req ` +
      '(req/s for direct); the last column gives the range over the runs.')
  }
  if (opts.quick) notes.push('--quick: 1 s periods; a smoke test of the harness and a rough picture, not figures to compare releases with.')
  const extendedCases = cases.filter((c) => c.extended)
  if (extendedCases.length > 0) {
    notes.push(`Fewer completions than connections in ${opts.durationS} s, so measured again for longer (req/s marked *): ` +
      extendedCases.map((c) => `${c.size} ${c.encoding} c=${c.connections} ${peerName(c)} (${c.wrk.durationS.toFixed(1)} s, ${c.wrk.requests} requests)`).join('; ') + '.')
  }
  for (const g of gateways) {
    const gatewayLog = summarizeLogs(g.logs)
    if (gatewayLog.length > 0) notes.push(`The log of the ${contenderName(gatewayPeer(g))} (level warn): ${gatewayLog.join('; ')}.`)
  }

  const report: Report = {
    date: new Date(started),
    totalSeconds: (Date.now() - started) / 1000,
    command: ['npx tsx test/bench/run.ts', ...process.argv.slice(2)].join(' '),
    machine,
    options: opts,
    target: target.kind,
    gatewayCommand,
    runtimes,
    bodies,
    clientHeaders: { ...CLIENT_HEADERS },
    cases,
    memory: memoryResults,
    growth: growthResults,
    hwmResettable,
    launcherRssKb,
    notes,
  }
  const markdown = renderMarkdown(report)
  mkdirSync(path.dirname(opts.out), { recursive: true })
  writeFileSync(opts.out, markdown)
  const json = opts.out.replace(/\.md$/, '') + '.json'
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n')
  process.stdout.write(markdown)
  progress(`bench: wrote ${path.relative(process.cwd(), opts.out)} and ${path.relative(process.cwd(), json)} in ${report.totalSeconds.toFixed(0)} s`)
  return 0
}

main().then((code) => process.exit(code), async (err: Error) => {
  if (isStopping()) return // the signal handler exits
  process.stderr.write(`bench: ${err.message}\n`)
  await stopAll()
  process.exit(1)
})

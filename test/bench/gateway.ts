// The gateway under test, in a process of its own so that its CPU and RSS are
// its alone: `node dist/src/main.js --config.file=... --log.level=warn` (built first);
// with --gateway-processes=N, N of them behind one port through launcher.mjs.
// One job per (body size, upstream encoding), all for the one bench target.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ready } from '../helpers/daemon.js'
import type { Body } from './bodies.js'
import { freePort, startChild, tail, waitReady, type Child } from './procs.js'

let tsx: string[] | undefined

/** How to run a .ts entry point (the Node bench target): `node --import tsx`, else tsx's CLI. */
export function tsxCommand (repoRoot: string): string[] {
  if (tsx !== undefined) return tsx
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', ''], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 })
  tsx = r.status === 0 ? [process.execPath, '--import', 'tsx'] : [path.join(repoRoot, 'node_modules', '.bin', 'tsx')]
  return tsx
}

let built = false

/** A node binary that runs the gateway peer (--node), and its `--version`. */
export interface NodeRuntime {
  bin: string
  version: string
  /** What the report calls it: the version, with the binary when two binaries report one version. */
  label: string
}

function nodeVersion (bin: string): string {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 })
  const version = r.status === 0 ? r.stdout.trim() : ''
  if (version === '') throw new Error(`--node: \`${bin} --version\` failed: ${r.error?.message ?? (r.stderr.trim() || `exit ${r.status}`)}`)
  return version
}

/** The --node binaries with their versions; a bad binary fails here, before any case runs. */
export function nodeRuntimes (bins: readonly string[]): NodeRuntime[] {
  const versions = bins.map(nodeVersion)
  // Two builds of one version (an A/B of the runtime): the path tells the rows apart.
  return bins.map((bin, i) => {
    const version = versions[i]!
    const clash = versions.filter((v) => v === version).length > 1
    return { bin, version, label: clash ? `${version} (${bin})` : version }
  })
}

/** The node flags of the Dockerfile's ENTRYPOINT: the bench measures what production runs. */
export const PRODUCTION_NODE_ARGS: readonly string[] = ['--max-semi-space-size=2']

/**
 * The gateway runs as it does in production (the Dockerfile): compiled JS on
 * plain node, built once per run with `tsc -p tsconfig.build.json`. Running it
 * under tsx would measure tsx's loader and source maps too.
 */
export function buildGateway (repoRoot: string): string {
  if (!built) {
    const r = spawnSync(path.join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 })
    if (r.status !== 0) throw new Error(`building the gateway failed:\n${r.stdout}${r.stderr}`)
    built = true
  }
  return path.join(repoRoot, 'dist', 'src', 'main.js')
}

export type UpstreamEncoding = 'identity' | 'gzip'

export function jobName (body: Body, upstream: UpstreamEncoding): string {
  return `bench-${body.label.toLowerCase()}-${upstream}`
}

export interface GatewayConfigOptions {
  dir: string
  target: string
  bodies: readonly Body[]
  caFile: string
  tokenFile: string
}

/** enable_compression picks what the gateway asks the target for: false sends Accept-Encoding: identity. */
export function writeGatewayConfig (o: GatewayConfigOptions): string {
  const jobs = o.bodies.flatMap((body) => (['identity', 'gzip'] as const).map((upstream) => `
  - job_name: ${jobName(body, upstream)}
    scheme: https
    metrics_path: ${body.path}
    enable_compression: ${upstream === 'gzip'}
    bearer_token_file: ${JSON.stringify(o.tokenFile)}
    tls_config:
      ca_file: ${JSON.stringify(o.caFile)}
    static_configs:
      - targets: ['${o.target}']`)).join('\n')
  const file = path.join(o.dir, 'scrape-gateway.yml')
  writeFileSync(file, `# written by test/bench/gateway.ts
global:
  scrape_interval: 1m
  scrape_timeout: 30s

scrape_configs:${jobs}
`)
  return file
}

/**
 * How N gateway processes share the one listening port (launcher.mjs says how each works):
 * cluster (SCHED_NONE, the kernel picks the acceptor), cluster-rr (the primary deals connections out),
 * reuseport (one SO_REUSEPORT socket per process, node >= 22.12).
 */
export type PortSharing = 'cluster' | 'cluster-rr' | 'reuseport'
export const PORT_SHARINGS: readonly PortSharing[] = ['cluster', 'cluster-rr', 'reuseport']

export interface GatewayProcess {
  /** The process the bench started: the gateway itself, or with several processes, launcher.mjs. */
  child: Child
  url: string
  /** Where the started process writes; with several processes, the launcher's own lines. */
  log: string
  /** Every log file of the peer: the gateway's, or the launcher's and then each process's. */
  logs: string[]
  /** What each gateway process runs (the launcher runs this once per process). */
  command: string
  /** How many gateway processes serve the port. */
  processes: number
  /** The pids whose CPU and RSS are the peer's: the gateway, or the launcher and every process it started. */
  pids(): number[]
  /** The gateway processes alone, in start order (the launcher left out): the per-process CPU split. */
  workers(): number[]
  stop(): Promise<void>
}

export interface GatewayStart {
  repoRoot: string
  configFile: string
  dir: string
  kind: 'dist' | 'floor'
  /** The node binary (--node). With several processes, the launcher runs on it too, so its workers do. */
  node: string
  /** Gateway processes behind the one port (--gateway-processes); 1 is the gateway alone, as the image runs it. */
  processes: number
  sharing: PortSharing
}

let starts = 0

/**
 * Starts the gateway (or, kind 'floor', node-floor.mjs) on the node binary `node`: one process as the
 * image runs it, or `processes` of them behind one port through launcher.mjs. Resolves once every
 * process serves.
 */
export async function startGatewayProcess (o: GatewayStart): Promise<GatewayProcess> {
  mkdirSync(o.dir, { recursive: true })
  const port = await freePort()
  const n = ++starts
  const log = path.join(o.dir, `gateway-${n}.log`)
  const main = o.kind === 'floor' ? path.join(o.repoRoot, 'test', 'bench', 'node-floor.mjs') : buildGateway(o.repoRoot)
  // SG_BENCH_NODE_ARGS: extra node flags for the gateway alone, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = [...PRODUCTION_NODE_ARGS, ...(process.env.SG_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')]
  const args = [`--config.file=${o.configFile}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn']
  const command = `${o.node} ${[...nodeArgs, main, ...args].join(' ')}`
  const url = `http://127.0.0.1:${port}`
  if (o.processes === 1) {
    const child = startChild('gateway', o.node, [...nodeArgs, main, ...args], { cwd: o.repoRoot, log })
    await waitReady(child, async () => ready(url), log, 30_000)
    const pids = (): number[] => [child.pid]
    return { child, url, log, logs: [log], command, processes: 1, pids, workers: pids, stop: async () => child.stop() }
  }
  const logPrefix = path.join(o.dir, `gateway-${n}`)
  const readyFile = `${logPrefix}.ready.json`
  const logs = [log, ...Array.from({ length: o.processes }, (_, i) => `${logPrefix}.process-${i + 1}.log`)]
  const spec = { processes: o.processes, sharing: o.sharing, execArgv: nodeArgs, main, args, logPrefix, readyFile }
  const launcher = path.join(o.repoRoot, 'test', 'bench', 'launcher.mjs')
  // Own process group (startChild): stopping the launcher's group reaches every process it started.
  const child = startChild('gateway launcher', o.node, [launcher, JSON.stringify(spec)], { cwd: o.repoRoot, log })
  try {
    // The ready file comes once every process listens; /-/ready then answers from whichever gets the connection.
    await waitReady(child, async () => existsSync(readyFile) && await ready(url), log, 30_000)
  } catch (err) {
    // The launcher's log names the process that failed; the processes' own logs say why.
    const tails = logs.slice(1).filter(existsSync).map((f) => `--- ${path.basename(f)}\n${tail(f)}`)
    throw new Error([(err as Error).message, ...tails].join('\n'))
  }
  const workerPids = (JSON.parse(readFileSync(readyFile, 'utf8')) as { pids: number[] }).pids
  return {
    child,
    url,
    log,
    logs,
    command,
    processes: o.processes,
    pids: () => [child.pid, ...workerPids],
    workers: () => [...workerPids],
    stop: async () => child.stop(),
  }
}

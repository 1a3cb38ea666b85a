// The gateway under test, in a process of its own so that its CPU and RSS are
// its alone: `node dist/src/main.js --config.file=... --log.level=warn` (built first).
// One job per (body size, upstream encoding), all for the one bench target.
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ready } from '../helpers/daemon.js'
import type { Body } from './bodies.js'
import { freePort, startChild, waitReady, type Child } from './procs.js'

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

export interface GatewayProcess {
  child: Child
  url: string
  log: string
  command: string
  /** The pids whose CPU and RSS are the gateway's (one, unless tsx's CLI wraps it). */
  pids(): number[]
  stop(): Promise<void>
}

let starts = 0

/** Starts the gateway (or, kind 'floor', node-floor.mjs) on the node binary `node`. */
export async function startGatewayProcess (repoRoot: string, configFile: string, dir: string, kind: 'dist' | 'floor', node: string): Promise<GatewayProcess> {
  mkdirSync(dir, { recursive: true })
  const port = await freePort()
  const log = path.join(dir, `gateway-${++starts}.log`)
  const main = kind === 'floor' ? path.join(repoRoot, 'test', 'bench', 'node-floor.mjs') : buildGateway(repoRoot)
  // SG_BENCH_NODE_ARGS: extra node flags for the gateway alone, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = [...PRODUCTION_NODE_ARGS, ...(process.env.SG_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')]
  const args = [...nodeArgs, main, `--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn']
  const child = startChild('gateway', node, args, { cwd: repoRoot, log })
  const url = `http://127.0.0.1:${port}`
  await waitReady(child, async () => ready(url), log, 30_000)
  const pids = (): number[] => [child.pid]
  return { child, url, log, command: `${node} ${args.join(' ')}`, pids, stop: async () => child.stop() }
}

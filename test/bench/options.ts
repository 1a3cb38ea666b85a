// The benchmark's command line: flags, defaults, and the --quick preset.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { PORT_SHARINGS, type PortSharing } from './gateway.js'

/**
 * What the target serves the gateway / nginx, and what the client accepts:
 * - identity: the target serves identity; the client sends Accept-Encoding: identity.
 * - gzip:     the target serves gzip; the client sends Accept-Encoding: gzip, as Prometheus does.
 *             nginx and the gateway pass the gzip through.
 * - gunzip:   the target serves gzip; the client sends Accept-Encoding: identity, so nginx must
 *             gunzip too (direct then gets identity from the target).
 */
export type Encoding = 'identity' | 'gzip' | 'gunzip'
export const ENCODINGS: readonly Encoding[] = ['identity', 'gzip', 'gunzip']

export type Peer = 'direct' | 'nginx' | 'gateway'
export const PEERS: readonly Peer[] = ['direct', 'nginx', 'gateway']

export type TargetKind = 'auto' | 'nginx' | 'node'

export interface BenchOptions {
  sizes: string[]
  connections: number[]
  durationS: number
  warmupS: number
  encodings: Encoding[]
  peers: Peer[]
  /** wrk -t, capped at the connection count. */
  threads: number
  /** Measured runs per case, peers interleaved; the report shows the median run and the spread. */
  repeat: number
  target: TargetKind
  /** What runs as the gateway peer: the gateway (dist), or the bare Node relay of node-floor.mjs. */
  gateway: 'dist' | 'floor'
  /**
   * The node binaries that run the gateway peer (--node). With more than one, the gateway on each is a
   * peer of its own in every case, interleaved with the others, so the runtimes' ratios come from one run.
   */
  nodes: string[]
  /**
   * Gateway processes behind the one port (--gateway-processes): each count is a gateway peer of its own
   * on every runtime, interleaved with the other peers; 1 is the gateway alone, as the image runs it.
   */
  gatewayProcesses: number[]
  /** How more than one process shares the port (--gateway-sharing; launcher.mjs). */
  gatewaySharing: PortSharing
  /** wrk --timeout: a response slower than this counts as a timeout error, not as latency. */
  timeoutS: number
  /** The memory scenario: `memoryConnections` concurrent `memorySize` bodies for `memoryDurationS` (0 = skip). */
  memoryDurationS: number
  memorySize: string
  memoryConnections: number
  /** The growth check: RSS after each of these probe counts (empty = skip). */
  growthProbes: number[]
  growthSize: string
  growthConcurrency: number
  growthEncoding: Encoding
  out: string
  quick: boolean
  /** Pause before reading an idle or post-load RSS (a fresh gateway, the last responses' buffers). */
  settleMs: number
  /** Pause after the memory scenario's load before the 'RSS after' reading. */
  afterMs: number
}

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results')
/** The repository root: test/bench/../.. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export const USAGE = `usage: npx tsx test/bench/run.ts [flags]

Measures GET /probe of the gateway against nginx doing the same job and
against the target itself (direct), with wrk, on 127.0.0.1.

  --sizes=100k,1m,10m          exposition body sizes (k = 1,000 bytes, m = 1,000,000)
  --connections=1,32           wrk connection counts
  --duration=5                 measured seconds per case (whole seconds, wrk's unit)
  --warmup=2                   warm-up seconds per case before the measured period (0 = none)
  --encodings=identity,gzip    identity | gzip | gunzip (see the report's notes)
  --peers=direct,nginx,gateway which peers to measure
  --threads=1                  wrk threads (capped at the connection count)
  --repeat=1                   measure each case N times, peers interleaved (nginx, gateway, direct, nginx, ...);
                               report the median run by CPU ms/req (req/s for direct) and the spread
  --target=auto                auto | nginx | node: what serves the bodies (auto = nginx when installed)
  --gateway=dist               dist | floor: the gateway peer is the gateway (compiled), or node-floor.mjs,
                               a bare node:http + undici relay of the same job (the platform's floor)
  --node=BIN[,BIN...]          the node binaries that run the gateway peer (default: SG_BENCH_NODE, else the
                               node running the harness). With several, every case measures the gateway once
                               per binary, interleaved with the other peers (direct, nginx, gateway on BIN1,
                               gateway on BIN2, ...), and so do the memory scenario and the growth check; the
                               report sets the runtimes side by side, labelled with each binary's --version
  --gateway-processes=N[,M...] gateway processes behind the one port (default 1: the gateway alone, as the
                               image runs it). Each count is a peer of its own on every --node runtime,
                               interleaved with the others (..., gateway, gateway ×2, ...), and so are the memory
                               scenario and the growth check; with more than one count the report adds a Scaling
                               table (req/s, CPU ms/req, cores used and the CPU split per process, ratios to the
                               first count). More than one process runs through test/bench/launcher.mjs, each
                               process with the single process's flags; CPU and RSS count every process of the
                               peer, the launcher included
  --gateway-sharing=cluster    how the processes share the port: cluster = node:cluster, SCHED_NONE (one socket,
                               the kernel hands each connection to a process that accepts it; node 20 and 22);
                               cluster-rr = node:cluster, SCHED_RR (the launcher accepts every connection and
                               deals it out); reuseport = one SO_REUSEPORT socket per process, the kernel hashes
                               connections over them (node >= 22.12)
  --timeout=30                 wrk per-request timeout, seconds
  --memory-duration=10         memory scenario seconds (0 = skip)
  --memory-size=10m            memory scenario body size
  --memory-connections=32      memory scenario concurrency
  --growth-probes=1000,10000   RSS after each count of probes through a fresh gateway ('' = skip)
  --growth-size=100k           growth check body size
  --growth-concurrency=8       growth check concurrency
  --growth-encoding=gzip       growth check encoding
  --out=FILE                   Markdown report (default test/bench/results/latest.md; a .json goes next to it)
  --quick                      about a minute: sizes 100k,10m, 1 s measured, 1 s warm-up once per peer, size and
                               encoding (not again for the next connection count), 2 s memory scenario
  --help                       this text

Environment, for the gateway process alone:
  SG_BENCH_NODE=BIN[,BIN...]   the default of --node
  SG_BENCH_NODE_ARGS='…'       extra node flags after the Dockerfile's, e.g. '--cpu-prof --cpu-prof-dir=DIR'
`

function list (s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '')
}

function positiveInts (flag: string, s: string, allowZero = false): number[] {
  return list(s).map((x) => {
    const n = Number(x)
    if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`--${flag}: ${JSON.stringify(x)} is not a ${allowZero ? 'non-negative' : 'positive'} integer`)
    return n
  })
}

function oneInt (flag: string, s: string, allowZero = false): number {
  const [n] = positiveInts(flag, s, allowZero)
  if (n === undefined) throw new Error(`--${flag} needs a value`)
  return n
}

function oneOf<T extends string> (flag: string, allowed: readonly T[], s: string): T {
  const found = allowed.find((a) => a === s)
  if (found === undefined) throw new Error(`--${flag}: ${JSON.stringify(s)} is not one of ${allowed.join(', ')}`)
  return found
}

export function parseOptions (argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      encodings: { type: 'string' },
      peers: { type: 'string' },
      threads: { type: 'string' },
      repeat: { type: 'string' },
      target: { type: 'string' },
      gateway: { type: 'string' },
      node: { type: 'string' },
      'gateway-processes': { type: 'string' },
      'gateway-sharing': { type: 'string' },
      timeout: { type: 'string' },
      'memory-duration': { type: 'string' },
      'memory-size': { type: 'string' },
      'memory-connections': { type: 'string' },
      'growth-probes': { type: 'string' },
      'growth-size': { type: 'string' },
      'growth-concurrency': { type: 'string' },
      'growth-encoding': { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) return 'help'
  const quick = values.quick
  // --quick only changes defaults; explicit flags still win.
  const d = quick
    ? { sizes: '100k,10m', duration: '1', warmup: '1', memoryDuration: '2' }
    : { sizes: '100k,1m,10m', duration: '5', warmup: '2', memoryDuration: '10' }

  const opts: BenchOptions = {
    sizes: list(values.sizes ?? d.sizes),
    connections: positiveInts('connections', values.connections ?? '1,32'),
    durationS: oneInt('duration', values.duration ?? d.duration),
    warmupS: oneInt('warmup', values.warmup ?? d.warmup, true),
    encodings: list(values.encodings ?? 'identity,gzip').map((e) => oneOf('encodings', ENCODINGS, e)),
    peers: list(values.peers ?? PEERS.join(',')).map((p) => oneOf('peers', PEERS, p)),
    threads: oneInt('threads', values.threads ?? '1'),
    repeat: oneInt('repeat', values.repeat ?? '1'),
    target: oneOf<TargetKind>('target', ['auto', 'nginx', 'node'], values.target ?? 'auto'),
    gateway: oneOf('gateway', ['dist', 'floor'] as const, values.gateway ?? 'dist'),
    nodes: list(values.node ?? process.env.SG_BENCH_NODE ?? process.execPath),
    gatewayProcesses: positiveInts('gateway-processes', values['gateway-processes'] ?? '1'),
    gatewaySharing: oneOf('gateway-sharing', PORT_SHARINGS, values['gateway-sharing'] ?? 'cluster'),
    timeoutS: oneInt('timeout', values.timeout ?? '30'),
    memoryDurationS: oneInt('memory-duration', values['memory-duration'] ?? d.memoryDuration, true),
    memorySize: values['memory-size'] ?? '10m',
    memoryConnections: oneInt('memory-connections', values['memory-connections'] ?? '32'),
    growthProbes: positiveInts('growth-probes', values['growth-probes'] ?? '1000,10000'),
    growthSize: values['growth-size'] ?? '100k',
    growthConcurrency: oneInt('growth-concurrency', values['growth-concurrency'] ?? '8'),
    growthEncoding: oneOf('growth-encoding', ENCODINGS, values['growth-encoding'] ?? 'gzip'),
    out: path.resolve(values.out ?? path.join(RESULTS_DIR, 'latest.md')),
    quick,
    settleMs: quick ? 500 : 1000,
    afterMs: quick ? 1000 : 2000,
  }
  if (opts.sizes.length === 0) throw new Error('--sizes is empty')
  if (opts.connections.length === 0) throw new Error('--connections is empty')
  if (opts.encodings.length === 0) throw new Error('--encodings is empty')
  if (opts.nodes.length === 0) throw new Error('--node is empty')
  // Rows and log notes are told apart by runtime: one binary twice would be one peer measured twice.
  const twice = opts.nodes.find((bin, i) => opts.nodes.indexOf(bin) !== i)
  if (twice !== undefined) throw new Error(`--node: ${twice} is given twice`)
  if (opts.gatewayProcesses.length === 0) throw new Error('--gateway-processes is empty')
  // One count twice would be one peer measured twice, under one name.
  const again = opts.gatewayProcesses.find((n, i) => opts.gatewayProcesses.indexOf(n) !== i)
  if (again !== undefined) throw new Error(`--gateway-processes: ${again} is given twice`)
  for (let i = 1; i < opts.growthProbes.length; i++) {
    if (opts.growthProbes[i]! <= opts.growthProbes[i - 1]!) throw new Error('--growth-probes must increase')
  }
  return opts
}

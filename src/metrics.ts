// The gateway's own metrics. prom-client writes the exposition format and
// does the histogram maths; which process and runtime families the gateway
// exports is its own choice (runtimeMetrics, below), not prom-client's
// collectDefaultMetrics: promtool refuses three of those (gauges named
// `_total`), they cannot be picked one by one, and every registry they are
// collected into starts its own GC observer and event-loop monitor that
// nothing stops (buildServer makes a registry per server).
import { readdirSync } from 'node:fs'
import { PerformanceObserver, constants as perfConstants, monitorEventLoopDelay, performance, type PerformanceEntry } from 'node:perf_hooks'
import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client'
import { readBoundedFile } from './config/bounded-file.js'
import { REVISION, VERSION } from './version.js'

export interface GatewayMetricsOptions {
  /**
   * Milliseconds on a clock that never goes back (default `performance.now`):
   * when a target's certificate series goes stale. Tests pass their own.
   */
  now?: () => number
}

export class GatewayMetrics {
  readonly registry = new Registry()

  readonly probes = new Counter({
    name: 'scrape_gateway_probes_total',
    help: 'Probes by job and result: "success", "canceled" (the caller left) or the error code.',
    labelNames: ['job', 'result'] as const,
    registers: [this.registry],
  })

  readonly duration = new Histogram({
    name: 'scrape_gateway_probe_duration_seconds',
    help: 'Time from the probe request to the end of the relayed body.',
    labelNames: ['job'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  })

  readonly bodyBytes = new Counter({
    name: 'scrape_gateway_probe_body_bytes_total',
    help: 'Body bytes relayed to callers, by job: decoded, or as the target sent them when its gzip is passed through to a caller that accepts gzip.',
    labelNames: ['job'] as const,
    registers: [this.registry],
  })

  readonly inFlight = this.#gauge('scrape_gateway_probes_in_flight', 'Probes being served right now.')
  readonly reloadSuccess = this.#gauge('scrape_gateway_config_last_reload_successful', 'Whether the last configuration load or reload succeeded.')
  readonly reloadTimestamp = this.#gauge('scrape_gateway_config_last_reload_success_timestamp_seconds', 'When the configuration was last loaded successfully.')
  readonly jobs = this.#gauge('scrape_gateway_jobs', 'Jobs in the loaded configuration.')

  readonly #certificates: TargetCertificates

  constructor (options: GatewayMetricsOptions = {}) {
    new Gauge({
      name: 'scrape_gateway_build_info',
      help: 'Always 1; the labels say which gateway this is: its version, the git commit it was built from, and the Node.js it runs on.',
      labelNames: ['version', 'revision', 'nodejs_version'] as const,
      registers: [this.registry],
    }).set({ version: VERSION, revision: REVISION, nodejs_version: process.version }, 1)
    this.#certificates = new TargetCertificates(this.registry, options.now ?? (() => performance.now()))
    for (const metric of runtimeMetrics()) this.registry.registerMetric(metric)
  }

  /**
   * A probe of `job` at `target` completed a TLS handshake whose leaf
   * certificate expires at `notAfterSeconds` (Unix seconds): the target's
   * `scrape_gateway_target_tls_not_after_seconds` series takes that value,
   * and disappears once `staleAfterMs` pass without another call for it (10
   * of the job's scrape intervals). A value that is not a finite number is
   * not recorded.
   */
  observeTargetCertificate (job: string, target: string, notAfterSeconds: number, staleAfterMs: number): void {
    this.#certificates.observe(job, target, notAfterSeconds, staleAfterMs)
  }

  /** Drops the certificate series of every job not named (after a reload: the jobs still configured). */
  forgetJobsExcept (jobs: Iterable<string>): void {
    this.#certificates.forgetJobsExcept(jobs)
  }

  /** An unlabelled gauge in this registry. */
  #gauge (name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] })
  }
}

/** When a target's series was last set, and its value. */
interface Seen {
  notAfterSeconds: number
  /** On the `now` clock: from then on the series is gone. */
  staleAt: number
}

/**
 * `scrape_gateway_target_tls_not_after_seconds{job,target}`: the leaf
 * certificate each target presented at its last TLS handshake. Bounded in
 * time, not only by the target policy: a job with `allowed_targets` ranges
 * may be probed at a great many targets over a day, so a target not seen for
 * its job's stale window leaves both the exposition and memory.
 *
 * Each job's map is kept in the order its series go stale (an observation
 * moves its target to the end, and a job's window is one length), so pruning
 * stops at the first live series: an observation costs O(1) amortised, and
 * a scrape only reads what it writes out.
 */
class TargetCertificates {
  readonly #byJob = new Map<string, { staleAfterMs: number, targets: Map<string, Seen> }>()
  readonly #now: () => number

  constructor (registry: Registry, now: () => number) {
    this.#now = now
    const certificates = this
    registry.registerMetric(new Gauge({
      name: 'scrape_gateway_target_tls_not_after_seconds',
      help: 'When the leaf certificate of the target\'s last TLS handshake through the gateway expires (its notAfter), in Unix seconds. A target not probed for 10 of its job\'s scrape intervals drops out.',
      labelNames: ['job', 'target'] as const,
      registers: [],
      collect () { certificates.#expose(this) },
    }))
  }

  observe (job: string, target: string, notAfterSeconds: number, staleAfterMs: number): void {
    if (!Number.isFinite(notAfterSeconds) || !Number.isFinite(staleAfterMs)) return
    const now = this.#now()
    let entry = this.#byJob.get(job)
    if (entry === undefined) {
      entry = { staleAfterMs, targets: new Map() }
      this.#byJob.set(job, entry)
    }
    entry.targets.delete(target)
    entry.targets.set(target, { notAfterSeconds, staleAt: now + staleAfterMs })
    if (entry.staleAfterMs !== staleAfterMs) {
      // The job's scrape_interval changed on a reload: put its targets back
      // in the order they go stale before relying on that order again.
      entry.staleAfterMs = staleAfterMs
      entry.targets = new Map([...entry.targets].sort(([, a], [, b]) => a.staleAt - b.staleAt))
    }
    prune(entry.targets, now)
  }

  forgetJobsExcept (jobs: Iterable<string>): void {
    const keep = new Set(jobs)
    for (const job of this.#byJob.keys()) if (!keep.has(job)) this.#byJob.delete(job)
  }

  #expose (gauge: Gauge<'job' | 'target'>): void {
    gauge.reset()
    const now = this.#now()
    for (const [job, { targets }] of this.#byJob) {
      prune(targets, now)
      if (targets.size === 0) this.#byJob.delete(job)
      for (const [target, seen] of targets) gauge.set({ job, target }, seen.notAfterSeconds)
    }
  }
}

/** Drops the stale series at the front of a map kept in staleAt order. */
function prune (targets: Map<string, Seen>, now: number): void {
  for (const [target, seen] of targets) {
    if (seen.staleAt > now) return
    targets.delete(target)
  }
}

// The process and runtime families (README, Metrics, says what each is for
// and what was left out). They describe the process, so there is one set per
// process, made when the first registry asks and shared by every registry:
// the GC observer and the event-loop monitor run once, for the process's
// life. All but the GC counters are read when /metrics is scraped.
let runtime: readonly Metric[] | undefined

function runtimeMetrics (): readonly Metric[] {
  runtime ??= [...processMetrics(), ...nodejsMetrics()]
  return runtime
}

/** A gauge set from `read()` at each scrape, in no registry until one adds it. */
function sampled (name: string, help: string, read: () => number | undefined): Gauge {
  return new Gauge({
    name,
    help,
    registers: [],
    collect () {
      const value = read()
      if (value !== undefined) this.set(value)
    },
  })
}

/** A counter that follows a total the process keeps (prom-client counters only go up by increments). */
function followed (name: string, help: string, read: () => number): Counter {
  let last = 0
  return new Counter({
    name,
    help,
    registers: [],
    collect () {
      const total = read()
      if (total > last) this.inc(total - last)
      last = total
    },
  })
}

/** Client libraries' standard process_* names, so a dashboard for any exporter reads them. */
function processMetrics (): Metric[] {
  const metrics: Metric[] = [
    followed('process_cpu_user_seconds_total', 'User CPU time spent, in seconds.', () => process.cpuUsage().user / 1e6),
    followed('process_cpu_system_seconds_total', 'System (kernel) CPU time spent, in seconds.', () => process.cpuUsage().system / 1e6),
    followed('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', () => {
      const { user, system } = process.cpuUsage()
      return (user + system) / 1e6
    }),
    sampled('process_start_time_seconds', 'When the process started, in Unix seconds.', () => performance.timeOrigin / 1000),
    sampled('process_resident_memory_bytes', 'Resident memory size, in bytes.', () => process.memoryUsage.rss()),
  ]
  // A gateway's sockets are file descriptors: running out is EMFILE on
  // every new connection. Linux's /proc says how many are open and the
  // limit; elsewhere (a developer's macOS) the two are not exported.
  if (process.platform === 'linux') {
    metrics.push(
      sampled('process_open_fds', 'Open file descriptors.', () => {
        try {
          return readdirSync('/proc/self/fd').length - 1 // the directory's own descriptor, closed by now
        } catch {
          return undefined
        }
      }),
      sampled('process_max_fds', 'The limit on open file descriptors (the soft limit, RLIMIT_NOFILE).', maxFds)
    )
  }
  return metrics
}

/** The soft "Max open files" of /proc/self/limits. */
function maxFds (): number | undefined {
  try {
    const line = readBoundedFile('/proc/self/limits', 64 * 1024).split('\n').find((l) => l.startsWith('Max open files'))
    const soft = Number(line?.slice('Max open files'.length).trim().split(/\s+/)[0])
    return Number.isFinite(soft) ? soft : undefined
  } catch {
    return undefined
  }
}

/** How often the event-loop monitor samples, in ms (prom-client's and under-pressure's resolution). */
const EVENT_LOOP_RESOLUTION_MS = 10

function nodejsMetrics (): Metric[] {
  const memory = (field: 'heapTotal' | 'heapUsed' | 'external') => () => process.memoryUsage()[field]
  return [
    sampled('nodejs_heap_size_total_bytes', 'V8 heap size, in bytes.', memory('heapTotal')),
    sampled('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', memory('heapUsed')),
    // Relayed bodies are Buffers, which live outside the V8 heap.
    sampled('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript objects (Buffers among them), in bytes.', memory('external')),
    ...eventLoopDelay(),
    activeResources(),
    ...garbageCollection(),
  ]
}

/**
 * Event-loop delay percentiles and maximum since the previous scrape (the
 * monitor is reset at each), with the monitor's own sampling interval taken
 * off: node's histogram records the time between samples, so an idle loop
 * reads 10 ms (prom-client#370). What is left is how late the loop ran,
 * measured as under-pressure measures it before refusing probes (503
 * SG_OVERLOADED when a second's mean passes 1 s).
 */
function eventLoopDelay (): Metric[] {
  const monitor = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS })
  monitor.enable()
  // An empty window (two scrapes within one sample) reads 0, never the empty histogram's min of 2^63 ns.
  const late = (ns: number): number => monitor.count === 0 ? 0 : Math.max(0, ns / 1e9 - EVENT_LOOP_RESOLUTION_MS / 1000)
  const percentile = (p: number): Gauge => sampled(`nodejs_eventloop_lag_p${p}_seconds`, `The ${p}th percentile of the event loop's delay since the previous scrape, in seconds.`, () => late(monitor.percentile(p)))
  return [
    percentile(50),
    percentile(90),
    percentile(99),
    // Read last, so it resets the window the percentiles above were read from.
    sampled('nodejs_eventloop_lag_max_seconds', 'The event loop\'s longest delay since the previous scrape, in seconds.', () => {
      const max = late(monitor.max)
      monitor.reset()
      return max
    }),
  ]
}

/**
 * What keeps the event loop alive, by type (TCPSocketWrap, TLSWrap, Timeout,
 * ...): a connection leak shows here first. process.getActiveResourcesInfo()
 * is the documented call that covers handles, requests and timers; its sum
 * is the total, so no `_total` gauge beside it.
 */
function activeResources (): Gauge<'type'> {
  return new Gauge({
    name: 'nodejs_active_resources',
    help: 'Resources keeping the event loop alive, by type.',
    labelNames: ['type'] as const,
    registers: [],
    collect () {
      const counts = new Map<string, number>()
      for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
      this.reset()
      for (const [type, n] of counts) this.set({ type }, n)
    },
  })
}

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
}

/**
 * Garbage collections and the time they took, by kind, counting every one:
 * node hands an observer the collections of a whole event-loop turn at once,
 * and prom-client's histogram takes only the first of them (on the image's
 * 2 MiB semi-space, 200 of 21,000; README, Metrics). Two counters per kind
 * instead of a 9-series histogram: the rate of collections and the share of
 * time spent in them are what an operator reads.
 */
function garbageCollection (): Metric[] {
  const runs = new Counter({
    name: 'nodejs_gc_runs_total',
    help: 'Garbage collections, by kind: major, minor, incremental or weakcb.',
    labelNames: ['kind'] as const,
    registers: [],
  })
  const seconds = new Counter({
    name: 'nodejs_gc_duration_seconds_total',
    help: 'Time spent in garbage collections, by kind, in seconds.',
    labelNames: ['kind'] as const,
    registers: [],
  })
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other'
      runs.inc({ kind })
      seconds.inc({ kind }, entry.duration / 1000)
    }
  }).observe({ entryTypes: ['gc'] })
  return [runs, seconds]
}

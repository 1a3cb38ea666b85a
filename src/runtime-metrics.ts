// The process and runtime families (README, Metrics, says what each is for
// and what was left out). They describe the process, so there is one set per
// process, made when the first registry asks and shared by every registry:
// the GC observer and the event-loop monitor run once, for the process's
// life. All but the GC counters are read when /metrics is scraped.
import { readdirSync } from 'node:fs'
import { PerformanceObserver, constants as perfConstants, monitorEventLoopDelay, performance, type PerformanceEntry } from 'node:perf_hooks'
import { Counter, Gauge, type Metric } from 'prom-client'
import { readBoundedFile } from './config/bounded-file.js'

let runtime: readonly Metric[] | undefined

export function runtimeMetrics (): readonly Metric[] {
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

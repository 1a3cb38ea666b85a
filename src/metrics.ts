// The gateway's own metrics. prom-client writes the exposition format and
// does the histogram maths; which process and runtime families the gateway
// exports is its own choice (src/runtime-metrics.ts), not prom-client's
// collectDefaultMetrics: promtool refuses three of those (gauges named
// `_total`), they cannot be picked one by one, and every registry they are
// collected into starts its own GC observer and event-loop monitor that
// nothing stops (buildServer makes a registry per server).
import { performance } from 'node:perf_hooks'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { REVISION, VERSION } from './version.js'
import { runtimeMetrics } from './runtime-metrics.js'
import { TargetCertificates } from './target-certificates.js'

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

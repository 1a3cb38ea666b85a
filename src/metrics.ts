// The gateway's own metrics (prom-client: the exposition format, default
// process metrics and histogram maths are not worth writing again).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

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

  constructor () {
    collectDefaultMetrics({ register: this.registry })
  }

  /** An unlabelled gauge in this registry. */
  #gauge (name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] })
  }
}

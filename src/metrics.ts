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

  readonly inFlight = new Gauge({
    name: 'scrape_gateway_probes_in_flight',
    help: 'Probes being served right now.',
    registers: [this.registry],
  })

  readonly reloadSuccess = new Gauge({
    name: 'scrape_gateway_config_last_reload_successful',
    help: 'Whether the last configuration load or reload succeeded.',
    registers: [this.registry],
  })

  readonly reloadTimestamp = new Gauge({
    name: 'scrape_gateway_config_last_reload_success_timestamp_seconds',
    help: 'When the configuration was last loaded successfully.',
    registers: [this.registry],
  })

  readonly jobs = new Gauge({
    name: 'scrape_gateway_jobs',
    help: 'Jobs in the loaded configuration.',
    registers: [this.registry],
  })

  constructor () {
    collectDefaultMetrics({ register: this.registry })
  }
}

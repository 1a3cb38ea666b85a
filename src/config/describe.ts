// The loaded config as /config shows it: effective values in Prometheus's
// notation, secrets hidden (their types print `<secret>`; a URL that carries
// secrets prints them hidden: src/client/secret-url.ts), file paths shown.
import type { GatewayConfig } from './types.js'
import { formatDuration } from './duration.js'
import { formatBase2Bytes } from '../go-format.js'

export function describeConfig (config: GatewayConfig): Record<string, unknown> {
  return {
    file: config.file,
    global: {
      scrape_interval: formatDuration(config.global.scrapeInterval),
      scrape_timeout: formatDuration(config.global.scrapeTimeout),
      body_size_limit: formatBase2Bytes(config.global.bodySizeLimit),
    },
    scrape_configs: config.jobs.map((job) => ({
      job_name: job.name,
      scheme: job.scheme,
      metrics_path: job.metricsPath,
      params: Object.fromEntries(job.params),
      scrape_interval: formatDuration(job.scrapeInterval),
      scrape_timeout: formatDuration(job.scrapeTimeout),
      body_size_limit: formatBase2Bytes(job.bodySizeLimit),
      enable_compression: job.enableCompression,
      accept: job.accept,
      targets: job.targets,
      ...(job.allowedTargets.length > 0 ? { allowed_targets: job.allowedTargets.map((r) => r.text) } : {}),
      ...Object.assign({}, ...job.client.map(({ feature, settings }) => feature.describe?.(settings) ?? {})),
    })),
    ignored_keys: config.ignored,
  }
}

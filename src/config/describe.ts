// The loaded config as /config shows it: effective values in Prometheus's
// notation and key order (what Prometheus's /api/v1/status/config prints, so
// a job reads the same in both), secrets hidden (their types print
// `<secret>`; a URL that carries secrets prints them hidden:
// src/client/secret-url.ts), file paths shown. The gateway's own keys
// (accept, allowed_targets, max_concurrent_probes) sit beside Prometheus's.
import { stringify } from 'yaml'
import type { GatewayConfig, JobConfig } from './types.js'
import { formatDuration } from './duration.js'
import { formatBase2Bytes } from '../go-format.js'

/**
 * HTTPClientConfig's keys in the order prometheus/common declares them (its
 * struct fields, ProxyConfig inlined): each client feature describes its own
 * keys, and they are put back in this order. A feature's key not named here
 * (an embedder's own auth kind) follows them.
 */
const CLIENT_KEY_ORDER = [
  'basic_auth', 'authorization', 'oauth2', 'bearer_token', 'bearer_token_file', 'tls_config',
  'follow_redirects', 'enable_http2', 'proxy_url', 'no_proxy', 'proxy_from_environment', 'proxy_connect_header',
  'http_headers',
]

export interface DescribedConfig {
  global: Record<string, unknown>
  scrape_configs: Array<Record<string, unknown>>
}

export function describeConfig (config: GatewayConfig): DescribedConfig & { file: string, ignored_keys: readonly string[] } {
  return { file: config.file, ...describeDocument(config), ignored_keys: config.ignored }
}

/** The config as a YAML document in Prometheus's key order; where it came from and what was ignored as comments. */
export function describeConfigYaml (config: GatewayConfig): string {
  const head = [`# ${config.file}, as loaded: effective values, secrets hidden`]
  if (config.ignored.length > 0) head.push(`# keys that only matter to Prometheus, ignored: ${config.ignored.join(', ')}`)
  // Through JSON first: the YAML holds exactly what the JSON does, secrets as their toJSON() prints them.
  const plain = JSON.parse(JSON.stringify(describeDocument(config))) as unknown
  return `${head.join('\n')}\n${stringify(plain, { lineWidth: 0 })}`
}

function describeDocument (config: GatewayConfig): DescribedConfig {
  return {
    global: {
      scrape_interval: formatDuration(config.global.scrapeInterval),
      scrape_timeout: formatDuration(config.global.scrapeTimeout),
      body_size_limit: formatBase2Bytes(config.global.bodySizeLimit),
    },
    scrape_configs: config.jobs.map(describeJob),
  }
}

function describeJob (job: JobConfig): Record<string, unknown> {
  const client: Record<string, unknown> = Object.assign({}, ...job.client.map(({ feature, settings }) => feature.describe?.(settings) ?? {}))
  const ordered = [...CLIENT_KEY_ORDER.filter((k) => k in client), ...Object.keys(client).filter((k) => !CLIENT_KEY_ORDER.includes(k))]
  return {
    job_name: job.name,
    ...(job.params.length > 0 ? { params: Object.fromEntries(job.params) } : {}),
    scrape_interval: formatDuration(job.scrapeInterval),
    scrape_timeout: formatDuration(job.scrapeTimeout),
    metrics_path: job.metricsPath,
    scheme: job.scheme,
    enable_compression: job.enableCompression,
    body_size_limit: formatBase2Bytes(job.bodySizeLimit),
    accept: job.accept,
    ...Object.fromEntries(ordered.map((k) => [k, client[k]])),
    ...(job.allowedTargets.length > 0 ? { allowed_targets: job.allowedTargets.map((r) => r.text) } : {}),
    ...(job.maxConcurrentProbes !== undefined ? { max_concurrent_probes: job.maxConcurrentProbes } : {}),
    static_configs: job.staticConfigs.map((g) => ({ targets: g.targets, ...(Object.keys(g.labels).length > 0 ? { labels: g.labels } : {}) })),
  }
}

// The validated, typed shape of a gateway config. Produced once at load by
// load.ts; nothing on the probe path re-checks what these types promise.
// `F` is the kind of feature the loader was given (src/config/feature.ts):
// the gateway's are client features, which config itself knows nothing of.
import type { ConfigFeature } from './feature.js'
import type { TargetRule } from './allowed-targets.js'

export interface GlobalConfig {
  scrapeInterval: number // ms
  scrapeTimeout: number // ms
  bodySizeLimit: number // bytes, 0 = none
}

export interface JobConfig<F extends ConfigFeature = ConfigFeature> {
  name: string
  /** Where the job is in its file, for messages. */
  line: number
  scheme: 'http' | 'https'
  metricsPath: string
  /** `params`, keys sorted, repeated values in order (Go's url.Values.Encode). */
  params: ReadonlyArray<readonly [string, readonly string[]]>
  scrapeInterval: number // ms
  scrapeTimeout: number // ms
  bodySizeLimit: number // bytes, 0 = none
  enableCompression: boolean
  /** Prometheus's Accept for the job's scrape_protocols, used when the caller sends none. */
  accept: string
  /** static_configs: target groups with their labels, each target canonical `host:port` (src/config/target.ts). */
  staticConfigs: ReadonlyArray<{ readonly targets: readonly string[], readonly labels: Readonly<Record<string, string>> }>
  /** Targets of static_configs, canonical `host:port` (src/config/target.ts): the job may be probed at each. */
  targets: readonly string[]
  /** allowed_targets: more targets the job may be probed at (src/policy decides with both lists). */
  allowedTargets: readonly TargetRule[]
  /** max_concurrent_probes: this job's probes in flight at most; undefined = --probe.max-concurrency-per-job. */
  maxConcurrentProbes: number | undefined
  /** The job's settings for each client feature that it uses. */
  client: ReadonlyArray<{ feature: F, settings: unknown }>
}

export interface GatewayConfig<F extends ConfigFeature = ConfigFeature> {
  file: string
  global: GlobalConfig
  jobs: ReadonlyArray<JobConfig<F>>
  /** Keys that loaded but mean nothing to a gateway (relabeling, SD, ...): `path` each. */
  ignored: readonly string[]
}

// Loads a gateway config: YAML in Prometheus's shape (`global`,
// `scrape_configs`), strict like Prometheus (unknown keys refused), every
// error with file:line:col and the key path. A job pasted from prometheus.yml
// loads unchanged: keys that only matter to Prometheus's ingestion are
// accepted and listed as ignored.
import { FILE_LIMITS, readBoundedFile } from './bounded-file.js'
import { ConfigError, parseYamlFile, type Cursor, type MapCursor } from './cursor.js'
import type { ConfigFeature, FeatureSet } from './feature.js'
import { goFileError } from './files.js'
import type { GatewayConfig, GlobalConfig, JobConfig } from './types.js'
import { canonicalTarget } from './target.js'
import { goQuote } from '../go-format.js'
import { parseTargetRule } from './allowed-targets.js'
import {
  acceptHeader, defaultScrapeProtocols, resolveEscapingScheme, validateEscapingScheme,
  validateFallbackProtocol, validateNameValidationScheme, validateScrapeProtocols,
  type NameSchemes, type ScrapeProtocol,
} from './accept.js'

export { ConfigError } from './cursor.js'

const DEFAULT_SCRAPE_INTERVAL = 60_000
const DEFAULT_SCRAPE_TIMEOUT = 10_000

const TOP_IGNORED = ['rule_files', 'alerting', 'remote_write', 'remote_read', 'storage', 'tracing', 'runtime', 'otlp']
const GLOBAL_IGNORED = [
  'evaluation_interval', 'rule_query_offset', 'external_labels', 'query_log_file', 'scrape_failure_log_file',
  'sample_limit', 'label_limit', 'label_name_length_limit', 'label_value_length_limit', 'target_limit',
  'keep_dropped_targets', 'convert_classic_histograms_to_nhcb', 'always_scrape_classic_histograms',
]
const JOB_IGNORED = [
  'honor_labels', 'honor_timestamps', 'track_timestamps_staleness', 'relabel_configs', 'metric_relabel_configs',
  'sample_limit', 'target_limit', 'label_limit', 'label_name_length_limit', 'label_value_length_limit',
  'native_histogram_bucket_limit', 'native_histogram_min_bucket_factor', 'keep_dropped_targets',
  'scrape_classic_histograms', 'always_scrape_classic_histograms', 'convert_classic_histograms_to_nhcb',
  'scrape_failure_log_file', 'fallback_scrape_protocol',
]

function unknownField (m: MapCursor, key: string): ConfigError {
  return m.keyCursor(key).error(`field ${key} not found in type config.plain`)
}

/** Parses YAML text; `file` is used for messages and to resolve relative paths. */
export function parseConfig<F extends ConfigFeature> (text: string, file: string, features: FeatureSet<F>): GatewayConfig<F> {
  const ignored: string[] = []
  const top = parseYamlFile(text, file)
  for (const key of top.keys()) {
    if (key === 'global' || key === 'scrape_configs') continue
    if (TOP_IGNORED.includes(key)) ignored.push(key)
    else if (key === 'scrape_config_files') throw top.keyCursor(key).error('scrape_config_files is not supported by scrape-gateway; put the jobs in this file')
    else throw unknownField(top, key)
  }

  const g = top.at('global').map()
  const global = decodeGlobal(g, ignored)
  const globalProtocols = g.set('scrape_protocols') ? validate(g.at('scrape_protocols'), (l) => validateScrapeProtocols(l.stringList())) : undefined
  const globalSchemes = nameSchemes(g, 'global')
  const globalNative = g.at('scrape_native_histograms').bool()

  const jobs: Array<JobConfig<F>> = []
  const seen = new Set<string>()
  for (const jobCursor of top.at('scrape_configs').list()) {
    const job = decodeJob(jobCursor.map(), global, { protocols: globalProtocols, schemes: globalSchemes, native: globalNative }, features, ignored)
    if (seen.has(job.name)) throw jobCursor.map().at('job_name').error(`found multiple scrape configs with job name "${job.name}"`)
    seen.add(job.name)
    jobs.push(job)
  }
  return deepFreeze({ file, global, jobs, ignored })
}

export function loadConfig<F extends ConfigFeature> (file: string, features: FeatureSet<F>): GatewayConfig<F> {
  let text: string
  try {
    text = readBoundedFile(file, FILE_LIMITS.pem)
  } catch (err) {
    throw new ConfigError(file, 0, 0, '', `cannot read config file: ${goFileError(err, file)}`)
  }
  return parseConfig(text, file, features)
}

/** Runs a validator that throws plain Errors, re-throwing at the cursor's position. */
function validate<T> (c: Cursor, fn: (c: Cursor) => T): T {
  try {
    return fn(c)
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw c.error((err as Error).message)
  }
}

function decodeGlobal (g: MapCursor, ignored: string[]): GlobalConfig {
  const known = ['scrape_interval', 'scrape_timeout', 'body_size_limit', 'scrape_protocols', 'scrape_native_histograms',
    'metric_name_validation_scheme', 'metric_name_escaping_scheme']
  for (const key of g.keys()) {
    if (GLOBAL_IGNORED.includes(key)) ignored.push(`global.${key}`)
    else if (!known.includes(key)) throw unknownField(g, key)
  }
  // As in Prometheus, an explicit 0 means unset.
  const scrapeInterval = (g.set('scrape_interval') ? g.at('scrape_interval').duration() : 0) || DEFAULT_SCRAPE_INTERVAL
  let scrapeTimeout = g.set('scrape_timeout') ? g.at('scrape_timeout').duration() : 0
  if (scrapeTimeout > scrapeInterval) throw g.at('scrape_timeout').error('global scrape timeout greater than scrape interval')
  if (scrapeTimeout === 0) scrapeTimeout = Math.min(DEFAULT_SCRAPE_TIMEOUT, scrapeInterval)
  return { scrapeInterval, scrapeTimeout, bodySizeLimit: g.set('body_size_limit') ? g.at('body_size_limit').bytes() : 0 }
}

function nameSchemes (m: MapCursor, scope: 'global' | 'scrape'): NameSchemes {
  return {
    validation: m.set('metric_name_validation_scheme')
      ? validate(m.at('metric_name_validation_scheme'), (c) => validateNameValidationScheme(c.string()))
      : undefined,
    escaping: m.set('metric_name_escaping_scheme')
      ? validate(m.at('metric_name_escaping_scheme'), (c) => validateEscapingScheme(c.string(), scope))
      : undefined,
  }
}

interface GlobalProtocols {
  protocols: ScrapeProtocol[] | undefined
  schemes: NameSchemes
  native: boolean
}

const CORE_JOB_KEYS = ['job_name', 'scheme', 'metrics_path', 'params', 'scrape_interval', 'scrape_timeout', 'body_size_limit',
  'enable_compression', 'scrape_protocols', 'scrape_native_histograms', 'metric_name_validation_scheme',
  'metric_name_escaping_scheme', 'static_configs', 'allowed_targets', 'max_concurrent_probes']

function decodeJob<F extends ConfigFeature> (m: MapCursor, global: GlobalConfig, gp: GlobalProtocols, features: FeatureSet<F>, ignored: string[]): JobConfig<F> {
  const name = m.at('job_name').string()
  if (name === '') throw m.at('job_name').error('job_name is empty')
  const where = `scrape_configs[${m.path.match(/\[(\d+)\]$/)?.[1] ?? '?'}]`
  for (const key of m.keys()) {
    if (CORE_JOB_KEYS.includes(key) || features.owns(key)) continue
    if (JOB_IGNORED.includes(key) || key.endsWith('_sd_configs')) ignored.push(`${where}.${key}`)
    else throw unknownField(m, key)
  }

  const scheme = m.set('scheme') ? m.at('scheme').string() : 'http'
  if (scheme !== 'http' && scheme !== 'https') throw m.at('scheme').error(`scheme must be "http" or "https", got "${scheme}"`)

  // As in Prometheus's ScrapeConfig.Validate, an explicit 0 means unset.
  const scrapeInterval = (m.set('scrape_interval') ? m.at('scrape_interval').duration() : 0) || global.scrapeInterval
  let scrapeTimeout = m.set('scrape_timeout') ? m.at('scrape_timeout').duration() : 0
  if (scrapeTimeout > scrapeInterval) {
    throw m.at('scrape_timeout').error(`scrape timeout greater than scrape interval for scrape config with job name "${name}"`)
  }
  if (scrapeTimeout === 0) scrapeTimeout = Math.min(global.scrapeTimeout, scrapeInterval)

  const protocols = m.set('scrape_protocols')
    ? validate(m.at('scrape_protocols'), (c) => validateScrapeProtocols(c.stringList(), name))
    : gp.protocols ?? defaultScrapeProtocols(m.set('scrape_native_histograms') ? m.at('scrape_native_histograms').bool() : gp.native)
  if (m.set('fallback_scrape_protocol')) validate(m.at('fallback_scrape_protocol'), (c) => validateFallbackProtocol(c.string(), name))
  const escaping = validate(m.at('metric_name_escaping_scheme'), () => resolveEscapingScheme(nameSchemes(m, 'scrape'), gp.schemes))

  const bodySizeLimit = m.set('body_size_limit') ? m.at('body_size_limit').bytes() : 0

  const client = features.decode(m)
  const staticConfigs = decodeStaticConfigs(m.at('static_configs'), scheme)

  return {
    name,
    line: m.error('').line,
    scheme,
    metricsPath: m.set('metrics_path') ? m.at('metrics_path').string() : '/metrics',
    params: decodeParams(m.at('params').map()),
    scrapeInterval,
    scrapeTimeout,
    bodySizeLimit: bodySizeLimit === 0 ? global.bodySizeLimit : bodySizeLimit,
    enableCompression: m.set('enable_compression') ? m.at('enable_compression').bool() : true,
    accept: acceptHeader(protocols, escaping),
    staticConfigs,
    targets: staticConfigs.flatMap((g) => g.targets),
    allowedTargets: m.at('allowed_targets').list().map((c) => validate(c, () => parseTargetRule(c.string()))),
    maxConcurrentProbes: m.set('max_concurrent_probes') ? positiveInt(m.at('max_concurrent_probes')) : undefined,
    client,
  }
}

/** A gateway extension's count: a YAML integer of at least 1 (0 would refuse every probe; an explicit null means unset, as for Prometheus's keys). */
function positiveInt (c: Cursor): number {
  const n = c.int()
  if (n < 1) throw c.error(`must be a positive integer, got ${n}`)
  return n
}

function decodeParams (p: MapCursor): JobConfig['params'] {
  return p.keys().sort().map((k) => [k, p.at(k).stringList()] as const)
}

function decodeStaticConfigs (c: Cursor, scheme: 'http' | 'https'): JobConfig['staticConfigs'] {
  return c.list().map((sc) => {
    const s = sc.map()
    for (const key of s.keys()) if (key !== 'targets' && key !== 'labels') throw unknownField(s, key)
    const targets = s.at('targets').list().map((t) => {
      const target = t.string()
      return validate(t, () => canonicalTarget(target, scheme).key)
    })
    return { targets, labels: decodeLabels(s.at('labels').map()) }
  })
}

/** A target group's labels: names and values are strings; a name is any non-empty UTF-8 text (Prometheus 3's validation scheme). */
function decodeLabels (m: MapCursor): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const name of m.keys()) {
    if (name === '') throw m.error(`invalid name ${goQuote(name)}`)
    labels[name] = m.at(name).string()
  }
  return labels
}

function deepFreeze<T> (o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    // Feature settings may hold class instances (Secret); freezing their fields is fine.
    Object.freeze(o)
    for (const v of Object.values(o)) deepFreeze(v)
  }
  return o
}

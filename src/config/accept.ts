// Scrape protocols as Prometheus 3.x configures them (config/config.go
// ScrapeProtocol + validation, scrape/scrape.go acceptHeader): validated at
// load, and turned into the job's Accept header once. Error messages are kept
// byte-identical so operators can search them against Prometheus docs.
// Validators throw Error; they never return error strings. What a caller
// accepts at probe time is the probe's (src/scrape/accept-encoding.ts).
import { goQuote } from '../go-format.js'

export type ScrapeProtocol =
  | 'PrometheusProto'
  | 'PrometheusText0.0.4'
  | 'PrometheusText1.0.0'
  | 'OpenMetricsText0.0.1'
  | 'OpenMetricsText1.0.0'

export type EscapingScheme = 'allow-utf-8' | 'underscores' | 'dots' | 'values'
export type NameValidationScheme = 'utf8' | 'legacy'

const MEDIA_TYPES: Readonly<Record<ScrapeProtocol, string>> = {
  PrometheusProto: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
  'PrometheusText0.0.4': 'text/plain;version=0.0.4',
  'PrometheusText1.0.0': 'text/plain;version=1.0.0',
  'OpenMetricsText0.0.1': 'application/openmetrics-text;version=0.0.1',
  'OpenMetricsText1.0.0': 'application/openmetrics-text;version=1.0.0',
}

export const SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = Object.freeze(
  Object.keys(MEDIA_TYPES) as ScrapeProtocol[]
)
export const ESCAPING_SCHEMES: readonly EscapingScheme[] = Object.freeze([
  'allow-utf-8', 'underscores', 'dots', 'values',
] as const)

const DEFAULT_PROTOCOLS: readonly ScrapeProtocol[] = Object.freeze([
  'OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4',
] as const)
const PROTO_FIRST_PROTOCOLS: readonly ScrapeProtocol[] = Object.freeze([
  'PrometheusProto', ...DEFAULT_PROTOCOLS,
])

// Go prints the supported set from a map, so it sorts it first.
const SUPPORTED = `[${[...SCRAPE_PROTOCOLS].sort().join(' ')}]`

export function isScrapeProtocol (s: string): s is ScrapeProtocol {
  return Object.hasOwn(MEDIA_TYPES, s)
}

export function mediaType (p: ScrapeProtocol): string {
  return MEDIA_TYPES[p]
}

function unknownProtocol (s: string): string {
  return `unknown scrape protocol ${s}, supported: ${SUPPORTED}`
}

/**
 * Validates a `scrape_protocols` list; jobName undefined means the global section.
 * Only call it for a list that is present: an absent list means "use the defaults".
 */
export function validateScrapeProtocols (list: readonly string[], jobName?: string): ScrapeProtocol[] {
  const where = jobName === undefined ? 'global config' : `scrape config with job name ${goQuote(jobName)}`
  const fail = (msg: string): never => {
    throw new Error(`${msg} for ${where}`)
  }
  if (list.length === 0) fail('scrape_protocols cannot be empty')
  const seen = new Set<string>()
  for (const p of list) {
    // Prometheus checks duplicates before validity, per entry, case-insensitively.
    const key = p.toLowerCase()
    if (seen.has(key)) fail(`duplicated protocol in scrape_protocols, got [${list.join(' ')}]`)
    if (!isScrapeProtocol(p)) fail(`scrape_protocols: ${unknownProtocol(p)}`)
    seen.add(key)
  }
  return list as ScrapeProtocol[]
}

/** Validates `fallback_scrape_protocol`; '' means unset (Prometheus skips it) and yields undefined. */
export function validateFallbackProtocol (p: string, jobName: string): ScrapeProtocol | undefined {
  if (p === '') return undefined
  if (!isScrapeProtocol(p)) {
    throw new Error(`invalid fallback_scrape_protocol for scrape config with job name ${goQuote(jobName)}: ${unknownProtocol(p)}`)
  }
  return p
}

/** `scope` picks Prometheus's wording: the global section or a scrape config. */
export function validateEscapingScheme (s: string, scope: 'global' | 'scrape' = 'scrape'): EscapingScheme {
  const found = ESCAPING_SCHEMES.find((e) => e === s)
  if (found === undefined) {
    const label = scope === 'global' ? 'global' : 'scrape config'
    throw new Error(`unknown ${label} name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got ${goQuote(s)}`)
  }
  return found
}

/**
 * Parses `metric_name_validation_scheme`. The message is prometheus/common's, which
 * rejects the YAML value before config.go's own check can run. '' means unset in
 * Prometheus: pass undefined to resolveEscapingScheme instead of calling this.
 */
export function validateNameValidationScheme (s: string): NameValidationScheme {
  if (s !== 'utf8' && s !== 'legacy') throw new Error(`unrecognized ValidationScheme: ${goQuote(s)}`)
  return s
}

export interface NameSchemes {
  validation?: NameValidationScheme | undefined;
  /** Raw `metric_name_escaping_scheme`; undefined or '' means unset. */
  escaping?: string | undefined;
}

/**
 * The escaping scheme a job requests, following ScrapeConfig.Validate: a job that
 * sets its own validation scheme but no escaping derives escaping from that local
 * scheme, not from the global escaping setting.
 */
export function resolveEscapingScheme (job: NameSchemes = {}, global: NameSchemes = {}): EscapingScheme {
  const fromValidation = (v: NameValidationScheme): EscapingScheme => (v === 'legacy' ? 'underscores' : 'allow-utf-8')
  const globalValidation = global.validation ?? 'utf8'
  const globalEscaping = global.escaping
    ? validateEscapingScheme(global.escaping, 'global')
    : fromValidation(globalValidation)
  const validation = job.validation ?? globalValidation
  const escaping = job.escaping
    ? validateEscapingScheme(job.escaping, 'scrape')
    : job.validation === undefined ? globalEscaping : fromValidation(validation)
  if (escaping === 'allow-utf-8' && validation !== 'utf8') {
    throw new Error('utf8 metric names requested but validation scheme is not set to UTF8')
  }
  return escaping
}

/**
 * Defaults for a job with no `scrape_protocols`. Prometheus prefers an explicit
 * global list over this, even when native histograms are enabled for the job.
 */
export function defaultScrapeProtocols (nativeHistograms: boolean): readonly ScrapeProtocol[] {
  return nativeHistograms ? PROTO_FIRST_PROTOCOLS : DEFAULT_PROTOCOLS
}

/**
 * Builds the Accept header. Like Prometheus, the weight is an integer printed after
 * "0.", so past six entries it yields q=0.0 and then q=0.-1; validated lists hold at
 * most five entries and never get there.
 */
export function acceptHeader (protocols: readonly ScrapeProtocol[], escaping: EscapingScheme): string {
  let weight = SCRAPE_PROTOCOLS.length + 1
  const parts = protocols.map((p) => {
    // Only the 1.0.0 text formats define the escaping parameter.
    const esc = p === 'PrometheusText1.0.0' || p === 'OpenMetricsText1.0.0' ? `;escaping=${escaping}` : ''
    return `${MEDIA_TYPES[p]}${esc};q=0.${weight--}`
  })
  parts.push(`*/*;q=0.${weight}`)
  return parts.join(',')
}

// Loads a web config file in exporter-toolkit's format (the file Prometheus's
// and the exporters' `--web.config.file` read), strictly like its
// yaml.UnmarshalStrict, with its messages where it has them, and every error
// at file:line:col with the key path, like the gateway config. Checked in
// exporter-toolkit's order: unmarshal (unknown keys, types, TLS versions,
// ciphers, curves), the response headers, the bcrypt hashes, then what it
// checks when it builds the tls.Config (files read, key pair, client auth).
import { validateHeaderValue } from 'node:http'
import { ConfigError, parseYamlFile, type Cursor, type MapCursor } from '../../src/config/cursor.js'
import { goFileError } from '../../src/config/files.js'
import { FILE_LIMITS, readBoundedFile } from '../../src/config/bounded-file.js'
import { Secret } from '../../src/client/secret.js'
import { TLS_VERSIONS, type TlsVersionName } from '../tls/types.js'
import { checkBcryptHash } from './bcrypt-hash.js'
import { HTTP2_REQUIRED, opensslCipher, opensslCurve } from './ciphers.js'
import { parseClientAuth } from './client-cert.js'
import { parseGoDuration } from './go-duration.js'
import { serverTlsOptions, WebTlsError } from './tls-options.js'
import type { PemInput, WebConfig, WebTls } from './types.js'

const KEYS = {
  'web.Config': ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit'],
  'web.TLSConfig': ['cert', 'key', 'client_ca', 'cert_file', 'key_file', 'client_auth_type', 'client_ca_file',
    'cipher_suites', 'curve_preferences', 'min_version', 'max_version', 'prefer_server_cipher_suites', 'client_allowed_sans'],
  'web.HTTPConfig': ['http2', 'headers'],
  'web.RateLimiterConfig': ['interval', 'burst'],
} as const

/**
 * The response headers exporter-toolkit lets a web config set, with the
 * values it allows (none listed: any). "Private on purpose to ensure
 * consistency in the Prometheus ecosystem", so the same list here.
 */
const HEADERS: ReadonlyMap<string, readonly string[]> = new Map([
  ['Strict-Transport-Security', []],
  ['X-Content-Type-Options', ['nosniff']],
  ['X-Frame-Options', ['deny', 'sameorigin']],
  ['X-XSS-Protection', []],
  ['Content-Security-Policy', []],
])

/** The keys whose presence turns TLS on (exporter-toolkit's TLSConfig.IsEnabled). */
const TLS_SWITCHES = ['cert_file', 'cert', 'key_file', 'key', 'client_ca_file', 'client_ca', 'client_auth_type']

/** yaml.v2's strict-mode words for a key the struct does not have. */
function strict (m: MapCursor, type: keyof typeof KEYS): void {
  const known: readonly string[] = KEYS[type]
  for (const key of m.keys()) {
    if (!known.includes(key)) throw m.keyCursor(key).error(`field ${key} not found in type ${type}`)
  }
}

/** Runs `fn`, re-throwing a plain Error at the cursor's position. */
function at<T> (c: Cursor, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw c.error((err as Error).message)
  }
}

/** Go's `%q` of a []string: `["deny" "sameorigin"]`. */
function goQuotedList (items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(' ')}]`
}

export function loadWebConfig (file: string): WebConfig {
  let text: string
  try {
    text = readBoundedFile(file, FILE_LIMITS.pem)
  } catch (err) {
    throw new ConfigError(file, 0, 0, '', `cannot read web config file: ${goFileError(err, file)}`)
  }
  return parseWebConfig(text, file)
}

/** Parses web config YAML; `file` names it in errors and anchors relative paths. */
function parseWebConfig (text: string, file: string): WebConfig {
  const top = parseYamlFile(text, file)
  strict(top, 'web.Config')

  // Unmarshal.
  const t = top.at('tls_server_config').map()
  strict(t, 'web.TLSConfig')
  const fields = tlsFields(t)
  const h = top.at('http_server_config').map()
  strict(h, 'web.HTTPConfig')
  const http2 = h.set('http2') ? h.at('http2').bool() : true
  const r = top.at('rate_limit').map()
  strict(r, 'web.RateLimiterConfig')
  const rateLimit = decodeRateLimit(r)
  const u = top.at('basic_auth_users').map()
  const hashes = u.keys().map((user) => [user, u.at(user)] as const)

  // Then what exporter-toolkit checks: headers, bcrypt hashes, the TLS config.
  const headers = decodeHeaders(h.at('headers').map())
  const users = new Map<string, Secret>()
  for (const [user, c] of hashes) {
    const hash = c.string()
    at(c, () => checkBcryptHash(hash))
    users.set(user, new Secret(hash))
  }
  const tls = buildTls(t, fields)
  if (tls !== undefined && http2) checkHttp2Ciphers(t, tls, fields.goCiphers)
  return { file, tls, http2, headers, users, rateLimit }
}

interface TlsFields {
  minVersion: TlsVersionName
  maxVersion: TlsVersionName
  goCiphers: string[]
  ciphers: string[]
  curves: string[]
  preferServerCipherSuites: boolean
}

function version (t: MapCursor, key: string, otherwise: TlsVersionName): TlsVersionName {
  if (!t.set(key)) return otherwise
  const v = t.at(key).string()
  if (!Object.hasOwn(TLS_VERSIONS, v)) throw t.at(key).error(`unknown TLS version: ${v}`)
  return v as TlsVersionName
}

function tlsFields (t: MapCursor): TlsFields {
  const minVersion = version(t, 'min_version', 'TLS12')
  const maxVersion = version(t, 'max_version', 'TLS13')
  const goCiphers: string[] = []
  const ciphers: string[] = []
  for (const c of t.at('cipher_suites').list()) {
    const name = c.string()
    const openssl = at(c, () => opensslCipher(name))
    goCiphers.push(name)
    if (openssl !== null) ciphers.push(openssl)
  }
  const curves = t.at('curve_preferences').list().map((c) => at(c, () => opensslCurve(c.string())))
  const preferServerCipherSuites = t.set('prefer_server_cipher_suites') ? t.at('prefer_server_cipher_suites').bool() : true
  return { minVersion, maxVersion, goCiphers, ciphers, curves, preferServerCipherSuites }
}

function decodeRateLimit (r: MapCursor): WebConfig['rateLimit'] {
  const c = r.at('interval')
  // A time.Duration in yaml.v2: a Go duration string, or an integer of nanoseconds.
  const n = c.node as { value?: unknown } | null
  const intervalMs = typeof n?.value === 'number' ? c.int() / 1e6 : at(c, () => parseGoDuration(c.string() === '' ? '0' : c.string()))
  const burst = r.at('burst').int()
  if (intervalMs === 0) return undefined
  if (intervalMs < 0) throw c.error('rate_limit.interval must not be negative (0 turns the rate limit off)')
  // x/time/rate with a burst of 0 allows nothing: surely a mistake, so it is refused rather than served as a 429 for everything.
  if (burst < 1) throw r.at('burst').error('rate_limit.burst must be at least 1 when rate_limit.interval is set')
  return { intervalMs, burst }
}

function decodeHeaders (m: MapCursor): WebConfig['headers'] {
  const out: Array<readonly [string, string]> = []
  for (const name of m.keys()) {
    const allowed = HEADERS.get(name)
    if (allowed === undefined) throw m.keyCursor(name).error(`HTTP header ${JSON.stringify(name)} can not be configured`)
    const c = m.at(name)
    const value = c.string()
    if (allowed.length > 0 && !allowed.includes(value)) {
      throw c.error(`invalid value for ${name}. Expected one of: ${goQuotedList(allowed)}, but got: ${JSON.stringify(value)}`)
    }
    at(c, () => validateHeaderValue(name, value))
    // exporter-toolkit's docs: "Unset if blank".
    if (value !== '') out.push([name, value])
  }
  return out
}

/** Go's `len(s) > 0`: an empty string is as good as absent. */
function given (t: MapCursor, key: string): boolean {
  return t.set(key) && t.at(key).string() !== ''
}

function atMostOne (t: MapCursor, inline: string, file: string): void {
  if (given(t, inline) && given(t, file)) throw t.at(file).error(`at most one of ${inline} and ${file} must be configured`)
}

/** Inline PEM, or a file read now (Go's `failed to read cert_file (F): open F: ...`). */
function pem (t: MapCursor, inline: string, fileKey: string, words: (file: string, reason: string) => string): PemInput | undefined {
  if (given(t, inline)) return { from: 'inline', pem: t.at(inline).string() }
  if (!given(t, fileKey)) return undefined
  const file = t.at(fileKey).filePath()
  try {
    return { from: 'file', path: file, pem: readBoundedFile(file, FILE_LIMITS.pem) }
  } catch (err) {
    throw t.at(fileKey).error(words(file, goFileError(err, file)))
  }
}

function buildTls (t: MapCursor, f: TlsFields): WebTls | undefined {
  // No certificate, key, client CA or client_auth_type: plain HTTP, the other keys unused (as in exporter-toolkit).
  if (!TLS_SWITCHES.some((k) => given(t, k))) return undefined
  if (!given(t, 'cert') && !given(t, 'cert_file')) throw t.error('missing one of cert or cert_file')
  if (!given(t, 'key') && !given(t, 'key_file')) throw t.error('missing one of key or key_file')
  atMostOne(t, 'cert', 'cert_file')
  atMostOne(t, 'key', 'key_file')
  atMostOne(t, 'client_ca', 'client_ca_file')
  const cert = pem(t, 'cert', 'cert_file', (file, reason) => `failed to read cert_file (${file}): ${reason}`) as PemInput
  const key = pem(t, 'key', 'key_file', (file, reason) => `failed to read key_file (${file}): ${reason}`) as PemInput
  const clientCa = pem(t, 'client_ca', 'client_ca_file', (_file, reason) => reason)
  const clientAuth = at(t.at('client_auth_type'), () => parseClientAuth(t.at('client_auth_type').string()))
  const caKey = given(t, 'client_ca') ? 'client_ca' : 'client_ca_file'
  if (clientCa !== undefined && clientAuth === 'NoClientCert') throw t.at(caKey).error('client CA\'s have been configured without a Client Auth Policy')
  const clientAllowedSans = t.set('client_allowed_sans') ? t.at('client_allowed_sans').stringList() : undefined
  if (clientAllowedSans !== undefined && clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert') {
    throw t.at('client_allowed_sans').error('client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert')
  }
  // `TLS10` < `TLS13` as strings too. Go would accept this and fail every handshake.
  if (f.maxVersion < f.minVersion) throw t.at('max_version').error('max_version must be greater than or equal to min_version')

  const settings: Omit<WebTls, 'serverOptions'> = {
    cert,
    key: key.from === 'file' ? { from: 'file', path: key.path, pem: new Secret(key.pem) } : { from: 'inline', pem: new Secret(key.pem) },
    clientCa,
    clientAuth,
    clientAllowedSans,
    minVersion: f.minVersion,
    maxVersion: f.maxVersion,
    ciphers: f.ciphers,
    curves: f.curves,
    preferServerCipherSuites: f.preferServerCipherSuites,
  }
  try {
    return { ...settings, serverOptions: serverTlsOptions(settings, { cert: cert.pem, key: key.pem, clientCa: clientCa?.pem }) }
  } catch (err) {
    if (!(err instanceof WebTlsError)) throw err
    const where = err.about === 'client_ca' ? caKey : err.about === 'cert' ? (given(t, 'cert') ? 'cert' : 'cert_file') : err.about
    throw t.at(where).error(err.message)
  }
}

/** What Go's HTTP/2 server refuses at start (x/net/http2 configureServer), so a file Go refuses is refused here too. */
function checkHttp2Ciphers (t: MapCursor, tls: WebTls, goNames: readonly string[]): void {
  // Go leaves CipherSuites nil for an empty list: nothing to check then.
  if (goNames.length === 0 || tls.minVersion === 'TLS13') return
  if (goNames.some((n) => (HTTP2_REQUIRED as readonly string[]).includes(n))) return
  throw t.at('cipher_suites').error('http2: TLSConfig.CipherSuites is missing an HTTP/2-required AES_128_GCM_SHA256 cipher ' +
    '(need at least one of TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)')
}

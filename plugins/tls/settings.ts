// Decoding and validation of `tls_config` (prometheus/common TLSConfig) and
// `enable_http2`, in Prometheus's order: unmarshal (versions), Validate
// (at most one source each, cert and key in pairs), then what Prometheus
// checks at client build (max >= min, CA read and parsed, client cert and key
// read and paired). All of it at load, so a bad file is refused with its
// file:line before any scrape.
import type { MapCursor } from '../../src/config/cursor.js'
import { readFileForConfig } from '../../src/config/files.js'
import { FILE_LIMITS } from '../../src/config/bounded-file.js'
import { Secret } from '../../src/client/secret.js'
import { connectOptions, TlsMaterialError } from './options.js'
import { TLS_VERSIONS, type PemSource, type TlsSettings, type TlsVersionName } from './types.js'

const KEYS = [
  'ca', 'ca_file', 'ca_ref', 'cert', 'cert_file', 'cert_ref', 'key', 'key_file', 'key_ref',
  'server_name', 'insecure_skip_verify', 'min_version', 'max_version',
]

/** Go's `len(s) > 0`: an empty string is as good as absent. */
function given (t: MapCursor, key: string): boolean {
  return t.set(key) && t.at(key).string() !== ''
}

function atMostOne (t: MapCursor, keys: readonly string[], message: string): void {
  const set = keys.filter((k) => given(t, k))
  if (set.length > 1) throw t.at(set[1] as string).error(message)
}

function version (t: MapCursor, key: string): TlsVersionName | undefined {
  if (!t.set(key)) return undefined
  const v = t.at(key).string()
  if (!Object.hasOwn(TLS_VERSIONS, v)) throw t.at(key).error(`unknown TLS version: ${v}`)
  return v as TlsVersionName
}

function refused (t: MapCursor, ref: string, inline: string): void {
  if (given(t, ref)) {
    throw t.at(ref).error(`${ref} needs a secret manager, which scrape-gateway (like Prometheus) does not have; use ${inline} or ${inline}_file`)
  }
}

/** Reads `inline` or `inline_file`, with Prometheus's read error (`unable to read CA cert: unable to read file F: ...`). */
function material (t: MapCursor, inline: string, what: string): { source: PemSource, pem: string } | undefined {
  if (given(t, inline)) return { source: { from: 'inline' }, pem: t.at(inline).string() }
  const fileKey = `${inline}_file`
  if (!given(t, fileKey)) return undefined
  const path = t.at(fileKey).filePath()
  try {
    return { source: { from: 'file', path }, pem: readFileForConfig(path, FILE_LIMITS.pem) }
  } catch (err) {
    throw t.at(fileKey).error(`unable to read ${what}: ${(err as Error).message}`)
  }
}

export function decodeTls (job: MapCursor): TlsSettings {
  const enableHttp2 = job.set('enable_http2') ? job.at('enable_http2').bool() : true
  const none: TlsSettings = {
    configured: false,
    ca: undefined,
    cert: undefined,
    key: undefined,
    serverName: undefined,
    insecureSkipVerify: false,
    minVersion: undefined,
    maxVersion: undefined,
    enableHttp2,
  }
  if (!job.set('tls_config')) return none
  const t = job.at('tls_config').map()
  for (const key of t.keys()) {
    if (!KEYS.includes(key)) throw t.keyCursor(key).error(`field ${key} not found in type config.plain`)
  }
  // Unmarshal: the versions are parsed before Validate runs.
  const minVersion = version(t, 'min_version')
  const maxVersion = version(t, 'max_version')

  // TLSConfig.Validate.
  atMostOne(t, ['ca', 'ca_file', 'ca_ref'], 'at most one of ca, ca_file & ca_ref must be configured')
  atMostOne(t, ['cert', 'cert_file', 'cert_ref'], 'at most one of cert, cert_file & cert_ref must be configured')
  atMostOne(t, ['key', 'key_file', 'key_ref'], 'at most one of key and key_file must be configured')
  const usingCert = ['cert', 'cert_file', 'cert_ref'].find((k) => given(t, k))
  const usingKey = ['key', 'key_file', 'key_ref'].find((k) => given(t, k))
  if (usingCert !== undefined && usingKey === undefined) {
    throw t.at(usingCert).error('exactly one of key or key_file must be configured when a client certificate is configured')
  }
  if (usingKey !== undefined && usingCert === undefined) {
    throw t.at(usingKey).error('exactly one of cert or cert_file must be configured when a client key is configured')
  }

  // What Prometheus checks when it builds the client.
  // `TLS10` < `TLS13` as strings too.
  if (minVersion !== undefined && maxVersion !== undefined && maxVersion < minVersion) {
    throw t.at('max_version').error('tls_config.max_version must be greater than or equal to tls_config.min_version if both are specified')
  }
  refused(t, 'ca_ref', 'ca')
  const ca = material(t, 'ca', 'CA cert')
  refused(t, 'cert_ref', 'cert')
  refused(t, 'key_ref', 'key')
  const cert = material(t, 'cert', 'specified client cert')
  const key = material(t, 'key', 'specified client key')

  const serverName = t.at('server_name').string()
  const settings: TlsSettings = {
    configured: true,
    ca,
    cert,
    key: key === undefined ? undefined : { source: key.source, pem: new Secret(key.pem) },
    serverName: serverName === '' ? undefined : serverName,
    insecureSkipVerify: t.at('insecure_skip_verify').bool(),
    minVersion,
    maxVersion,
    enableHttp2,
  }
  try {
    connectOptions(settings, { ca: ca?.pem, cert: cert?.pem, key: key?.pem })
  } catch (err) {
    if (!(err instanceof TlsMaterialError)) throw err
    const at = err.about === 'ca' ? (given(t, 'ca') ? 'ca' : 'ca_file') : (given(t, 'cert') ? 'cert' : 'cert_file')
    throw t.at(at).error(err.message)
  }
  return settings
}

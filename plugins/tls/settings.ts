// Decoding and validation of `tls_config` (prometheus/common TLSConfig): the
// CA is read and parsed at load, so a bad file is refused before any scrape.
import { X509Certificate } from 'node:crypto'
import type { MapCursor } from '../../src/config/cursor.js'
import { atMostOne } from '../../src/client/feature.js'
import { readFileForConfig } from '../../src/config/files.js'

export interface TlsSettings {
  /** PEM bundle replacing the default roots, and where it came from. */
  ca: { pem: string, from: string } | undefined
  serverName: string | undefined
  insecureSkipVerify: boolean
}

const SUPPORTED = ['ca', 'ca_file', 'ca_ref', 'server_name', 'insecure_skip_verify']
// Prometheus keys of tls_config that a later version of the TLS plugin adds.
const NOT_YET = ['cert', 'cert_file', 'cert_ref', 'key', 'key_file', 'key_ref', 'min_version', 'max_version']

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** Parses a PEM bundle the way Go's AppendCertsFromPEM accepts one: at least one certificate. */
function parseCaBundle (pem: string): boolean {
  let count = 0
  for (const block of pem.match(PEM_CERT) ?? []) {
    try {
      new X509Certificate(block) // eslint-disable-line no-new
      count++
    } catch {
      // Go skips blocks it cannot parse, and fails only when none parse.
    }
  }
  return count > 0
}

export function decodeTls (job: MapCursor): TlsSettings | undefined {
  if (!job.set('tls_config')) return undefined
  const t = job.at('tls_config').map()
  for (const key of t.keys()) {
    if (NOT_YET.includes(key)) throw t.keyCursor(key).error(`tls_config.${key} is not supported yet by scrape-gateway`)
    if (!SUPPORTED.includes(key)) throw t.keyCursor(key).error(`field ${key} not found in type config.plain`)
  }
  atMostOne(t, ['ca', 'ca_file', 'ca_ref'], 'at most one of ca, ca_file & ca_ref must be configured')
  if (t.set('ca_ref')) throw t.at('ca_ref').error('ca_ref needs a secret manager, which scrape-gateway (like Prometheus) does not have; use ca or ca_file')

  let ca: TlsSettings['ca']
  if (t.set('ca')) {
    const pem = t.at('ca').string()
    if (!parseCaBundle(pem)) throw t.at('ca').error('unable to use specified CA cert inline')
    ca = { pem, from: 'inline' }
  } else if (t.set('ca_file')) {
    const file = t.at('ca_file').filePath()
    let pem: string
    try {
      pem = readFileForConfig(file)
    } catch (err) {
      throw t.at('ca_file').error(`unable to read CA cert: ${(err as Error).message}`)
    }
    if (!parseCaBundle(pem)) throw t.at('ca_file').error(`unable to use specified CA cert file ${file}`)
    ca = { pem, from: file }
  }
  const serverName = t.at('server_name').string()
  return {
    ca,
    serverName: serverName === '' ? undefined : serverName,
    insecureSkipVerify: t.at('insecure_skip_verify').bool(),
  }
}

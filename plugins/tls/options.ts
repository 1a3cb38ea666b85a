// A job's TLS settings and PEM texts → node:tls connect options, checked as
// Prometheus checks them when it builds a client (the same function serves
// config load and the rebuild after a file rotated on disk).
import tls from 'node:tls'
import type { ConnectOptions } from '../../src/client/feature.js'
import { caCertificates, checkKeyPair } from './pem.js'
import { TLS_VERSIONS, type PemSource, type TlsSettings } from './types.js'

/** The PEM texts in use: inline values, or the files' current contents. */
export interface TlsTexts {
  ca: string | undefined
  cert: string | undefined
  key: string | undefined
}

/** Bad PEM material, with Prometheus's message; `about` says which (for the key path). */
export class TlsMaterialError extends Error {
  constructor (readonly about: 'ca' | 'cert', message: string) {
    super(message)
    this.name = 'TlsMaterialError'
  }
}

/** How prometheus/common's secrets describe themselves in errors: `file F` or `inline`. */
export function sourceWords (source: PemSource | undefined): string {
  return source === undefined || source.from === 'inline' ? 'inline' : `file ${source.path}`
}

/**
 * OpenSSL 3 refuses TLS 1.0 and 1.1 (their handshake signatures use SHA-1 or
 * MD5) at its default security level 1; a job that asks for them gets level 0.
 */
function legacyCiphers (s: TlsSettings): string | undefined {
  return s.minVersion === 'TLS10' || s.minVersion === 'TLS11' ? `${tls.DEFAULT_CIPHERS}:@SECLEVEL=0` : undefined
}

/**
 * Checks a target's certificate against the name as Go does: since Go 1.15
 * (so in every Prometheus 3) against the subject alternative names only.
 * node:tls would fall back to the Common Name of a certificate without any.
 */
export function checkServerIdentity (host: string, cert: tls.PeerCertificate): Error | undefined {
  if (cert.subjectaltname === undefined || cert.subjectaltname === '') {
    const reason = 'the certificate has no subject alternative names, and its Common Name is not used'
    return Object.assign(new Error(`Hostname/IP does not match certificate's altnames: ${reason}`),
      { code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason, host, cert })
  }
  return tls.checkServerIdentity(host, cert)
}

export function connectOptions (s: TlsSettings, texts: TlsTexts): ConnectOptions {
  const options: ConnectOptions = { rejectUnauthorized: !s.insecureSkipVerify, checkServerIdentity }
  if (s.minVersion !== undefined) options.minVersion = TLS_VERSIONS[s.minVersion]
  if (s.maxVersion !== undefined) options.maxVersion = TLS_VERSIONS[s.maxVersion]
  const ciphers = legacyCiphers(s)
  if (ciphers !== undefined) options.ciphers = ciphers

  if (texts.ca !== undefined) {
    const roots = caCertificates(texts.ca)
    if (roots.length === 0) throw new TlsMaterialError('ca', `unable to use specified CA cert ${sourceWords(s.ca?.source)}`)
    options.ca = roots
  }
  const pair = `unable to use specified client cert (${sourceWords(s.cert?.source)}) & key (${sourceWords(s.key?.source)})`
  if (texts.cert !== undefined && texts.key !== undefined) {
    try {
      checkKeyPair(texts.cert, texts.key)
    } catch (err) {
      throw new TlsMaterialError('cert', `${pair}: ${(err as Error).message}`)
    }
    options.cert = texts.cert
    options.key = texts.key
  }
  // What Go accepts and OpenSSL may not (a key too small for the security level, ...).
  try {
    tls.createSecureContext(options)
  } catch (err) {
    const reason = (err as { reason?: string }).reason ?? (err as Error).message
    if (options.cert !== undefined) throw new TlsMaterialError('cert', `${pair}: ${reason}`)
    throw new TlsMaterialError('ca', `unable to use specified CA cert ${sourceWords(s.ca?.source)}: ${reason}`)
  }
  return options
}

// TLS failures in words: what node:tls (OpenSSL) and undici report when a
// handshake with a target fails, turned into the one cause an operator can act
// on — unknown authority, a name the certificate does not cover, expired or
// not yet valid (with the dates), a target that wants a client certificate, no
// common protocol version. The TLS feature's connector (plugins/tls/connector.ts)
// wraps failures in TlsHandshakeError with what it saw during the handshake
// (the target's chain, the name checked, whether a client certificate was
// asked for); errors from other connectors, and TLS errors after the
// handshake, are worded from their code alone.
//
// The core's error mapping (src/classify.ts) gets these words through the
// feature contract (tlsFeature.describeFailure = tlsFailure), never by name.
import { Errors } from '../../src/errors.js'
import type { CertSummary } from '../../src/client/certificates.js'

export type { CertSummary }

/** What the connector knew and saw when a handshake failed. */
export interface HandshakeFacts {
  /** The name the certificate is checked against, and where it comes from. */
  name: string
  nameFrom: 'tls_config.server_name' | 'the target address'
  /** The trusted roots, in words: `tls_config.ca_file F`, `tls_config.ca`, `Node.js's bundled root CAs`. */
  roots: string
  /** The client certificate the gateway would send (its subject), if tls_config has one. */
  clientCert: string | undefined
  /** The target asked for a client certificate during the handshake. */
  clientCertRequested: boolean
  /** tls_config min_version / max_version as written (`TLS12`), if set. */
  minVersion: string | undefined
  maxVersion: string | undefined
  /** The target's chain, leaf first, when the handshake got that far. */
  chain: CertSummary[]
  /** The gateway's clock when the failure was seen. */
  at: Date
}

/**
 * A failed TLS handshake with its cause in words (the message). Keeps the
 * underlying error's code, so code-based handling (undici's, classify's)
 * sees what it would have seen without the wrapper.
 */
export class TlsHandshakeError extends Error {
  readonly code: string

  constructor (message: string, code: string, readonly facts: HandshakeFacts, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TlsHandshakeError'
    this.code = code
  }
}

/** Code for a target that closed the connection right after a handshake in which it asked for a client certificate (TLS 1.3 rejects it after the handshake). */
export const CLOSED_AFTER_CERT_REQUEST = 'ERR_TLS_CLOSED_AFTER_CERTIFICATE_REQUEST'

/** OpenSSL's X509 verification results, as node:tls names them. */
const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_UNTRUSTED', 'CERT_REJECTED',
])
const VERIFY_CODES = new Set([
  ...UNKNOWN_AUTHORITY, 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD', 'CERT_SIGNATURE_FAILURE', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE', 'HOSTNAME_MISMATCH', 'UNABLE_TO_GET_CRL', 'CRL_HAS_EXPIRED', 'CRL_NOT_YET_VALID',
])

/** TLS alerts a server sends about the client's certificate, by node's error code. */
const CLIENT_CERT_ALERTS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'certificate_required',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'bad_certificate',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'unsupported_certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'certificate_revoked',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'certificate_expired',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'certificate_unknown',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'unknown_ca',
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: 'access_denied',
}
const ALERT_MEANING: Record<string, string> = {
  bad_certificate: 'it could not verify it',
  unsupported_certificate: 'it does not accept its type or key usage',
  certificate_revoked: 'it was revoked',
  certificate_expired: 'it has expired or is not yet valid',
  certificate_unknown: 'it refused it',
  unknown_ca: 'it does not trust the certificate\'s issuer',
  access_denied: 'the certificate is valid but not allowed in',
}

const VERSION_WORDS: Record<string, string> = { TLS10: 'TLS 1.0', TLS11: 'TLS 1.1', TLS12: 'TLS 1.2', TLS13: 'TLS 1.3' }

/**
 * node's code for the error. OpenSSL 3.2 renamed the "sslv3 alert ..."
 * reasons to "ssl/tls alert ...", so Node 22 reports
 * ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE where Node 20 reports
 * ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: one spelling here.
 */
function codeOf (err: Error): string {
  const code = (err as NodeJS.ErrnoException).code
  return typeof code === 'string' ? code.replace('ERR_SSL_SSL/TLS_ALERT_', 'ERR_SSL_SSLV3_ALERT_') : ''
}

/** True for errors a TLS handshake produces (verification, OpenSSL, node:tls). */
export function isTlsError (err: Error): boolean {
  if (err instanceof TlsHandshakeError) return true
  const code = codeOf(err)
  return VERIFY_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO'
}

/**
 * The one-line reason for a TLS failure, or undefined when `err` is not one:
 * the reason of an SG_UPSTREAM_TLS error.
 */
export function describeTlsError (err: Error): string | undefined {
  if (!isTlsError(err)) return undefined
  const words = err instanceof TlsHandshakeError ? err.message : tlsFailureWords(err, undefined)
  return `TLS handshake failed: ${words}`
}

/** The TLS feature's ClientFeature.describeFailure: SG_UPSTREAM_TLS with the failure in words, or undefined. */
export function tlsFailure (err: Error): Error | undefined {
  const words = describeTlsError(err)
  return words === undefined ? undefined : new Errors.UPSTREAM_TLS(words, { cause: err })
}

/** Names a certificate by its subject, on one line: `CN=x, O=y`. */
export function subjectWords (subject: string): string {
  return subject.split('\n').join(', ')
}

function quoted (cert: CertSummary): string {
  return JSON.stringify(subjectWords(cert.subject))
}

function iso (d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** `TLS 1.3 only (tls_config min_version TLS13)`, `TLS 1.2 to TLS 1.3`. */
function offeredVersions (facts: HandshakeFacts | undefined): string {
  const min = facts?.minVersion
  const max = facts?.maxVersion
  // Unset, they are Go's (and node's) client defaults.
  const low = min !== undefined ? VERSION_WORDS[min] ?? min : 'TLS 1.2'
  const high = max !== undefined ? VERSION_WORDS[max] ?? max : 'TLS 1.3'
  const range = low === high ? `${low} only` : `${low} to ${high}`
  const keys = [min !== undefined ? `min_version ${min}` : '', max !== undefined ? `max_version ${max}` : ''].filter((k) => k !== '')
  return keys.length === 0 ? range : `${range} (tls_config ${keys.join(', ')})`
}

/** Node's `IP Address:127.0.0.1, DNS:localhost` as `IP 127.0.0.1, DNS localhost`. */
function altNameWords (altNames: string | undefined): string {
  if (altNames === undefined || altNames.trim() === '') return 'no DNS or IP subject alternative names'
  return altNames.split(/,\s*/).map((n) => n.replace(/^IP Address:/, 'IP ').replace(/^DNS:/, 'DNS ')).join(', ')
}

/** Whose certificate: the target's own, or a CA's in its chain. */
function role (chain: CertSummary[], cert: CertSummary): string {
  return chain.indexOf(cert) <= 0 ? 'the target\'s certificate' : 'the CA certificate'
}

function expiredWords (code: string, facts: HandshakeFacts | undefined): string {
  const chain = facts?.chain ?? []
  const now = facts?.at ?? new Date()
  if (code === 'CERT_HAS_EXPIRED') {
    const cert = chain.find((c) => c.validTo.getTime() < now.getTime())
    if (cert === undefined) return 'certificate has expired'
    return `certificate has expired: ${role(chain, cert)} ${quoted(cert)} was valid until ${iso(cert.validTo)}; it is now ${iso(now)}`
  }
  const cert = chain.find((c) => c.validFrom.getTime() > now.getTime())
  if (cert === undefined) return 'certificate is not yet valid'
  return `certificate is not yet valid: ${role(chain, cert)} ${quoted(cert)} is valid from ${iso(cert.validFrom)}; ` +
    `it is now ${iso(now)} (is a clock wrong?)`
}

function unknownAuthorityWords (code: string, facts: HandshakeFacts | undefined, fallback: string): string {
  const chain = facts?.chain ?? []
  const roots = facts?.roots ?? 'the trusted CAs'
  const leaf = chain[0]
  const last = chain.at(-1)
  let detail: string
  if (leaf === undefined || last === undefined) {
    detail = `${fallback}; the target's chain does not lead to a CA in ${roots}`
  } else if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
    detail = `the target's certificate ${quoted(leaf)} is self-signed and not in ${roots}`
  } else if (code === 'SELF_SIGNED_CERT_IN_CHAIN') {
    detail = `the target's chain ends at the self-signed ${quoted(last)}, which is not in ${roots}`
  } else {
    detail = `the target's certificate ${quoted(leaf)} was issued by ${JSON.stringify(subjectWords(last.issuer))}, which is not in ${roots}`
  }
  return `certificate signed by unknown authority: ${detail}`
}

function nameMismatchWords (err: Error, facts: HandshakeFacts | undefined): string {
  const e = err as Error & { host?: string, cert?: { subjectaltname?: string, subject?: { CN?: unknown } } }
  const name = facts?.name ?? e.host ?? '?'
  const from = facts !== undefined ? ` (checked from ${facts.nameFrom})` : ''
  const altNames = e.cert?.subjectaltname ?? facts?.chain[0]?.altNames
  const kind = /^[\d.]+$|:/.test(name) ? 'IP address' : 'name'
  const words = `certificate is not valid for the ${kind} ${JSON.stringify(name)}${from}: it is valid for ${altNameWords(altNames)}`
  const cn = e.cert?.subject?.CN
  // Go (since 1.15) and so Prometheus ignore the Common Name; say so, as it is what such a certificate relies on.
  return (altNames ?? '') === '' && typeof cn === 'string' ? `${words} (its Common Name ${JSON.stringify(cn)} is not used, as in Go)` : words
}

function clientCertWords (code: string, alert: string | undefined, facts: HandshakeFacts | undefined, fallback: string): string {
  const mine = facts?.clientCert
  // Another connector's error: what the job would have sent is not known.
  if (facts === undefined && alert === 'certificate_required') return 'the target requires a client certificate (TLS alert certificate_required)'
  if (alert === 'certificate_required' || (alert === undefined && mine === undefined)) {
    const closed = code === CLOSED_AFTER_CERT_REQUEST ? ': it asked for one, then closed the connection' : ''
    if (mine === undefined) return `the target requires a client certificate, and tls_config has none (set cert_file and key_file)${closed}`
    return `the target requires a client certificate and did not accept ${JSON.stringify(mine)}${closed}`
  }
  if (alert === undefined) {
    return `the target closed the connection after asking for a client certificate: it most likely rejected ${JSON.stringify(mine)}`
  }
  const subject = mine !== undefined ? ` ${JSON.stringify(mine)}` : ''
  return `the target rejected the client certificate${subject} (TLS alert ${alert}: ${ALERT_MEANING[alert] ?? fallback})`
}

function reasonOf (err: Error): string {
  const reason = (err as { reason?: unknown }).reason
  if (typeof reason === 'string' && reason !== '') return reason
  return (err.message.split('\n')[0] ?? '').replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:/, '')
}

/**
 * The cause of a failed handshake in words. `facts` is what the gateway's own
 * connector saw; without it (another connector) the words come from the
 * error alone, with fewer details.
 */
export function tlsFailureWords (err: Error, facts: HandshakeFacts | undefined): string {
  const code = codeOf(err)
  const reason = reasonOf(err)
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return expiredWords(code, facts)
  if (UNKNOWN_AUTHORITY.has(code)) return unknownAuthorityWords(code, facts, reason)
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return nameMismatchWords(err, facts)
  if (code === 'INVALID_PURPOSE') {
    const leaf = facts?.chain[0]
    return `the target's certificate${leaf !== undefined ? ` ${quoted(leaf)}` : ''} is not meant for a TLS server (its key usage or extended key usage rules that out)`
  }
  if (VERIFY_CODES.has(code)) return `certificate verification failed: ${reason} (${code})`

  const alert = CLIENT_CERT_ALERTS[code]
  if (alert !== undefined || code === CLOSED_AFTER_CERT_REQUEST) return clientCertWords(code, alert, facts, reason)
  if (code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE') {
    // TLS 1.2 servers answer a missing client certificate with this generic alert.
    if (facts?.clientCertRequested === true) {
      if (facts.clientCert === undefined) return clientCertWords(code, 'certificate_required', facts, reason)
      return `the target aborted the handshake (TLS alert handshake_failure) after asking for a client certificate: it may have rejected ${JSON.stringify(facts.clientCert)}`
    }
    return 'the target aborted the handshake (TLS alert handshake_failure): no cipher suite, curve or signature algorithm in common'
  }
  if (code === 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION') {
    return `no common TLS version: the gateway offers ${offeredVersions(facts)}, and the target supports none of them (TLS alert protocol_version)`
  }
  if (code === 'ERR_SSL_UNSUPPORTED_PROTOCOL' || code === 'ERR_SSL_TLSV1_ALERT_INAPPROPRIATE_FALLBACK') {
    return `no common TLS version: the target chose a TLS version outside what the gateway offers, ${offeredVersions(facts)}`
  }
  if (code === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE') {
    const max = facts?.maxVersion
    if (facts !== undefined && facts.minVersion === undefined && max !== undefined) {
      return `no common TLS version: tls_config max_version ${max} is below TLS 1.2, the minimum when min_version is not set, so the gateway has no version to offer`
    }
    return `no common TLS version: the gateway has no TLS version to offer (${offeredVersions(facts)})`
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'ERR_SSL_HTTP_REQUEST') {
    return `the target did not answer with TLS (${reason}): does it serve plain HTTP? (scheme: http)`
  }
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'the TLS handshake timed out'
  return code !== '' && !reason.includes(code) ? `${reason} (${code})` : reason
}

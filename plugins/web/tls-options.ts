// tls_server_config and PEM texts → node:tls server options, checked as
// exporter-toolkit checks them when it builds its tls.Config (the same
// function serves load and the rebuild after a certificate file changed).
import tls from 'node:tls'
import { caCertificates, checkKeyPair } from '../tls/pem.js'
import { TLS_VERSIONS } from '../tls/types.js'
import { CLIENT_AUTH } from './client-cert.js'
import type { WebTls } from './types.js'

/** What the options are made of besides the PEM texts. */
export type TlsChoices = Pick<WebTls, 'clientAuth' | 'minVersion' | 'maxVersion' | 'ciphers' | 'curves' | 'preferServerCipherSuites'>

/** The PEM texts in use: inline values, or the files' current contents. */
export interface WebTlsTexts {
  cert: string
  key: string
  clientCa: string | undefined
}

/** Which key bad material is about, so load can point at it. */
export type WebTlsPart = 'cert' | 'client_ca' | 'cipher_suites' | 'curve_preferences'

export class WebTlsError extends Error {
  constructor (readonly about: WebTlsPart, message: string) {
    super(message)
    this.name = 'WebTlsError'
  }
}

/**
 * OpenSSL 3 refuses TLS 1.0 and 1.1 at its default security level 1; a
 * min_version of TLS10 or TLS11 gets level 0, as the job-side tls_config does.
 */
function cipherList (s: TlsChoices): string | undefined {
  const legacy = s.minVersion === 'TLS10' || s.minVersion === 'TLS11'
  if (s.ciphers.length === 0) return legacy ? `${tls.DEFAULT_CIPHERS}:@SECLEVEL=0` : undefined
  return s.ciphers.join(':') + (legacy ? ':@SECLEVEL=0' : '')
}

/** The secure-context part: what setSecureContext takes on a rotation. */
export function secureContextOptions (s: TlsChoices, texts: WebTlsTexts): tls.SecureContextOptions {
  const options: tls.SecureContextOptions = {
    minVersion: TLS_VERSIONS[s.minVersion],
    maxVersion: TLS_VERSIONS[s.maxVersion],
    honorCipherOrder: s.preferServerCipherSuites,
  }
  try {
    checkKeyPair(texts.cert, texts.key)
  } catch (err) {
    throw new WebTlsError('cert', `failed to load X509KeyPair: ${(err as Error).message}`)
  }
  options.cert = texts.cert
  options.key = texts.key
  if (texts.clientCa !== undefined) {
    const roots = caCertificates(texts.clientCa)
    if (roots.length === 0) throw new WebTlsError('client_ca', 'the client CA contains no PEM certificate that parses')
    options.ca = roots
  }
  const ciphers = cipherList(s)
  if (ciphers !== undefined) options.ciphers = ciphers
  if (s.curves.length > 0) options.ecdhCurve = s.curves.join(':')
  // What Go accepts and OpenSSL may not (a key too small for the security level, a cipher list it cannot use, ...).
  try {
    tls.createSecureContext(options)
  } catch (err) {
    const reason = (err as { reason?: string }).reason ?? (err as Error).message
    const about: WebTlsPart = /cipher/i.test(reason) ? 'cipher_suites' : /curve|group/i.test(reason) ? 'curve_preferences' : 'cert'
    throw new WebTlsError(about, `node:tls cannot use this tls_server_config: ${reason}`)
  }
  return options
}

/** The https server's options: the secure context plus the client-certificate switches. */
export function serverTlsOptions (s: TlsChoices, texts: WebTlsTexts): tls.TlsOptions {
  const policy = CLIENT_AUTH[s.clientAuth]
  return { ...secureContextOptions(s, texts), requestCert: policy.requestCert, rejectUnauthorized: policy.rejectUnauthorized }
}

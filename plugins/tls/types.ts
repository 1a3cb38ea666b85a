// The validated shape of a job's TLS settings: what decoding tls_config and
// enable_http2 produces (settings.ts), and what the connect options
// (options.ts), the file reloader (reload.ts) and the connector's failure
// words are built from. Its own file because both the decoder and the
// options builder need it, and the decoder checks PEM material with the
// options builder: the shape sits below both.
import type { Secret } from '../../src/client/secret.js'

/** Prometheus's names of TLS versions, and node:tls's. */
export const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const
export type TlsVersionName = keyof typeof TLS_VERSIONS

/** Where a piece of PEM material comes from: inline in the config, or a file (re-read when it changes). */
export type PemSource = { from: 'inline' } | { from: 'file', path: string }

export interface TlsSettings {
  /** tls_config is present (the job may still have settings for enable_http2 alone). */
  configured: boolean
  /** PEM bundle replacing the default roots. */
  ca: { source: PemSource, pem: string } | undefined
  /** Client certificate and key, both or neither (Validate guarantees it). */
  cert: { source: PemSource, pem: string } | undefined
  key: { source: PemSource, pem: Secret } | undefined
  serverName: string | undefined
  insecureSkipVerify: boolean
  minVersion: TlsVersionName | undefined
  maxVersion: TlsVersionName | undefined
  /** HTTP/2 via ALPN when the target offers it (Prometheus's default: true). */
  enableHttp2: boolean
}

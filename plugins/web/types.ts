// The validated shape of a web config file (exporter-toolkit's format, the
// one `--web.config.file` of Prometheus and the exporters reads): what
// config.ts decodes, and what the TLS options, the client-certificate check,
// basic auth, the rate limit and the response headers are built from. Its
// own file because the decoder and every one of those modules need it.
import type { TlsOptions } from 'node:tls'
import type { Secret } from '../../src/client/secret.js'
import type { TlsVersionName } from '../tls/types.js'

/** Go's tls.ClientAuthType names, as client_auth_type takes them. */
export type ClientAuthType =
  | 'NoClientCert'
  | 'RequestClientCert'
  | 'RequireAnyClientCert'
  | 'VerifyClientCertIfGiven'
  | 'RequireAndVerifyClientCert'

/** PEM material: inline in the web config, or a file (re-read when it changes). */
export type PemInput = { from: 'inline', pem: string } | { from: 'file', path: string, pem: string }

export interface WebTls {
  cert: PemInput
  /** The key's text; a file's content is kept as read at load, and read again on change. */
  key: { from: 'inline', pem: Secret } | { from: 'file', path: string, pem: Secret }
  clientCa: PemInput | undefined
  clientAuth: ClientAuthType
  /** undefined: no SAN check; [] refuses every certificate, as in Go. */
  clientAllowedSans: readonly string[] | undefined
  minVersion: TlsVersionName
  maxVersion: TlsVersionName
  /** OpenSSL names of the TLS 1.2 suites asked for; [] for node's defaults. */
  ciphers: readonly string[]
  /** OpenSSL names of the curves, in preference order; [] for node's defaults. */
  curves: readonly string[]
  preferServerCipherSuites: boolean
  /** The https server's options as load built and checked them: given to Fastify at construction. */
  serverOptions: TlsOptions
}

export interface WebConfig {
  file: string
  /** undefined: plain HTTP (no certificate configured), as in exporter-toolkit. */
  tls: WebTls | undefined
  /** http_server_config.http2; the gateway serves HTTP/1.1 either way (README "Web config"). */
  http2: boolean
  /** http_server_config.headers, blank values left out: [name, value]. */
  headers: ReadonlyArray<readonly [string, string]>
  /** basic_auth_users: username → bcrypt hash. Empty: no basic auth. */
  users: ReadonlyMap<string, Secret>
  /** rate_limit, when its interval is not 0. */
  rateLimit: { intervalMs: number, burst: number } | undefined
}

// Go's names of cipher suites and curves (the ones exporter-toolkit accepts:
// tls.CipherSuites() and its four curves) → OpenSSL's names, which node:tls
// takes in `ciphers` and `ecdhCurve`.
//
// Go applies cipher_suites to TLS 1.0–1.2 only: TLS 1.3 suites are not
// configurable in crypto/tls, so the three TLS 1.3 names load (they are in
// tls.CipherSuites()) and change nothing, here as in Go. Node's TLS 1.3
// suites stay OpenSSL's defaults (the same three).

/** TLS 1.0–1.2 suites: Go name → OpenSSL name. */
const TLS12_SUITES: ReadonlyMap<string, string> = new Map([
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA'],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
])

/** TLS 1.3 suites: accepted, not applied (see above). */
const TLS13_SUITES: ReadonlySet<string> = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'])

/** The suites Go's HTTP/2 server needs when a TLS 1.2 list is given (x/net/http2 configureServer). */
export const HTTP2_REQUIRED = ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'] as const

const CURVES: ReadonlyMap<string, string> = new Map([
  ['CurveP256', 'P-256'],
  ['CurveP384', 'P-384'],
  ['CurveP521', 'P-521'],
  ['X25519', 'X25519'],
])

/**
 * The OpenSSL name of a Go cipher suite name; null for a TLS 1.3 suite (known,
 * ignored); throws Go's `unknown cipher: X` for anything else.
 */
export function opensslCipher (goName: string): string | null {
  if (TLS13_SUITES.has(goName)) return null
  const name = TLS12_SUITES.get(goName)
  if (name === undefined) throw new Error(`unknown cipher: ${goName}`)
  return name
}

/** The OpenSSL name of a Go curve name; throws Go's `unknown curve: X`. */
export function opensslCurve (goName: string): string {
  const name = CURVES.get(goName)
  if (name === undefined) throw new Error(`unknown curve: ${goName}`)
  return name
}

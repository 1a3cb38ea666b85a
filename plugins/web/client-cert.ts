// client_auth_type and client_allowed_sans on node:tls. Go's five policies
// map onto node's two switches (requestCert, rejectUnauthorized); what node
// cannot refuse in the handshake is refused per request, from a verdict made
// once per connection (renegotiation is off, so a connection's certificate
// never changes):
//
//   client_auth_type            requestCert  rejectUnauthorized  per request
//   NoClientCert                false        -                   -
//   RequestClientCert           true         false               -
//   RequireAnyClientCert        true         false               a certificate, verified or not
//   VerifyClientCertIfGiven     true         false               if one was sent, it verified
//   RequireAndVerifyClientCert  true         true                -  (the handshake refuses)
//
// client_allowed_sans (RequireAnyClientCert or RequireAndVerifyClientCert
// only, as exporter-toolkit requires) is checked per request too: Go's
// VerifyPeerCertificate, an exact match of one of the certificate's DNS,
// email, IP or URI names against the list.
import net from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { ClientAuthType } from './types.js'

export interface ClientAuthPolicy {
  requestCert: boolean
  rejectUnauthorized: boolean
  /** Refuse a connection without a certificate (what rejectUnauthorized does not cover). */
  require: boolean
  /** Refuse a certificate that did not verify (when rejectUnauthorized let it through). */
  verify: boolean
}

export const CLIENT_AUTH: Readonly<Record<ClientAuthType, ClientAuthPolicy>> = {
  NoClientCert: { requestCert: false, rejectUnauthorized: false, require: false, verify: false },
  RequestClientCert: { requestCert: true, rejectUnauthorized: false, require: false, verify: false },
  RequireAnyClientCert: { requestCert: true, rejectUnauthorized: false, require: true, verify: false },
  VerifyClientCertIfGiven: { requestCert: true, rejectUnauthorized: false, require: false, verify: true },
  RequireAndVerifyClientCert: { requestCert: true, rejectUnauthorized: true, require: false, verify: false },
}

/** Go's names in client_auth_type (exporter-toolkit keeps `RequireClientCert` as an old name of RequireAnyClientCert). */
export function parseClientAuth (s: string): ClientAuthType {
  if (s === '' || s === 'NoClientCert') return 'NoClientCert'
  if (s === 'RequireClientCert') return 'RequireAnyClientCert'
  if (Object.hasOwn(CLIENT_AUTH, s)) return s as ClientAuthType
  throw new Error(`invalid ClientAuth: ${s}`)
}

/** The names of a certificate's subject alternative names as Go lists them (DNS, email, IP, URI). */
function sanValues (subjectAltName: string | undefined): string[] {
  const out: string[] = []
  // node's format: `DNS:a, IP Address:1.2.3.4, email:x@y, URI:u`, a value with
  // a comma or a quote JSON-quoted.
  const entry = /([^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy
  let m: RegExpExecArray | null
  while ((m = entry.exec(subjectAltName ?? '')) !== null && m[0] !== '') {
    const type = m[1] as string
    const raw = m[2] as string
    const value = raw.startsWith('"') ? JSON.parse(raw) as string : raw
    if (type === 'DNS' || type === 'email' || type === 'URI') out.push(value)
    else if (type === 'IP Address') out.push(goIp(value))
  }
  return out
}

/** Go's net.IP String(): IPv6 compressed, lower case. */
function goIp (ip: string): string {
  if (net.isIPv6(ip)) return new URL(`http://[${ip}]/`).hostname.slice(1, -1)
  return ip
}

/** Why this connection may not make requests under the policy, or undefined. */
export function clientCertRefusal (socket: TLSSocket, type: ClientAuthType, allowedSans: readonly string[] | undefined): string | undefined {
  const policy = CLIENT_AUTH[type]
  const peer = socket.getPeerCertificate()
  const given = peer !== null && peer.raw !== undefined
  if (!given) return policy.require ? `client_auth_type ${type} requires a client certificate, and the client sent none` : undefined
  const subject = peer.subject === undefined ? '' : Object.entries(peer.subject).map(([k, v]) => `${k}=${String(v)}`).join(',')
  if (policy.verify && !socket.authorized) {
    return `client_auth_type ${type}: the client certificate "${subject}" did not verify: ${String(socket.authorizationError)}`
  }
  if (allowedSans !== undefined) {
    const names = sanValues(peer.subjectaltname)
    if (!names.some((n) => allowedSans.includes(n))) {
      return `the client certificate "${subject}" has no subject alternative name that client_allowed_sans allows (it has ${names.length === 0 ? 'none' : names.join(', ')})`
    }
  }
  return undefined
}

// A TLS peer's certificate chain in plain facts (subject, issuer, subject
// alternative names, validity): what the TLS feature words a failed handshake
// with (plugins/tls/errors.ts) and what the debug report prints
// (src/report/text.ts). Made from node's detailed peer certificate, which the
// TLS connector keeps by reference during every handshake: summarised only
// when a failure or a report needs it, never on the probe's hot path.
import { X509Certificate } from 'node:crypto'
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls'

/** One certificate of a chain. */
export interface CertSummary {
  subject: string
  issuer: string
  validFrom: Date
  validTo: Date
  /** Node's `subjectaltname`, e.g. `DNS:localhost, IP Address:127.0.0.1`. */
  altNames: string | undefined
}

function summary (cert: PeerCertificate): CertSummary | undefined {
  if (cert.raw === undefined) return undefined
  const x = new X509Certificate(cert.raw)
  return { subject: x.subject, issuer: x.issuer, validFrom: new Date(x.validFrom), validTo: new Date(x.validTo), altNames: x.subjectAltName }
}

/** The chain a peer presented, leaf first, from a detailed peer certificate (the root refers to itself). */
export function chainOf (peer: DetailedPeerCertificate | undefined): CertSummary[] {
  const chain: CertSummary[] = []
  const seen = new Set<DetailedPeerCertificate>()
  for (let c = peer; c !== undefined && c.raw !== undefined && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c)
    const s = summary(c)
    if (s !== undefined) chain.push(s)
  }
  return chain
}

/** When the peer's own certificate expires, in seconds since the epoch; undefined without one. */
export function notAfterSeconds (peer: PeerCertificate | undefined): number | undefined {
  if (peer?.valid_to === undefined) return undefined
  const ms = Date.parse(peer.valid_to)
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}

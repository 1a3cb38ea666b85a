// Connections to a job's https targets. node:tls does the handshake and the
// verification with the job's options, exactly as with undici's own connector;
// this one also watches the handshake so a failure can say why: it keeps the
// target's chain (for the dates of an expired certificate), the name checked,
// and whether the target asked for a client certificate. Like Go's client
// without a session cache (Prometheus's), it does not resume TLS sessions.
// What it saw (version, cipher, ALPN, the server name sent, the peer's chain)
// goes into the connection's facts (src/client/connection-facts.ts), bound to
// the socket or to the failure, for the probe's record and its debug report;
// the chain is kept by reference and summarised only when printed.
//
// Why not undici's buildConnector (lib/core/connect.js in undici 7), which
// takes the same options: three things it does differently, each pinned by a
// test in test/tls.test.ts:
// - It hands node's error on as it is, once the handshake has failed and the
//   socket has forgotten what it saw; here the failure carries the chain, the
//   name checked and the roots, worded by errors.ts ('says when the target's
//   certificate expired or is not yet valid, with the date ...', 'names the
//   unknown authority and the CA file it is not in').
// - It hands the socket over at 'secureConnect'. Under TLS 1.3 that is
//   before the target has judged the client certificate, so a rejected or
//   missing one shows up as the request's `other side closed`
//   (UND_ERR_SOCKET); here, when the target asked for a certificate, the
//   connection waits for its verdict ('sends the client certificate to a
//   target that requires one (TLS 1.3 and 1.2), and says so when there is
//   none').
// - It keeps up to 100 TLS sessions per server name and resumes them ('never
//   resumes a TLS session, as Go's client without a session cache ...').
import { X509Certificate } from 'node:crypto'
import net from 'node:net'
import tls from 'node:tls'
import { buildConnector, errors } from 'undici'
import type { ConnectOptions, Connector } from '../../src/client/feature.js'
import { chainOf, notAfterSeconds } from '../../src/client/certificates.js'
import { attemptOf, bindConnection, type TlsFacts } from '../../src/client/connection-facts.js'
import {
  CLOSED_AFTER_CERT_REQUEST, isTlsError, subjectWords, TlsHandshakeError, tlsFailureWords,
  type HandshakeFacts,
} from './errors.js'

/** Prometheus's TLSHandshakeTimeout (10 s); here it bounds the TCP connect too. */
const CONNECT_TIMEOUT_MS = 10_000

/**
 * TLS 1.3 ends the client's handshake before the server has checked the
 * client's certificate; a server that rejects it says so (an alert, or just a
 * close) after `secureConnect`, when an HTTP client would report a mere
 * "other side closed". When the target asked for a client certificate, the
 * connection is handed over once the server has answered: a session ticket
 * (accepted), an alert or a close (rejected), or, from a server that sends no
 * tickets, nothing within a few handshake times.
 */
const VERDICT_MIN_MS = 50
const VERDICT_MAX_MS = 1000

export interface TlsConnectorOptions {
  connect: ConnectOptions
  allowH2: boolean
  /** tls_config.server_name: SNI and the name the certificate must cover. */
  serverName: string | undefined
  /** The trusted roots in words, for failures (see HandshakeFacts.roots). */
  roots: string
  minVersion: string | undefined
  maxVersion: string | undefined
}

export function tlsConnector (o: TlsConnectorOptions): Connector {
  const plain = buildConnector({ allowH2: o.allowH2 })
  const alpn = o.allowH2 ? ['h2', 'http/1.1'] : ['http/1.1']
  const clientCert = typeof o.connect.cert === 'string' ? subjectWords(new X509Certificate(o.connect.cert).subject) : undefined
  const checkIdentity = o.connect.checkServerIdentity ?? tls.checkServerIdentity

  return (opts, callback) => {
    if (opts.protocol !== 'https:') return plain(opts, callback)
    const started = Date.now()
    const name = o.serverName ?? (opts.servername != null && opts.servername !== '' ? opts.servername : opts.hostname)
    const facts: HandshakeFacts = {
      name,
      nameFrom: o.serverName !== undefined ? 'tls_config.server_name' : 'the target address',
      roots: o.roots,
      clientCert,
      clientCertRequested: false,
      minVersion: o.minVersion,
      maxVersion: o.maxVersion,
      chain: [],
      at: new Date(started),
    }
    let peer: tls.DetailedPeerCertificate | undefined
    // What a probe's record (and its debug report) shows of this connection.
    const attempt = attemptOf(opts)
    const servername = net.isIP(name) === 0 ? name : undefined
    const published: TlsFacts = {
      protocol: undefined,
      cipher: undefined,
      alpn: undefined,
      serverName: servername,
      checkedName: name,
      checkedFrom: facts.nameFrom,
      peer: undefined,
      notAfter: undefined,
    }
    attempt.tls = published

    const options: tls.ConnectionOptions = {
      ...o.connect,
      host: opts.hostname,
      port: Number(opts.port) || 443,
      // SNI carries names only; an IP is still what the certificate is checked against.
      servername,
      checkServerIdentity: (_host, cert) => checkIdentity(name, cert),
      ALPNProtocols: alpn,
      ...(opts.localAddress != null ? { localAddress: opts.localAddress } : {}),
      ...(opts.httpSocket !== undefined ? { socket: opts.httpSocket } : {}),
    }
    const socket = tls.connect(options)
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 60_000)
    if (opts.httpSocket !== undefined) attempt.tcpAt = performance.now()
    else socket.once('connect', () => { attempt.tcpAt = performance.now() })

    // Key material is logged while the handshake runs: a moment when the
    // target's certificate (and a CertificateRequest) are known, before a
    // failed verification destroys the socket and all it knew.
    const observe = (): void => {
      if (socket.destroyed) return
      if (socket.getSharedSigalgs().length > 0) facts.clientCertRequested = true
      if (peer === undefined) {
        const p = socket.getPeerCertificate(true)
        if (p.raw !== undefined) published.peer = peer = p
      }
    }

    let done = false
    const timer = setTimeout(() => {
      finish(new errors.ConnectTimeoutError(`Connect Timeout Error (attempted address: ${opts.hostname}:${opts.port}, timeout: ${CONNECT_TIMEOUT_MS}ms)`))
    }, CONNECT_TIMEOUT_MS).unref()
    let verdict: NodeJS.Timeout | undefined

    const wrap = (err: Error): Error => {
      facts.at = new Date()
      facts.chain = chainOf(peer)
      if (facts.clientCertRequested && !isTlsError(err)) {
        // A close or reset rather than an alert, after the target asked for a
        // client certificate: most likely its answer to the certificate.
        return new TlsHandshakeError(tlsFailureWords(Object.assign(new Error('closed'), { code: CLOSED_AFTER_CERT_REQUEST }), facts),
          CLOSED_AFTER_CERT_REQUEST, facts, { cause: err })
      }
      if (!isTlsError(err)) return err
      return new TlsHandshakeError(tlsFailureWords(err, facts), (err as NodeJS.ErrnoException).code ?? '', facts, { cause: err })
    }
    const onError = (err: Error): void => { finish(wrap(err)) }
    const onClosed = (): void => {
      finish(wrap(Object.assign(new Error('the target closed the connection during the TLS handshake'), { code: 'ECONNRESET' })))
    }
    // Node emits 'session' from inside OpenSSL's read of the ticket: writing
    // the request from there would re-enter OpenSSL, so hand over after it.
    const onSession = (): void => { setImmediate(() => { finish(null) }) }

    function finish (err: Error | null): void {
      if (done) return
      done = true
      clearTimeout(timer)
      clearTimeout(verdict)
      socket.off('keylog', observe).off('error', onError).off('end', onClosed).off('close', onClosed).off('session', onSession)
      // Once per connection, so the certificate gauge reads a number at each probe on it.
      published.notAfter = notAfterSeconds(peer)
      if (err === null) {
        published.protocol = socket.getProtocol() ?? undefined
        published.cipher = socket.getCipher()?.standardName
        published.alpn = typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : undefined
        bindConnection(socket, attempt)
        callback(null, socket)
      } else {
        bindConnection(err, attempt)
        socket.on('error', () => {}).destroy()
        callback(err, null)
      }
    }

    socket.on('keylog', observe)
    socket.on('error', onError)
    socket.once('secureConnect', () => {
      observe()
      if (socket.getProtocol() !== 'TLSv1.3' || !facts.clientCertRequested) {
        finish(null)
        return
      }
      const handshakeMs = Date.now() - started
      verdict = setTimeout(() => { finish(null) }, Math.min(VERDICT_MAX_MS, VERDICT_MIN_MS + 2 * handshakeMs)).unref()
      socket.once('session', onSession).once('end', onClosed).once('close', onClosed)
    })
  }
}

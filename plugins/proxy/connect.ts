// Connections to a forward proxy, and CONNECT tunnels through it. Every failure
// on the way to the target (refused, TLS with an https proxy, a CONNECT
// answered with anything but 200) is an SG_PROXY error that names the proxy,
// password hidden. What happens inside the tunnel (the target's own TLS) stays
// the target's, classified as for a direct connection. A forwarded request's
// response is read from the proxy's connection, so a `100 Continue` the proxy
// relays is skipped there, as on a direct one (src/client/interim-filter.ts).
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { buildConnector, type Pool } from 'undici'
import { classify } from '../../src/classify.js'
import { Errors } from '../../src/errors.js'
import type { ConnectOptions } from '../../src/client/feature.js'
import { attemptOf, bindConnection, ConnectionFacts, withAttempt } from '../../src/client/connection-facts.js'
import { skipContinue } from '../../src/client/interim-filter.js'
import type { ProxyUrl } from './url.js'

/** A bound on the proxy's answer to CONNECT; the probe's deadline cannot reach a connector. */
const CONNECT_ANSWER_TIMEOUT_MS = 10_000

// Failures to get a TCP connection at all; anything else while talking TLS to an https proxy is the handshake's.
const UNREACHABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET',
])

/** Wraps a failure to connect to the proxy itself. */
export function proxyError (proxy: ProxyUrl, err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code ?? ''
  const what = proxy.protocol === 'https:' && !UNREACHABLE.has(code)
    ? `TLS handshake with proxy ${proxy.redacted} failed`
    : `cannot reach proxy ${proxy.redacted}`
  return classify(err, { phase: 'via', keepCoded: true, wrap: (reason) => new Errors.PROXY(`${what}: ${reason}`, { cause: err }) })
}

export function statusLine (statusCode: number): string {
  return `${statusCode} ${STATUS_CODES[statusCode] ?? ''}`.trim()
}

/**
 * Connects to the proxy. An https proxy is verified with the job's TLS
 * settings (CA, insecure_skip_verify), as Go's transport does, against the
 * proxy's own host name: undici would otherwise offer the target's.
 */
export function proxyConnector (proxy: ProxyUrl, tls: ConnectOptions): buildConnector.connector {
  const connect = buildConnector(proxy.protocol === 'https:' ? { ...tls, servername: undefined } : {})
  return (opts, callback) => {
    // A probe's record shows a forwarded request's connection as the proxy's.
    const facts = new ConnectionFacts()
    facts.proxy = proxy.redacted
    const port = opts.port !== '' && opts.port != null ? opts.port : opts.protocol === 'https:' ? '443' : '80'
    facts.tried.push(`${opts.hostname.includes(':') ? `[${opts.hostname}]` : opts.hostname}:${port}`)
    facts.connectStart = performance.now()
    connect({ ...opts, servername: undefined }, (err, socket) => {
      if (err !== null) {
        const failed = proxyError(proxy, err)
        bindConnection(failed, facts)
        callback(failed, null)
      } else {
        facts.readyAt = performance.now()
        bindConnection(socket as Socket, facts)
        callback(null, skipContinue(socket as Socket))
      }
    })
  }
}

/**
 * Connects to a target through a CONNECT tunnel: `CONNECT host:port` with
 * `headers` (proxy_connect_header, then Proxy-Authorization), then, for an
 * https target, the target's TLS handshake inside the tunnel with the job's
 * TLS options and the request's server name.
 */
export function tunnelConnector (
  proxy: ProxyUrl,
  proxyPool: Pool,
  headers: Readonly<Record<string, string | string[]>>,
  target: buildConnector.connector
): buildConnector.connector {
  return (opts, callback) => {
    const port = opts.port !== '' && opts.port != null ? opts.port : opts.protocol === 'https:' ? '443' : '80'
    const authority = `${opts.hostname.includes(':') ? `[${opts.hostname}]` : opts.hostname}:${port}`
    proxyPool.connect({
      path: authority,
      headers: { host: authority, ...headers },
      signal: AbortSignal.timeout(CONNECT_ANSWER_TIMEOUT_MS),
    }).then(({ statusCode, socket }) => {
      if (statusCode !== 200) {
        socket.on('error', () => {}).destroy()
        callback(new Errors.PROXY(`proxy ${proxy.redacted} refused CONNECT to ${authority}: ${statusLine(statusCode)}`), null)
        return
      }
      if (opts.protocol !== 'https:') {
        callback(null, socket as Socket)
        return
      }
      // The target's connection runs in the tunnel: its facts say through which proxy.
      const facts = attemptOf(opts)
      facts.tunnel = proxy.redacted
      target(withAttempt({ ...opts, httpSocket: socket as Socket }, facts), callback)
    }, (err: Error) => {
      callback(classify(err, {
        phase: 'via',
        keepCoded: true,
        wrap: (reason) => new Errors.PROXY(`CONNECT to ${authority} through proxy ${proxy.redacted} failed: ${reason}`, { cause: err }),
      }), null)
    })
  }
}

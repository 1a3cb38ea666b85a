// What the connectors know of one connection (or one attempt at one): the
// name resolved and its addresses, the address dialled, the TLS handshake,
// and when each step ended. undici pools connections and hands its
// connectors no request, so the facts travel the way the connection does:
// - on the way down, in the connector's options (attemptOf/withAttempt), so
//   the core's pinned connector and the TLS feature's connector inside it
//   fill one object;
// - on the way back, bound to the socket, or to the error of a failed
//   attempt (bindConnection); the probe finds them from the socket its
//   request went out on (undici's sendHeaders diagnostics, response-flow.ts)
//   or from the error its request failed with.
// A ProbeRecord (record.ts) refers to them; they refer to nothing of the socket.
import type { DetailedPeerCertificate } from 'node:tls'

/** The TLS handshake of a connection to a target, as the TLS connector saw it. */
export interface TlsFacts {
  /** tlsSocket.getProtocol(), e.g. `TLSv1.3`; undefined when the handshake did not finish. */
  protocol: string | undefined
  /** The cipher suite's standard name. */
  cipher: string | undefined
  /** The protocol ALPN chose (`h2`, `http/1.1`), or undefined for none. */
  alpn: string | undefined
  /** The server name sent (SNI); undefined when the name checked is an IP address, which SNI cannot carry. */
  serverName: string | undefined
  /** The name the certificate is checked against, and where it comes from. */
  checkedName: string
  checkedFrom: string
  /** Node's detailed peer certificate, by reference: the chain the target presented (summarised only to print it). */
  peer: DetailedPeerCertificate | undefined
  /** The leaf's notAfter in Unix seconds, parsed once when the handshake ended (succeeded or failed with a certificate seen). */
  notAfter: number | undefined
}

/** Instants are performance.now() values, like the ProbeRecord's. */
export class ConnectionFacts {
  /** A name that was resolved (undefined for an IP address, or when a proxy resolves it). */
  name: string | undefined = undefined
  /** What the resolver answered, in its order. */
  resolved: readonly string[] | undefined = undefined
  /** Of those, the addresses the job's target policy lets the gateway dial. */
  usable: readonly string[] | undefined = undefined
  resolveStart: number | undefined = undefined
  resolveEnd: number | undefined = undefined
  /** `address:port` tried, in order: the last is the one connected (or that failed). */
  readonly tried: string[] = []
  connectStart: number | undefined = undefined
  /** TCP is up (the TLS connector sees it; for plain http it is readyAt). */
  tcpAt: number | undefined = undefined
  /** The connector handed the connection over, TLS included. */
  readyAt: number | undefined = undefined
  /** The CONNECT tunnel it runs in: the proxy, as it prints. */
  tunnel: string | undefined = undefined
  /** The connection goes to a forward proxy (the proxy, as it prints), not to the target. */
  proxy: string | undefined = undefined
  tls: TlsFacts | undefined = undefined
}

const bound = new WeakMap<object, ConnectionFacts>()

/** Ties facts to the socket a connector hands over, or to the error a failed attempt reports. */
export function bindConnection (key: object, facts: ConnectionFacts): void {
  bound.set(key, facts)
}

/** The facts bound to a socket. */
export function connectionOf (socket: object | undefined): ConnectionFacts | undefined {
  return socket === undefined ? undefined : bound.get(socket)
}

/** The facts that came back with a failure: bound to the error or to one of its causes (layers wrap errors). */
export function connectionOfError (err: unknown): ConnectionFacts | undefined {
  let e = err
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    const facts = bound.get(e)
    if (facts !== undefined) return facts
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** Connector options that carry the attempt's facts down to an inner connector. */
interface Carrier {
  readonly connectionFacts?: ConnectionFacts
}

/** The facts of the attempt these connector options belong to: the outer connector's, or new ones. */
export function attemptOf (opts: object): ConnectionFacts {
  return (opts as Carrier).connectionFacts ?? new ConnectionFacts()
}

/** `opts` carrying `facts` to the connector they are passed to. */
export function withAttempt<T extends object> (opts: T, facts: ConnectionFacts): T {
  return { ...opts, connectionFacts: facts }
}

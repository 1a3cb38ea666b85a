// Connections to a job's targets go only to addresses its target policy
// checked (src/policy/target-policy.ts, step 3). The name is resolved once,
// here; each address is checked; the connector below is handed the address
// itself, with the name as the TLS server name (SNI and the certificate
// check), so nothing below resolves again (node:net and node:tls do not look
// up an IP literal) and a DNS answer that changes between check and connect
// (rebinding) changes nothing.
//
// Addresses are tried in the resolver's order, the next one only when the
// previous one refused the connection or could not be reached: what Node's
// connect does with autoSelectFamily off, over the checked addresses only.
//
// Inside a CONNECT tunnel (httpSocket) the proxy resolved the name: the
// proxying dispatcher asked the policy before the CONNECT
// (DispatcherOptions.viaProxy), and the name is checked again here, before
// the target's TLS handshake and the request that carries credentials.
import dns from 'node:dns'
import net from 'node:net'
import type { Socket } from 'node:net'
import type { Connector } from './feature.js'
import { attemptOf, bindConnection, withAttempt } from './connection-facts.js'
import { dispatchingRecord } from './record-layer.js'
import type { TargetPolicy } from '../policy/target-policy.js'

/** dns.lookup's shape with `all: true`; tests pass their own to resolve test names without DNS. */
export type Lookup = (
  hostname: string,
  options: { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void
) => void

/** Failures after which the next resolved address is tried: this one cannot be reached. */
const NEXT_ADDRESS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT'])

type Done = Parameters<Connector>[1]

/** Hands a connector's outcome to undici's callback, in the (err, null) | (null, socket) shape it wants. */
export function reply (callback: Done, err: Error | null, socket: Socket | null): void {
  if (err !== null) callback(err, null)
  else callback(null, socket as Socket)
}

/** `address:port`, an IPv6 address in brackets. */
function authority (address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`
}

/**
 * `connect`, dialling only addresses `policy` allows. What it resolves and
 * dials goes into the attempt's facts (connection-facts.ts), which come back
 * bound to the socket or to the error, and into the record of the probe whose
 * dispatch opened the connection (record-layer.ts).
 */
export function pinnedConnector (connect: Connector, policy: TargetPolicy, lookup: Lookup = dns.lookup): Connector {
  return (opts, callback) => {
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80)
    const facts = attemptOf(opts)
    const record = dispatchingRecord()
    if (record !== undefined) record.attempt = facts
    const done = (err: Error | null, socket: Socket | null): void => {
      if (err !== null) {
        bindConnection(err, facts)
      } else if (socket !== null) {
        facts.readyAt = performance.now()
        bindConnection(socket, facts)
      }
      reply(callback, err, socket)
    }
    /** Dials `address` (with the name as the TLS server name when it was resolved), then `then`. */
    const dial = (address: string, servername: string | undefined, then: typeof done): void => {
      facts.tried.push(authority(address, port))
      facts.connectStart = performance.now()
      const dialled = servername === undefined ? opts : { ...opts, hostname: address, servername }
      connect(withAttempt(dialled, facts), then)
    }
    if (opts.httpSocket !== undefined) {
      const refused = policy.viaProxy(opts.hostname, port)
      if (refused !== undefined) done(refused, null)
      else dial(opts.hostname, undefined, done)
      return
    }
    if (net.isIP(opts.hostname) !== 0) {
      const usable = policy.connectable(opts.hostname, port, [opts.hostname])
      if (usable instanceof Error) done(usable, null)
      else dial(opts.hostname, undefined, done)
      return
    }
    facts.name = opts.hostname
    facts.resolveStart = performance.now()
    lookup(opts.hostname, { all: true }, (err, addresses) => {
      facts.resolveEnd = performance.now()
      if (err !== null) {
        done(err, null)
        return
      }
      facts.resolved = addresses.map((a) => a.address)
      const usable = policy.connectable(opts.hostname, port, facts.resolved)
      if (usable instanceof Error) {
        done(usable, null)
        return
      }
      facts.usable = usable
      const servername = opts.servername != null && opts.servername !== '' ? opts.servername : opts.hostname
      const attempt = (i: number): void => {
        dial(usable[i] as string, servername, (err, socket) => {
          const code = (err as NodeJS.ErrnoException | null)?.code ?? ''
          if (err !== null && i + 1 < usable.length && NEXT_ADDRESS.has(code)) attempt(i + 1)
          else done(err, socket)
        })
      }
      attempt(0)
    })
  }
}

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

function reply (callback: Done, err: Error | null, socket: Socket | null): void {
  if (err !== null) callback(err, null)
  else callback(null, socket as Socket)
}

/** `connect`, dialling only addresses `policy` allows. */
export function pinnedConnector (connect: Connector, policy: TargetPolicy, lookup: Lookup = dns.lookup): Connector {
  return (opts, callback) => {
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80)
    if (opts.httpSocket !== undefined) {
      const refused = policy.viaProxy(opts.hostname, port)
      if (refused !== undefined) callback(refused, null)
      else connect(opts, callback)
      return
    }
    if (net.isIP(opts.hostname) !== 0) {
      const usable = policy.connectable(opts.hostname, port, [opts.hostname])
      if (usable instanceof Error) callback(usable, null)
      else connect(opts, callback)
      return
    }
    lookup(opts.hostname, { all: true }, (err, addresses) => {
      if (err !== null) {
        callback(err, null)
        return
      }
      const usable = policy.connectable(opts.hostname, port, addresses.map((a) => a.address))
      if (usable instanceof Error) {
        callback(usable, null)
        return
      }
      const servername = opts.servername != null && opts.servername !== '' ? opts.servername : opts.hostname
      const attempt = (i: number): void => {
        connect({ ...opts, hostname: usable[i] as string, servername }, (err: Error | null, socket: Socket | null) => {
          const code = (err as NodeJS.ErrnoException | null)?.code ?? ''
          if (err !== null && i + 1 < usable.length && NEXT_ADDRESS.has(code)) attempt(i + 1)
          else reply(callback, err, socket)
        })
      }
      attempt(0)
    })
  }
}

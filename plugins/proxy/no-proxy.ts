// Which targets bypass the proxy: Go's golang.org/x/net/http/httpproxy rules,
// which Prometheus applies to `no_proxy` and to NO_PROXY. A comma list of
// entries, each with an optional port:
//   `*`                      every host
//   `10.0.0.0/8`, `fd00::/8` an IP range
//   `10.1.2.3`, `[::1]:9100` one IP
//   `example.com`            that host and its subdomains
//   `.example.com`, `*.example.com`  its subdomains only
// `localhost` and loopback IPs never use the proxy under these rules.
import { BlockList, isIP } from 'node:net'
import { domainToASCII } from 'node:url'

interface IpRule {
  readonly address: BlockList
  readonly port: string
}

interface DomainRule {
  /** Always starts with `.`. */
  readonly suffix: string
  /** The entry had no leading dot: the domain itself matches too. */
  readonly matchHost: boolean
  readonly port: string
}

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

function family (ip: string): 'ipv4' | 'ipv6' {
  return isIP(ip) === 6 ? 'ipv6' : 'ipv4'
}

/** `host:port` or `[v6]:port` split like Go's net.SplitHostPort; undefined when there is no port. */
function splitHostPort (entry: string): [string, string] | undefined {
  if (entry.startsWith('[')) {
    const m = /^\[([^\]]*)\]:([^:]*)$/.exec(entry)
    return m === null ? undefined : [m[1] as string, m[2] as string]
  }
  const colon = entry.lastIndexOf(':')
  if (colon === -1 || entry.indexOf(':') !== colon) return undefined
  return [entry.slice(0, colon), entry.slice(colon + 1)]
}

function parseCidr (entry: string): BlockList | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(entry)
  if (m === null) return undefined
  const [, ip, bits] = m as unknown as [string, string, string]
  const v = isIP(ip)
  const prefix = Number(bits)
  if (v === 0 || prefix > (v === 4 ? 32 : 128)) return undefined
  const list = new BlockList()
  list.addSubnet(ip, prefix, family(ip))
  return list
}

export class NoProxy {
  readonly #all: boolean
  readonly #ranges: BlockList[] = []
  readonly #ips: IpRule[] = []
  readonly #domains: DomainRule[] = []

  /** @param list the `no_proxy` / NO_PROXY value, as written (shown by /config). */
  constructor (readonly list: string) {
    let all = false
    for (const raw of list.split(',')) {
      const entry = raw.trim().toLowerCase()
      if (entry === '') continue
      if (entry === '*') {
        all = true
        break
      }
      const range = parseCidr(entry)
      if (range !== undefined) {
        this.#ranges.push(range)
        continue
      }
      let [host, port] = splitHostPort(entry) ?? [entry, '']
      if (host === '') continue // `:80`: malformed, ignored as Go does
      if (isIP(host) !== 0) {
        const address = new BlockList()
        address.addAddress(host, family(host))
        this.#ips.push({ address, port })
        continue
      }
      if (host.startsWith('*.')) host = host.slice(1)
      const matchHost = !host.startsWith('.')
      const bare = matchHost ? host : host.slice(1)
      const ascii = domainToASCII(bare)
      this.#domains.push({ suffix: '.' + (ascii === '' ? bare : ascii), matchHost, port })
    }
    this.#all = all
  }

  /**
   * True when a request to `hostname:port` goes direct. `hostname` is a WHATWG
   * URL hostname (lower case, IPv6 in brackets); `port` is never empty.
   */
  bypass (hostname: string, port: string): boolean {
    const host = hostname.replace(/^\[(.*)\]$/, '$1')
    if (host === 'localhost') return true
    const v = isIP(host)
    if (v !== 0 && LOOPBACK.check(host, family(host))) return true
    if (this.#all) return true
    if (v !== 0) {
      const f = family(host)
      if (this.#ranges.some((r) => r.check(host, f))) return true
      if (this.#ips.some((r) => r.address.check(host, f) && (r.port === '' || r.port === port))) return true
    }
    return this.#domains.some((d) =>
      (host.endsWith(d.suffix) || (d.matchHost && host === d.suffix.slice(1))) && (d.port === '' || d.port === port))
  }
}

// `allowed_targets`: the gateway's own scrape-config key (Prometheus has
// none), for targets a job may be probed at beside its static_configs ones —
// typically the targets Prometheus finds by service discovery. Each entry is
// one rule, checked once here, at load:
// - `host:port`       one target (a name, an IPv4 address, or [IPv6]);
// - `*.domain:port`   any name below domain (at any depth), not domain itself;
// - `a.b.c.d/n:port`  an IPv4 range; `[v6::/n]:port` an IPv6 range;
// - `:*` as the port  any port.
// A bare `*` host is refused: "any address" is written as the ranges
// 0.0.0.0/0 and [::/0], so that it is a choice, and one the address rules
// (src/policy) still apply to.
import { canonicalHost, isDottedQuad } from './target.js'

export type TargetPort = number | '*'

export type TargetRule =
  | {
    readonly kind: 'host'
    /** As written, for /config and messages. */
    readonly text: string
    /** Canonical (src/config/target.ts). */
    readonly host: string
    readonly ip: string | undefined
    readonly port: TargetPort
  }
  | {
    readonly kind: 'domain'
    readonly text: string
    /** `.domain`, canonical: a name matches when it ends with it. */
    readonly suffix: string
    readonly port: TargetPort
  }
  | {
    readonly kind: 'cidr'
    readonly text: string
    /** The range's first address, canonical. */
    readonly network: string
    readonly prefix: number
    readonly family: 'ipv4' | 'ipv6'
    readonly port: TargetPort
  }

const RULE = /^(\[[^\]]*\]|[^:[\]]*):([^:[\]]*)$/

function parsePort (text: string, port: string): TargetPort {
  if (port === '*') return '*'
  const n = /^[1-9]\d{0,4}$/.test(port) ? Number(port) : 0
  if (n === 0 || n > 65535) throw new Error(`${JSON.stringify(text)}: the port must be 1-65535, or * for any port`)
  return n
}

/** The bytes of an IP address in canonical form (4 or 16): dotted IPv4, or IPv6 as the URL parser compresses it (hex groups only). */
function ipBytes (ip: string): number[] {
  if (isDottedQuad(ip)) return ip.split('.').map(Number)
  const [head = '', tail] = ip.split('::') as [string, string | undefined]
  const groups = (s: string): number[] => s === '' ? [] : s.split(':').flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255])
  const front = groups(head)
  const back = groups(tail ?? '')
  return [...front, ...new Array<number>(16 - front.length - back.length).fill(0), ...back]
}

/** Whether `bytes` has a bit set past the first `prefix` bits. */
function hostBitsSet (bytes: readonly number[], prefix: number): boolean {
  return bytes.some((b, i) => {
    const networkBits = Math.min(8, Math.max(0, prefix - 8 * i))
    return (b & (0xff >> networkBits)) !== 0
  })
}

function parseCidr (text: string, range: string, bracketed: boolean, port: TargetPort): TargetRule {
  const [address = '', bits = ''] = range.split('/')
  const family = bracketed ? 'ipv6' : 'ipv4'
  const max = family === 'ipv4' ? 32 : 128
  let ip: string | undefined
  try {
    ip = canonicalHost(bracketed ? `[${address}]` : address).ip
  } catch (err) {
    throw new Error(`${JSON.stringify(text)}: ${(err as Error).message}`)
  }
  if (ip === undefined || (family === 'ipv4') !== isDottedQuad(ip)) {
    throw new Error(`${JSON.stringify(text)}: ${JSON.stringify(address)} is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address` +
      (bracketed ? '' : ' (an IPv6 range goes in brackets: [fd00::/8]:9100)'))
  }
  const prefix = /^(?:0|[1-9]\d{0,2})$/.test(bits) ? Number(bits) : -1
  if (prefix < 0 || prefix > max) throw new Error(`${JSON.stringify(text)}: the prefix length must be 0-${max}`)
  // Host bits set is most likely a typo (10.233.1.0/16 for 10.233.0.0/16): say so rather than widen it silently.
  if (hostBitsSet(ipBytes(ip), prefix)) {
    throw new Error(`${JSON.stringify(text)}: ${ip}/${prefix} has host bits set; write the range's first address`)
  }
  return { kind: 'cidr', text, network: ip, prefix, family, port }
}

/** One allowed_targets entry as a rule; throws with the reason. */
export function parseTargetRule (text: string): TargetRule {
  const m = RULE.exec(text)
  if (m === null) {
    if (!text.includes(':') || /^\[[^\]]*\]$/.test(text)) throw new Error(`${JSON.stringify(text)} needs a port: host:port, or host:* for any port`)
    throw new Error(`${JSON.stringify(text)} is not host:port (an IPv6 address or range goes in brackets: [fd00::/8]:9100)`)
  }
  const hostPart = m[1] as string
  const port = parsePort(text, m[2] as string)
  const bracketed = hostPart.startsWith('[')
  const inner = bracketed ? hostPart.slice(1, -1) : hostPart
  if (inner.includes('/')) return parseCidr(text, inner, bracketed, port)
  if (inner === '*') {
    throw new Error(`${JSON.stringify(text)}: a host wildcard needs a domain (*.example.com:443); ` +
      'to allow every address, write the ranges 0.0.0.0/0 and [::/0]')
  }
  if (inner.startsWith('*.')) {
    const domain = inner.slice(2)
    let host
    try {
      host = canonicalHost(domain)
    } catch (err) {
      throw new Error(`${JSON.stringify(text)}: ${(err as Error).message}`)
    }
    if (host.ip !== undefined) throw new Error(`${JSON.stringify(text)}: a wildcard takes a domain name, not an address; write a range (a.b.c.d/n)`)
    return { kind: 'domain', text, suffix: `.${host.host}`, port }
  }
  if (inner.includes('*')) throw new Error(`${JSON.stringify(text)}: * may only be the whole first label (*.example.com) or the port`)
  try {
    const host = canonicalHost(hostPart)
    return { kind: 'host', text, host: host.host, ip: host.ip, port }
  } catch (err) {
    throw new Error(`${JSON.stringify(text)}: ${(err as Error).message}`)
  }
}

// Addresses no target may lead to unless the operator names them: link-local
// ranges (where clouds serve instance metadata, credentials included) and the
// metadata addresses outside them, and the "this host" addresses that reach
// the gateway's own machine. A name that resolves to one of these is the
// classic server-side request forgery (DNS pointing at 169.254.169.254), so
// a rule that merely contains them (0.0.0.0/0, 100.64.0.0/10, fd00::/8) does
// not unlock them: only a rule that lies inside one of these ranges does
// (169.254.169.254/32, fe80::/10), or an exact target naming the address.
import { BlockList } from 'node:net'

export type Family = 'ipv4' | 'ipv6'

export interface SpecialRange {
  readonly network: string
  readonly prefix: number
  readonly family: Family
  /** What it is, for messages: `169.254.169.254 is link-local (cloud metadata)`. */
  readonly what: string
}

const SPECIAL_RANGES: readonly SpecialRange[] = [
  { network: '169.254.0.0', prefix: 16, family: 'ipv4', what: 'link-local (cloud metadata)' },
  { network: '100.100.100.200', prefix: 32, family: 'ipv4', what: 'a cloud metadata address' },
  { network: '0.0.0.0', prefix: 8, family: 'ipv4', what: 'a "this host" address' },
  { network: 'fe80::', prefix: 10, family: 'ipv6', what: 'link-local (IPv6)' },
  { network: 'fd00:ec2::254', prefix: 128, family: 'ipv6', what: 'a cloud metadata address' },
  { network: '::', prefix: 128, family: 'ipv6', what: 'the unspecified address' },
]

// One list per range, each holding one family only: node:net's BlockList
// matches IPv4 addresses against IPv6 rules (as ::ffff:a.b.c.d) and the
// reverse, and the policy keeps the two families apart on purpose.
const LISTS = SPECIAL_RANGES.map((range) => {
  const list = new BlockList()
  list.addSubnet(range.network, range.prefix, range.family)
  return { range, list }
})

/** The special range `ip` is in, if any (`ip` canonical, IPv4-mapped addresses already unmapped). */
export function specialRange (ip: string, family: Family): SpecialRange | undefined {
  for (const { range, list } of LISTS) if (range.family === family && list.check(ip, family)) return range
  return undefined
}

/** Whether the range network/prefix lies inside a special range: a rule that names special addresses on purpose. */
export function namesSpecial (network: string, prefix: number, family: Family): boolean {
  const range = specialRange(network, family)
  return range !== undefined && prefix >= range.prefix
}

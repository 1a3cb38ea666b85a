// A job's target policy: where its credentials may go. One object per job,
// compiled at load from static_configs and allowed_targets; the probe route,
// the connector and the redirect layer ask it, and nothing else decides
// (README "Security model").
//
// The decision, in order:
// 1. The target exactly as the caller wrote it is one of the job's exact
//    targets (a Set lookup: Prometheus sends what static_configs lists):
//    allowed, nothing parsed.
// 2. Its canonical form (src/config/target.ts; an odd spelling is 400
//    SG_BAD_TARGET) is allowed by an exact target or rule, by a host wildcard
//    (names only), or, for an IP address, by a range (CIDR). A name that only
//    a range can allow is allowed pending its address. Anything else is 403
//    SG_TARGET_FORBIDDEN, before any DNS lookup or connection.
// 3. At connect time the name is resolved once and each address checked
//    (src/client/pinned-connect.ts): a special address (special-addresses.ts)
//    only when a rule names it; for a name allowed only by a range, an
//    address in one. The connection goes to a checked address, so no second
//    lookup can answer differently (DNS rebinding). Otherwise 403
//    SG_ADDRESS_FORBIDDEN.
// Redirect hops go through 2 and 3 again, and fail the scrape with 502
// SG_REDIRECT_FORBIDDEN. Through a proxy the proxy resolves names, so 3
// cannot be done: there a name allowed only by a range is refused.
import { BlockList, isIPv4 } from 'node:net'
import { canonicalTarget, unmappedIPv4, type CanonicalTarget } from '../config/target.js'
import type { TargetPort, TargetRule } from '../config/allowed-targets.js'
import type { JobConfig } from '../config/types.js'
import { Errors } from '../errors.js'
import { namesSpecial, specialRange, type Family } from './special-addresses.js'

/** How a target passes step 2: by its name (or an IP literal by its address), or pending its resolved address. */
type Verdict = { readonly allowed: 'name' | 'address' } | { readonly allowed: false, readonly why: string }

const BY_NAME: Verdict = { allowed: 'name' }
const BY_ADDRESS: Verdict = { allowed: 'address' }

/** Ranges by port (`*`: any port), each family in a list of its own (see special-addresses.ts). */
class Ranges {
  readonly #byPort = new Map<TargetPort, Record<Family, BlockList>>()

  add (port: TargetPort, network: string, prefix: number, family: Family): void {
    let lists = this.#byPort.get(port)
    if (lists === undefined) this.#byPort.set(port, lists = { ipv4: new BlockList(), ipv6: new BlockList() })
    lists[family].addSubnet(network, prefix, family)
  }

  covers (port: number): boolean {
    return this.#byPort.has(port) || this.#byPort.has('*')
  }

  has (port: number, ip: string, family: Family): boolean {
    return this.#byPort.get(port)?.[family].check(ip, family) === true || this.#byPort.get('*')?.[family].check(ip, family) === true
  }
}

type PolicySpec = Pick<JobConfig, 'name' | 'scheme' | 'targets' | 'allowedTargets'>

export class TargetPolicy {
  readonly #job: string
  readonly #scheme: 'http' | 'https'
  /** Canonical host:port of static_configs targets and exact rules. */
  readonly #exact = new Set<string>()
  /** Hosts of exact rules with port `*`. */
  readonly #anyPort = new Set<string>()
  readonly #domains: Array<{ readonly suffix: string, readonly port: TargetPort }> = []
  readonly #ranges = new Ranges()
  /** Special addresses the job names: ranges inside a special range, exact targets that are special addresses. */
  readonly #named = new Ranges()
  /** The job allows no target at all (neither list): every probe is refused, and load warns about it. */
  readonly allowsNothing: boolean

  constructor (job: PolicySpec) {
    this.#job = JSON.stringify(job.name)
    this.#scheme = job.scheme
    this.allowsNothing = job.targets.length === 0 && job.allowedTargets.length === 0
    for (const target of job.targets) {
      const t = canonicalTarget(target, job.scheme)
      this.#exact.add(t.key)
      if (t.ip !== undefined) this.#nameIfSpecial(t.ip, t.port)
    }
    for (const rule of job.allowedTargets) this.#add(rule)
  }

  #add (rule: TargetRule): void {
    switch (rule.kind) {
      case 'host':
        if (rule.port === '*') this.#anyPort.add(rule.host)
        else this.#exact.add(`${rule.host}:${rule.port}`)
        if (rule.ip !== undefined) this.#nameIfSpecial(rule.ip, rule.port)
        break
      case 'domain':
        this.#domains.push({ suffix: rule.suffix, port: rule.port })
        break
      case 'cidr':
        this.#ranges.add(rule.port, rule.network, rule.prefix, rule.family)
        if (namesSpecial(rule.network, rule.prefix, rule.family)) this.#named.add(rule.port, rule.network, rule.prefix, rule.family)
    }
  }

  #nameIfSpecial (ip: string, port: TargetPort): void {
    const family = isIPv4(ip) ? 'ipv4' : 'ipv6'
    if (specialRange(ip, family) !== undefined) this.#named.add(port, ip, family === 'ipv4' ? 32 : 128, family)
  }

  /**
   * Step 1 and 2 for a caller's target: the canonical target to dial.
   * Throws SG_BAD_TARGET (400) or SG_TARGET_FORBIDDEN (403).
   */
  admit (target: string): string {
    if (this.#exact.has(target)) return target
    let t: CanonicalTarget
    try {
      t = canonicalTarget(target, this.#scheme)
    } catch (err) {
      throw new Errors.BAD_TARGET((err as Error).message)
    }
    const v = this.#verdict(t)
    if (v.allowed === false) throw new Errors.TARGET_FORBIDDEN(`target ${JSON.stringify(target)} is not allowed for job ${this.#job}: ${v.why}`)
    return t.key
  }

  /** Step 2 for a redirect hop: its canonical `host:port` to dial. Throws SG_REDIRECT_FORBIDDEN (502). */
  admitHop (url: URL): string {
    let t: CanonicalTarget
    try {
      t = canonicalTarget(url.host, url.protocol === 'https:' ? 'https' : 'http')
    } catch (err) {
      throw new Errors.REDIRECT_FORBIDDEN(`redirect to ${JSON.stringify(url.host)} is not allowed for job ${this.#job}: ${(err as Error).message}`)
    }
    const v = this.#verdict(t)
    if (v.allowed === false) throw new Errors.REDIRECT_FORBIDDEN(`redirect to ${JSON.stringify(t.key)} is not allowed for job ${this.#job}: ${v.why}`)
    return t.key
  }

  /**
   * For a request a proxy carries to `hostname:port` (forwarded, or through
   * a CONNECT tunnel): the proxy resolves the name, so only a target allowed
   * by its name passes. Undefined, or the SG_TARGET_FORBIDDEN error (403).
   */
  viaProxy (hostname: string, port: number): Error | undefined {
    const t = this.#connectTarget(hostname, port)
    const v: Verdict = t instanceof Error ? { allowed: false, why: t.message } : this.#verdict(t)
    if (v.allowed === 'name') return undefined
    const why = v.allowed === false
      ? v.why
      : 'only an allowed_targets range allows it, and the proxy, not the gateway, resolves the name'
    return new Errors.TARGET_FORBIDDEN(`target "${t instanceof Error ? hostname : t.key}" is not allowed for job ${this.#job} through a proxy: ${why}`)
  }

  /**
   * Step 3: of the addresses `hostname` resolved to (in the resolver's
   * order), those the gateway may connect to for `hostname:port`; or, when
   * there are none, the SG_ADDRESS_FORBIDDEN error (403) naming the first
   * refused address and why. An IP literal is passed as its own address.
   */
  connectable (hostname: string, port: number, addresses: readonly string[]): string[] | Error {
    const t = this.#connectTarget(hostname, port)
    if (t instanceof Error) return new Errors.ADDRESS_FORBIDDEN(`${t.message}, which job ${this.#job} does not allow`)
    const byName = this.#byName(t)
    const usable: string[] = []
    let first: string | undefined
    for (const address of addresses) {
      const why = this.#addressRefusal(t, address, byName)
      if (why === undefined) usable.push(address)
      else first ??= why
    }
    if (usable.length > 0) return usable
    const resolved = t.ip === undefined ? ` resolved to ${addresses.join(', ')}, which` : ''
    return new Errors.ADDRESS_FORBIDDEN(`target "${t.key}"${resolved} is not allowed for job ${this.#job}: ${first ?? 'no address'}`)
  }

  /** The hostname:port a connector got (IPv6 unbracketed), canonical; an Error when it is not a valid target. */
  #connectTarget (hostname: string, port: number): CanonicalTarget | Error {
    try {
      return canonicalTarget(`${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`, this.#scheme)
    } catch (err) {
      return err as Error
    }
  }

  #verdict (t: CanonicalTarget): Verdict {
    if (this.#byName(t)) return BY_NAME
    if (t.ip !== undefined) {
      const why = this.#addressRefusal(t, t.ip, false)
      if (why === undefined) return BY_NAME
      // Say why a range did not hold it only when some range was in question.
      if (this.#ranges.covers(t.port) || specialRange(t.ip, isIPv4(t.ip) ? 'ipv4' : 'ipv6') !== undefined) return { allowed: false, why }
    } else if (this.#ranges.covers(t.port)) {
      return BY_ADDRESS
    }
    return {
      allowed: false,
      why: this.allowsNothing ? 'the job has neither static_configs nor allowed_targets' : 'not in its static_configs or allowed_targets',
    }
  }

  /** Allowed by its name: an exact target or rule, or (a name, not an address) a host wildcard. */
  #byName (t: CanonicalTarget): boolean {
    if (this.#exact.has(t.key) || this.#anyPort.has(t.host)) return true
    if (t.ip !== undefined) return false
    for (const d of this.#domains) if ((d.port === '*' || d.port === t.port) && t.host.endsWith(d.suffix)) return true
    return false
  }

  /** Why the gateway may not connect to `address` for target `t` (undefined: it may). */
  #addressRefusal (t: CanonicalTarget, address: string, byName: boolean): string | undefined {
    const ip = unmappedIPv4(address) ?? address
    const family = isIPv4(ip) ? 'ipv4' : 'ipv6'
    const special = specialRange(ip, family)
    if (special !== undefined) {
      if (this.#named.has(t.port, ip, family)) return undefined
      return `${ip} is ${special.what}, allowed only by an allowed_targets range inside ${special.network}/${special.prefix} or a target naming it`
    }
    if (byName || this.#ranges.has(t.port, ip, family)) return undefined
    return `${ip} is in no allowed_targets range for port ${t.port}`
  }
}

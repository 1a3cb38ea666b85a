// What a target may be, and the one form in which it is compared and dialled.
//
// A target is `host[:port]`, the way Prometheus builds its URL from
// __address__: a `/` would smuggle a path, an `@` a userinfo, a `%` an
// encoding. Its canonical form is what the target policy (src/policy) checks
// AND what the probe dials, so what is checked is what is connected to:
// - a name in lower case, without its trailing dot;
// - an IPv4 address as four decimal numbers (a.b.c.d);
// - an IPv6 address in brackets, compressed (the URL standard's form);
// - always a port: the scheme's default when none is given.
// Spellings that getaddrinfo (inet_aton) or the URL parser read as another
// address than they seem to name are refused, never normalised: the short,
// decimal, octal and hex IPv4 forms (`127.1`, `2130706433`, `0177.0.0.1`,
// `0x7f.1`) and IPv4-mapped IPv6 (`[::ffff:127.0.0.1]`). An operator who
// meant one of them writes the address plainly; a caller who sent one is
// probably probing the allowlist.
// Config checks static_configs targets and allowed_targets hosts with these
// rules at load; the policy checks each caller's target and redirect hop.
import net from 'node:net'

export interface CanonicalHost {
  /** As it goes into a URL: a name, a dotted IPv4 address, or a bracketed IPv6 address. */
  readonly host: string
  /** The address itself when the host is an IP literal (IPv6 without brackets); undefined for a name. */
  readonly ip: string | undefined
}

export interface CanonicalTarget extends CanonicalHost {
  readonly port: number
  /** `host:port`, as compared and dialled. */
  readonly key: string
}

// A port is decimal without leading zeros: `:080` is not a spelling of 80 a caller needs.
const SHAPE = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+))(?::([1-9]\d{0,4}))?$/
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const DOTTED_QUAD = new RegExp(`^(?:${OCTET}\\.){3}${OCTET}$`)
/** The URL standard's "ends in a number": such a host is an IPv4 address, in whatever base inet_aton reads it. */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/
/** ::ffff:0:0/96 as the URL parser compresses it. */
const MAPPED = /^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/

/** Why a target that does not have the shape host[:port] is refused, for the common tricks. */
function shapeHint (target: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  if (/[\x00-\x20\x7f]/.test(target)) return 'spaces and control characters are not allowed'
  if (target.includes('@')) return 'userinfo (user@) is not allowed'
  if (target.includes('%')) return 'percent-encoding is not allowed'
  if (/[/?#\\]/.test(target)) return 'a target is host[:port], without a path or query'
  return undefined
}

function invalid (what: string, why: string | undefined): Error {
  return new Error(`${JSON.stringify(what)} is not a valid hostname${why === undefined ? '' : `: ${why}`}`)
}

function ipv6Host (inner: string): CanonicalHost | string {
  if (!net.isIPv6(inner)) return 'not an IPv6 address'
  const compressed = new URL(`http://[${inner}]/`).hostname.slice(1, -1)
  if (MAPPED.test(compressed)) return 'an IPv4-mapped IPv6 address; write the IPv4 address itself'
  return { host: `[${compressed}]`, ip: compressed }
}

function nameHost (raw: string): CanonicalHost | string {
  let name = raw.toLowerCase()
  if (name.endsWith('.')) name = name.slice(0, -1)
  const labels = name.split('.')
  if (NUMERIC_LABEL.test(labels[labels.length - 1] as string)) {
    if (!DOTTED_QUAD.test(name)) return 'an IPv4 address is four decimal numbers 0-255 without leading zeros (a.b.c.d)'
    return { host: name, ip: name }
  }
  if (name.length > 253 || !labels.every((l) => LABEL.test(l))) {
    return 'a name is dot-separated labels of letters, digits, "_" and "-" (not first or last), 1-63 long'
  }
  // The URL parser must see the same host: it refuses what no resolver would take (a bad xn-- label).
  try {
    if (new URL(`http://${name}/`).hostname !== name) return 'not a host name'
  } catch {
    return 'not a host name'
  }
  return { host: name, ip: undefined }
}

/** A host alone (a name, a dotted IPv4, or an IPv6 in brackets) in canonical form; throws with the reason. */
export function canonicalHost (host: string): CanonicalHost {
  const m = SHAPE.exec(host)
  const h = m === null || m[3] !== undefined ? shapeHint(host) ?? 'not a host' : m[1] !== undefined ? ipv6Host(m[1]) : nameHost(m[2] as string)
  if (typeof h === 'string') throw invalid(host, h)
  return h
}

/** The canonical form of `target` (host[:port]); throws with Prometheus's message and the reason. */
export function canonicalTarget (target: string, scheme: 'http' | 'https'): CanonicalTarget {
  const m = SHAPE.exec(target)
  if (m === null) throw invalid(target, shapeHint(target))
  const port = m[3] === undefined ? (scheme === 'https' ? 443 : 80) : Number(m[3])
  if (port > 65535) throw invalid(target, 'the port must be 1-65535')
  const h = m[1] !== undefined ? ipv6Host(m[1]) : nameHost(m[2] as string)
  if (typeof h === 'string') throw invalid(target, h)
  return { ...h, port, key: `${h.host}:${port}` }
}

/** Whether `ip` (as node:net and getaddrinfo write it) is an IPv4-mapped IPv6 address; its IPv4 address if so. */
export function unmappedIPv4 (ip: string): string | undefined {
  if (!ip.includes(':') || !/ffff/i.test(ip)) return undefined
  const compressed = new URL(`http://[${ip}]/`).hostname.slice(1, -1)
  if (!MAPPED.test(compressed)) return undefined
  const [hi, lo] = compressed.slice('::ffff:'.length).split(':').map((h) => parseInt(h, 16)) as [number, number]
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

/** Whether `s` is an IPv4 address in canonical dotted form. */
export function isDottedQuad (s: string): boolean {
  return DOTTED_QUAD.test(s)
}

const URL_TARGET = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s

/**
 * The host[:port] inside a target given as a URL, as the Prometheus
 * Operator's Probe sends one for an Ingress (`scheme://host[:port][/path]`);
 * undefined when `target` is not a URL. Accepted only when the URL names
 * what the job scrapes anyway: the job's scheme, no userinfo, query or
 * fragment, and a path that is empty or the job's metrics_path. Throws with
 * the reason otherwise. The host[:port] it returns still goes through the
 * target policy like any other.
 */
export function targetOfUrl (target: string, scheme: 'http' | 'https', metricsPath: string): string | undefined {
  const m = URL_TARGET.exec(target)
  if (m === null) return undefined
  const [, urlScheme = '', authority = '', rest = ''] = m
  const quoted = JSON.stringify(target)
  if (urlScheme.toLowerCase() !== scheme) throw new Error(`target URL ${quoted}: scheme ${JSON.stringify(urlScheme)} is not the job's scheme ${JSON.stringify(scheme)}`)
  if (authority.includes('@')) throw new Error(`target URL ${quoted}: userinfo (user@) is not allowed`)
  if (rest.includes('?') || rest.includes('#')) throw new Error(`target URL ${quoted}: a query or fragment is not allowed (the job's params are sent)`)
  if (rest !== '' && rest !== metricsPath) throw new Error(`target URL ${quoted}: path ${JSON.stringify(rest)} is not the job's metrics_path ${JSON.stringify(metricsPath)}`)
  return authority
}

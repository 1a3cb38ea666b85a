// Go's rules for what a redirect hop may carry (net/http, and prometheus/common
// since v0.69 for its own layers).

/**
 * Whether a hop to `hostname` stays on `original`: the same host or a
 * subdomain of it. Case and port are ignored; `127.0.0.1` and `localhost` are
 * different hosts; an IPv6 address is never a subdomain.
 */
export function sameHostOrSubdomain (hostname: string, original: string): boolean {
  const sub = bare(hostname)
  const parent = bare(original)
  if (sub === parent) return true
  if (/[:%]/.test(sub)) return false
  return sub.endsWith(parent) && sub[sub.length - parent.length - 1] === '.'
}

function bare (hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()
}

/** The Referer of a hop from `from` to `to`: `from` without userinfo, except from https to http (none). */
export function refererFor (from: URL, to: URL): string | undefined {
  if (from.protocol === 'https:' && to.protocol === 'http:') return undefined
  const u = new URL(from.href)
  u.username = ''
  u.password = ''
  u.hash = ''
  return u.href
}

// What a `target` may be: `host[:port]` and nothing else, the way Prometheus
// builds its URL from __address__ (a `/` would smuggle a path, an `@` a userinfo).
// Config checks static_configs targets with it at load; the probe route checks
// each caller's target with the same rule.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?::(\d{1,5}))?$/

/** Throws with Prometheus's message when `target` is not a valid host[:port]. */
export function validateTarget (target: string, scheme: 'http' | 'https'): void {
  const m = HOST.exec(target)
  if (m === null || Number(m[1] ?? '1') > 65535 || Number(m[1] ?? '1') === 0) {
    throw new Error(`"${target}" is not a valid hostname`)
  }
  // The WHATWG URL parser must see the same host; it rejects what Go would
  // not dial (e.g. `[::1` or an empty label) and normalises case.
  try {
    const url = new URL(`${scheme}://${target}/`)
    if (url.hostname === '') throw new Error('empty host')
  } catch {
    throw new Error(`"${target}" is not a valid hostname`)
  }
}

/** The form in which targets are compared: host names are case-insensitive. */
export function targetKey (target: string): string {
  return target.toLowerCase()
}

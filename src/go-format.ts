// Values written the way Go (and so Prometheus) writes them, for every part of
// the gateway that must print what Prometheus would print: config messages,
// the X-Prometheus-Scrape-Timeout-Seconds header, body_size_limit in errors,
// query strings and token request forms. Formatting only, and no imports:
// the bottom of the tree, which config, the probe and the plugins all use.
// Parsing (durations, sizes) is config's (src/config/duration.ts, bytes.ts).

/**
 * Seconds as Prometheus writes them (X-Prometheus-Scrape-Timeout-Seconds):
 * strconv.FormatFloat(d.Seconds(), 'f', -1, 64). Go's Seconds() adds whole
 * seconds to nanoseconds/1e9, which is not always the float ms/1000 gives
 * (1118ms is 1.1179999999999999 in Go), so that sum is reproduced here.
 */
export function formatSeconds (ms: number): string {
  const sec = Math.trunc(ms / 1000)
  const nsec = (ms - sec * 1000) * 1e6
  return plainDecimal(sec + nsec / 1e9)
}

// JS and Go ('f', -1) agree on the shortest digits; only JS switches to
// exponent notation (below 1e-6 and from 1e21 up), which 'f' never does.
function plainDecimal (x: number): string {
  const s = String(x)
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s)
  if (m === null) return s
  const sign = m[1] ?? ''
  const frac = m[3] ?? ''
  const digits = (m[2] ?? '') + frac
  const exp = Number(m[4])
  return exp < 0
    ? `${sign}0.${'0'.repeat(-exp - 1)}${digits}`
    : sign + digits + '0'.repeat(exp - frac.length)
}

const BASE2_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const

/**
 * alecthomas/units Base2Bytes.String(), as Prometheus prints body_size_limit:
 * every non-zero base-1024 component, largest first, e.g. 10485760 → `10MiB`,
 * 1536 → `1KiB512B`, 0 → `0B`.
 */
export function formatBase2Bytes (n: number): string {
  const out: string[] = []
  let rest = Math.trunc(n)
  for (const [i, unit] of BASE2_UNITS.entries()) {
    // JS % keeps the dividend's sign like Go's, so negatives print as Go does.
    const r = rest % 1024
    if (r !== 0 || (i === 0 && rest === 0)) out.unshift(`${r}${unit}`)
    rest = Math.trunc(rest / 1024)
    if (rest === 0) break
  }
  return out.join('')
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"', '\\': '\\\\', '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
}

/**
 * Go's %q (strconv.Quote) for the strings a config can hold: JSON-like, but
 * control characters are \xNN rather than \u00NN, \a and \v have short forms,
 * and the C1 controls (U+0080-U+009F) are \u escapes.
 */
export function goQuote (s: string): string {
  let out = '"'
  for (const c of s) {
    const code = c.codePointAt(0) ?? 0
    out += GO_ESCAPES[c] ??
      (code < 0x20 || code === 0x7f
        ? '\\x' + code.toString(16).padStart(2, '0')
        : code >= 0x80 && code < 0xa0 ? '\\u' + code.toString(16).padStart(4, '0') : c)
  }
  return out + '"'
}

/** Go's url.QueryEscape: everything but A-Z a-z 0-9 - _ . ~ is %XX-escaped, space is `+`. */
export function queryEscape (s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

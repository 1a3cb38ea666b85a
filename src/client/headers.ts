// Header helpers for interceptors. The core always dispatches a plain object
// with lower-case names; interceptors copy it, never mutate it (a request's
// headers must not pile up across scrapes: prometheus/common#981).
export type HeaderRecord = Record<string, string | string[]>

export function toRecord (headers: unknown): HeaderRecord {
  if (headers == null) return {}
  if (Array.isArray(headers)) {
    const out: HeaderRecord = {}
    for (let i = 0; i + 1 < headers.length; i += 2) append(out, String(headers[i]).toLowerCase(), String(headers[i + 1]))
    return out
  }
  return headers as HeaderRecord
}

export function hasHeader (headers: unknown, name: string): boolean {
  const value = toRecord(headers)[name]
  return value !== undefined && value !== ''
}

/** A copy of `headers` with `name` set to `value` (replacing). */
export function withHeader (headers: unknown, name: string, value: string): HeaderRecord {
  return { ...toRecord(headers), [name]: value }
}

/** Appends a value, as Go's Header.Add does. Mutates `out`: callers pass a copy. */
export function append (out: HeaderRecord, name: string, value: string): void {
  const prev = out[name]
  if (prev === undefined) out[name] = value
  else out[name] = Array.isArray(prev) ? [...prev, value] : [prev, value]
}

// Control characters other than HTAB: Go's transport refuses such a header
// value (httpguts.ValidHeaderFieldValue), and so does undici.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const HEADER_CTL = /[\x00-\x08\x0a-\x1f\x7f]/

/** Whether Go's transport (and undici) would refuse `value` as a header value. */
export function invalidHeaderValue (value: string): boolean {
  return HEADER_CTL.test(value)
}

/**
 * The header value as the bytes Go would send. Go writes a string's UTF-8
 * bytes; undici writes a string as latin1, so it is given those bytes one
 * character each.
 */
export function utf8HeaderValue (value: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1')
}

// RFC 9110 token characters: what Go's textproto accepts in a header name.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Whether `name` is a valid header field name. */
export function validHeaderName (name: string): boolean {
  return TOKEN.test(name)
}

/**
 * Go's http.CanonicalHeaderKey: `x-api-key` → `X-Api-Key`. A name with a
 * character that is not a token character is returned unchanged, as Go does.
 */
export function canonicalHeaderKey (name: string): string {
  if (!TOKEN.test(name)) return name
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())
}

/**
 * Header names whose values are credentials: after an auth scheme (`Bearer
 * <token>`: the scheme is no secret), or whole. The redirect layer drops
 * both kinds on a cross-host hop, as Go's client does; the probe record
 * masks them in what it prints.
 */
export const SCHEMED_CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'www-authenticate', 'proxy-authenticate'])
export const WHOLE_CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['cookie', 'cookie2'])

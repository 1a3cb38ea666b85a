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

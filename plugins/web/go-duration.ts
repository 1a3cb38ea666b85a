// Go's time.ParseDuration, which exporter-toolkit's `rate_limit.interval`
// uses (a time.Duration in yaml.v2): `1s`, `1.5s`, `500ms`, `1h2m`. Not
// Prometheus's duration grammar (src/config/duration.ts): fractions and
// ns/us are allowed here, days and weeks are not. Messages are Go's.
import { goQuote } from '../../src/go-format.js'

const UNIT_MS: ReadonlyMap<string, number> = new Map([
  ['ns', 1e-6], ['us', 1e-3], ['µs', 1e-3], ['μs', 1e-3], ['ms', 1], ['s', 1000], ['m', 60_000], ['h', 3_600_000],
])

/** Milliseconds (fractions kept) of a Go duration string. */
export function parseGoDuration (s: string): number {
  const invalid = (): Error => new Error(`time: invalid duration ${goQuote(s)}`)
  let rest = s
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1
    rest = rest.slice(1)
  }
  if (rest === '0') return 0
  if (rest === '') throw invalid()
  let ms = 0
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest) as RegExpExecArray
    const [number, whole = '', frac] = m
    if (whole === '' && (frac ?? '') === '') throw invalid()
    rest = rest.slice(number.length)
    const unit = /^[^\d.]*/.exec(rest)?.[0] ?? ''
    if (unit === '') throw new Error(`time: missing unit in duration ${goQuote(s)}`)
    const per = UNIT_MS.get(unit)
    if (per === undefined) throw new Error(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(s)}`)
    ms += Number(`${whole === '' ? '0' : whole}.${frac ?? ''}0`) * per
    rest = rest.slice(unit.length)
  }
  return sign * ms
}

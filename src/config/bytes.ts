// Prometheus's body_size_limit: units.Base2Bytes from github.com/alecthomas/units
// (ParseBase2Bytes → ParseUnit). Base2Bytes.String() is formatBase2Bytes in
// src/go-format.ts.

type UnitMap = ReadonlyMap<string, number>

const PREFIXES = ['K', 'M', 'G', 'T', 'P', 'E'] as const

// MakeUnitMap(suffix, "B", 1024). Only uppercase K: "kB" is the SI spelling
// and alecthomas/units deliberately refuses to read it as 1024.
function unitMap (suffix: string): UnitMap {
  const m = new Map<string, number>([['B', 1]])
  let mult = 1
  for (const p of PREFIXES) {
    mult *= 1024
    m.set(p + suffix, mult)
  }
  return m
}

const IEC_UNITS = unitMap('iB')
const OLD_UNITS = unitMap('B')

// leadingInt's overflow guard, checked before each digit (fraction digits too).
const LEADING_INT_LIMIT = ((1n << 63n) - 10n) / 10n
const TWO_63 = 2 ** 63

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'

/** Consumes [0-9]* from s at start; undefined where Go's leadingInt overflows. */
function leadingInt (s: string, start: number): { x: number, end: number } | undefined {
  let x = 0n
  let i = start
  for (; isDigit(s[i]); i++) {
    if (x >= LEADING_INT_LIMIT) return undefined
    x = x * 10n + BigInt(s.charCodeAt(i) - 48)
  }
  // Number(bigint) rounds to nearest like Go's float64(int64).
  return { x: Number(x), end: i }
}

// ParseUnit: [-+]?([0-9]*(\.[0-9]*)?<unit>)+, summed as float64, truncated.
function parseUnit (orig: string, units: UnitMap): number {
  const invalid = (): Error => new Error(`units: invalid ${orig}`)
  let i = 0
  let neg = false
  if (orig[0] === '-' || orig[0] === '+') {
    neg = orig[0] === '-'
    i = 1
  }
  const rest = orig.slice(i)
  if (rest === '0') return 0
  if (rest === '') throw invalid()

  let f = 0
  while (i < orig.length) {
    if (orig[i] !== '.' && !isDigit(orig[i])) throw invalid()
    const whole = leadingInt(orig, i)
    if (whole === undefined) throw invalid()
    const pre = whole.end > i
    let g = whole.x
    i = whole.end

    let post = false
    if (orig[i] === '.') {
      const frac = leadingInt(orig, i + 1)
      if (frac === undefined) throw invalid()
      let scale = 1
      for (let n = frac.end - (i + 1); n > 0; n--) scale *= 10
      g += frac.x / scale
      post = frac.end > i + 1
      i = frac.end
    }
    if (!pre && !post) throw invalid()

    const unitStart = i
    while (i < orig.length && orig[i] !== '.' && !isDigit(orig[i])) i++
    const u = orig.slice(unitStart, i)
    const mult = units.get(u)
    if (mult === undefined) throw new Error(`units: unknown unit ${u} in ${orig}`)
    f += g * mult
  }

  if (neg) f = -f
  if (f < -TWO_63 || f >= TWO_63) throw new Error('units: overflow parsing unit')
  return Math.trunc(f) + 0 // + 0 turns -0 into 0
}

/**
 * Parses a body_size_limit (`10MiB`, `1GB512MB`, `1.5KB`, `0`) into bytes.
 * KB and KiB both mean 1024. Negative sizes, which Prometheus accepts, are
 * rejected.
 */
export function parseBase2Bytes (s: string): number {
  let n: number
  try {
    n = parseUnit(s, IEC_UNITS)
  } catch {
    // Go retries the whole string with the old map and reports that error.
    n = parseUnit(s, OLD_UNITS)
  }
  if (n < 0) throw new Error('body_size_limit must not be negative')
  return n
}

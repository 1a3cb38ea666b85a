// Prometheus's model.Duration (prometheus/common model/time.go): parsing and
// String(). The seconds form Prometheus puts on the wire is formatSeconds in
// src/go-format.ts.
import { goQuote } from '../go-format.js'

const MS_PER_DAY = 24 * 60 * 60 * 1000

// pos enforces the order: each unit must come after every unit before it.
const UNITS: ReadonlyMap<string, { pos: number, ms: number }> = new Map([
  ['y', { pos: 1, ms: 365 * MS_PER_DAY }],
  ['w', { pos: 2, ms: 7 * MS_PER_DAY }],
  ['d', { pos: 3, ms: MS_PER_DAY }],
  ['h', { pos: 4, ms: 60 * 60 * 1000 }],
  ['m', { pos: 5, ms: 60 * 1000 }],
  ['s', { pos: 6, ms: 1000 }],
  ['ms', { pos: 7, ms: 1 }],
])

// Go holds a Duration as int64 nanoseconds, so that (~292y) is the real limit.
const NS_PER_MS = 1_000_000n
const MAX_INT64 = (1n << 63n) - 1n
const MAX_UINT64 = (1n << 64n) - 1n

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'

/** Parses a Prometheus duration (`1m30s`, `2w3d`, `0`) into milliseconds. */
export function parseDuration (s: string): number {
  if (s === '0') return 0
  if (s === '') throw new Error('empty duration string')
  const invalid = (): Error => new Error(`not a valid duration string: ${goQuote(s)}`)

  let ns = 0n
  let lastPos = 0
  let i = 0
  while (i < s.length) {
    const start = i
    while (isDigit(s[i])) i++
    if (i === start) throw invalid()
    const v = BigInt(s.slice(start, i))
    if (v > MAX_UINT64) throw invalid() // strconv.ParseUint fails

    const unitStart = i
    while (i < s.length && !isDigit(s[i])) i++
    if (i === unitStart) throw invalid()
    const u = s.slice(unitStart, i)
    const unit = UNITS.get(u)
    if (unit === undefined) throw new Error(`unknown unit ${goQuote(u)} in duration ${goQuote(s)}`)
    if (unit.pos <= lastPos) throw invalid()
    lastPos = unit.pos

    const mult = BigInt(unit.ms) * NS_PER_MS
    if (v > (1n << 63n) / mult) throw new Error('duration out of range')
    ns += v * mult
    if (ns > MAX_INT64) throw new Error('duration out of range')
  }
  return Number(ns / NS_PER_MS)
}

/** Prometheus's Duration.String(): `1m30s`, `2w`, `0s`. */
export function formatDuration (ms: number): string {
  let rest = Math.trunc(ms)
  if (rest === 0) return '0s'
  const negative = rest < 0
  if (negative) rest = -rest

  let out = ''
  for (const [name, { ms: mult }] of UNITS) {
    // Years and weeks only when they divide exactly: 90d reads better than 12w6d.
    if ((name === 'y' || name === 'w') && rest % mult !== 0) continue
    const v = Math.trunc(rest / mult)
    if (v > 0) {
      out += `${v}${name}`
      rest -= v * mult
    }
  }
  return negative ? '-' + out : out
}

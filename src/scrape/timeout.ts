// The probe's deadline: the job's scrape_timeout, lowered by the caller's own
// (X-Prometheus-Scrape-Timeout-Seconds minus an offset, as blackbox_exporter
// does), so the gateway answers before the caller gives up.
import { Errors } from '../errors.js'
import type { TimeoutRule } from '../client/record.js'

export const TIMEOUT_HEADER = 'x-prometheus-scrape-timeout-seconds'

/** The deadline in ms, and which rule set it (the debug report says so). */
export interface Deadline {
  readonly ms: number
  readonly from: TimeoutRule
}

export function effectiveTimeout (jobTimeoutMs: number, raw: string | undefined, offsetMs: number): Deadline {
  const job: Deadline = { ms: jobTimeoutMs, from: 'job' }
  if (raw === undefined || raw === '') return job
  const seconds = Number(raw.trim())
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new Errors.BAD_TIMEOUT_HEADER(`strconv.ParseFloat: parsing "${raw}": invalid syntax`)
  }
  if (seconds === 0) return job
  const callerMs = seconds * 1000
  // blackbox_exporter falls back to the module timeout when the offset eats
  // the caller's whole budget, which outlives the caller; we keep the
  // caller's budget whole instead.
  const whole = callerMs - offsetMs <= 0
  const budget = whole ? callerMs : callerMs - offsetMs
  if (budget >= jobTimeoutMs) return job
  return { ms: Math.max(1, Math.floor(budget)), from: whole ? 'whole header' : 'header' }
}

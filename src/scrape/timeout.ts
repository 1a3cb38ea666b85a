// The probe's deadline: the job's scrape_timeout, lowered by the caller's own
// (X-Prometheus-Scrape-Timeout-Seconds minus an offset, as blackbox_exporter
// does), so the gateway answers before the caller gives up.
import { Errors } from '../errors.js'

export const TIMEOUT_HEADER = 'x-prometheus-scrape-timeout-seconds'

export function effectiveTimeout (jobTimeoutMs: number, raw: string | undefined, offsetMs: number): number {
  if (raw === undefined || raw === '') return jobTimeoutMs
  const seconds = Number(raw.trim())
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new Errors.BAD_TIMEOUT_HEADER(`strconv.ParseFloat: parsing "${raw}": invalid syntax`)
  }
  if (seconds === 0) return jobTimeoutMs
  const callerMs = seconds * 1000
  // blackbox_exporter falls back to the module timeout when the offset eats
  // the caller's whole budget, which outlives the caller; we keep the
  // caller's budget whole instead.
  const budget = callerMs - offsetMs > 0 ? callerMs - offsetMs : callerMs
  return Math.max(1, Math.floor(Math.min(jobTimeoutMs, budget)))
}

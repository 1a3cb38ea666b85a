// scrape_gateway_target_tls_not_after_seconds: the store behind the gauge
// (GatewayMetrics.observeTargetCertificate feeds it from each probe's record).
import { Gauge, type Registry } from 'prom-client'

/** When a target's series was last set, and its value. */
interface Seen {
  notAfterSeconds: number
  /** On the `now` clock: from then on the series is gone. */
  staleAt: number
}

/**
 * `scrape_gateway_target_tls_not_after_seconds{job,target}`: the leaf
 * certificate each target presented at its last TLS handshake. Bounded in
 * time, not only by the target policy: a job with `allowed_targets` ranges
 * may be probed at a great many targets over a day, so a target not seen for
 * its job's stale window leaves both the exposition and memory.
 *
 * Each job's map is kept in the order its series go stale (an observation
 * moves its target to the end, and a job's window is one length), so pruning
 * stops at the first live series: an observation costs O(1) amortised, and
 * a scrape only reads what it writes out.
 */
export class TargetCertificates {
  readonly #byJob = new Map<string, { staleAfterMs: number, targets: Map<string, Seen> }>()
  readonly #now: () => number

  constructor (registry: Registry, now: () => number) {
    this.#now = now
    const certificates = this
    registry.registerMetric(new Gauge({
      name: 'scrape_gateway_target_tls_not_after_seconds',
      help: 'When the leaf certificate of the target\'s last TLS handshake through the gateway expires (its notAfter), in Unix seconds. A target not probed for 10 of its job\'s scrape intervals drops out.',
      labelNames: ['job', 'target'] as const,
      registers: [],
      collect () { certificates.#expose(this) },
    }))
  }

  observe (job: string, target: string, notAfterSeconds: number, staleAfterMs: number): void {
    if (!Number.isFinite(notAfterSeconds) || !Number.isFinite(staleAfterMs)) return
    const now = this.#now()
    let entry = this.#byJob.get(job)
    if (entry === undefined) {
      entry = { staleAfterMs, targets: new Map() }
      this.#byJob.set(job, entry)
    }
    entry.targets.delete(target)
    entry.targets.set(target, { notAfterSeconds, staleAt: now + staleAfterMs })
    if (entry.staleAfterMs !== staleAfterMs) {
      // The job's scrape_interval changed on a reload: put its targets back
      // in the order they go stale before relying on that order again.
      entry.staleAfterMs = staleAfterMs
      entry.targets = new Map([...entry.targets].sort(([, a], [, b]) => a.staleAt - b.staleAt))
    }
    prune(entry.targets, now)
  }

  forgetJobsExcept (jobs: Iterable<string>): void {
    const keep = new Set(jobs)
    for (const job of this.#byJob.keys()) if (!keep.has(job)) this.#byJob.delete(job)
  }

  #expose (gauge: Gauge<'job' | 'target'>): void {
    gauge.reset()
    const now = this.#now()
    for (const [job, { targets }] of this.#byJob) {
      prune(targets, now)
      if (targets.size === 0) this.#byJob.delete(job)
      for (const [target, seen] of targets) gauge.set({ job, target }, seen.notAfterSeconds)
    }
  }
}

/** Drops the stale series at the front of a map kept in staleAt order. */
function prune (targets: Map<string, Seen>, now: number): void {
  for (const [target, seen] of targets) {
    if (seen.staleAt > now) return
    targets.delete(target)
  }
}

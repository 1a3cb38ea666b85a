// A slot's members decoded together, so that a job uses at most one of them,
// and so that the first failure is the one Prometheus reports: its Validate
// checks auth kinds one after another, and refuses two kinds together at
// several points in between (PROMETHEUS.md §2: rule 2 before basic_auth's
// rules 3-4, 5e after authorization's own 5a-5d, 6a before oauth2's 6b-6f).
// Members label their rules and collisions with Prometheus's rule; the slot
// runs them all in label order.
import type { MapCursor } from './cursor.js'
import type { FeatureUse, SlotClaim, SlotFeature } from './feature.js'

interface Claimed<F extends SlotFeature> {
  feature: F
  claim: SlotClaim
}

interface Step {
  /** Undefined: a check Prometheus does not have, run after all of its own. */
  rule: string | undefined
  run: () => void
}

/**
 * Labels compare as strings: '1' < '2' < '5a' < '5e' < '6a' (Prometheus's
 * auth rules are 1-6). The sort is stable, so at one label the members' own
 * rules come before a collision, in registration order.
 */
function byRule (a: Step, b: Step): number {
  if (a.rule === b.rule) return 0
  if (a.rule === undefined) return 1
  if (b.rule === undefined) return -1
  return a.rule < b.rule ? -1 : 1
}

/** The collisions `own` words against `rival`, pointing at `own`'s key. */
function worded (job: MapCursor, own: Claimed<SlotFeature>, rival: Claimed<SlotFeature>): Step[] {
  const key = own.claim.key
  return (own.feature.collisions ?? [])
    .filter((c) => (c.when?.includes(key) ?? true) && c.rivals.includes(rival.claim.key))
    .map((c) => ({ rule: c.rule, run: () => { throw job.at(key).error(c.message) } }))
}

/** The check that refuses two members in one job: the earliest wording either owns, or the slot's own. */
function collision (job: MapCursor, earlier: Claimed<SlotFeature>, later: Claimed<SlotFeature>): Step {
  const [first] = [...worded(job, earlier, later), ...worded(job, later, earlier)].sort(byRule)
  if (first !== undefined) return first
  const message = `at most one of ${earlier.claim.key} & ${later.claim.key} must be configured`
  return { rule: undefined, run: () => { throw job.at(later.claim.key).error(message) } }
}

/** Decodes a slot's members (in registration order) for one job: at most one use, or a ConfigError. */
export function decodeSlot<F extends SlotFeature> (job: MapCursor, members: readonly F[]): Array<FeatureUse<F>> {
  // Prometheus unmarshals the whole job before it validates any of it.
  const claimed: Array<Claimed<F>> = []
  for (const feature of members) {
    const claim = feature.read(job)
    if (claim !== undefined) claimed.push({ feature, claim })
  }

  const steps: Step[] = []
  for (const { feature, claim } of claimed) {
    for (const r of feature.rules ?? []) steps.push({ rule: r.rule, run: () => { r.check(claim) } })
  }
  claimed.forEach((earlier, i) => {
    for (const later of claimed.slice(i + 1)) steps.push(collision(job, earlier, later))
  })
  for (const step of steps.sort(byRule)) step.run()

  // Every pair collides, so at most one member is left to settle.
  return claimed.map(({ feature, claim }) => ({ feature, settings: feature.settle(claim) }))
}

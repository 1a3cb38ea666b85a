// What the config loader needs of a feature: the scrape-config keys it owns,
// how it decodes and validates them, and how /config shows the result.
//
// Layering: src/config is the bottom layer of the tree (beside the formatting
// of src/go-format.ts). It knows nothing of HTTP clients: to config, a feature
// is an owner of keys. The client contract (src/client/feature.ts) extends
// this one with what the job's client needs (compile), and the loader hands
// back whatever kind of feature it was given (GatewayConfig<F>), so the
// client layer gets its own features back without config naming them.
import type { MapCursor } from './cursor.js'

interface FeatureKeys<S> {
  readonly name: string
  /** The scrape-config keys this feature owns; every other feature and the core leave them alone. */
  readonly keys: readonly string[]
  /** Settings as /config shows them: secrets already hidden by their type. */
  describe? (settings: S): Record<string, unknown>
}

/** A feature whose keys are validated on their own (tls_config, the proxy keys, http_headers). */
export interface PlainFeature<S = unknown> extends FeatureKeys<S> {
  readonly slot?: undefined
  /**
   * Decodes and validates the feature's keys of one job, throwing ConfigError
   * (via the cursor) with Prometheus's message. Returns undefined when the job
   * does not use the feature.
   */
  decode (job: MapCursor): S | undefined
}

/** What a slot member found in a job: at least the key that configures it there. */
export interface SlotClaim {
  /** The job's key that configures the member (`basic_auth`, `bearer_token_file`): collisions name it and point at it. */
  readonly key: string
}

/** One of a member's checks, at its place in Prometheus's order. */
export interface SlotRule<C extends SlotClaim> {
  /** The label of Prometheus's rule it implements (PROMETHEUS.md §2: '1', '5a'): see SlotFeature. */
  readonly rule: string
  check (claim: C): void
}

/** How a member refuses a rival in the same job, in Prometheus's words. */
export interface Collision {
  /** The label of the Prometheus rule that refuses the pair. */
  readonly rule: string
  /** The member's keys (SlotClaim.key) this applies to; every key when absent. */
  readonly when?: readonly string[]
  /** The rivals' keys (their SlotClaim.key) it refuses. */
  readonly rivals: readonly string[]
  /** The message; it points at the member's key. */
  readonly message: string
}

/**
 * A feature that fills a slot: a job uses at most one feature of each slot
 * (`auth`: one way to authenticate). Prometheus validates the kinds of its
 * one slot in one function (HTTPClientConfig.Validate), its checks of each
 * kind and its refusals of two kinds together interleaved, first failure
 * wins. So a member is decoded in Prometheus's phases, and the slot runs the
 * members' rules and collisions together, in rule-label order
 * (src/config/slot.ts).
 */
export interface SlotFeature<S = unknown, C extends SlotClaim = SlotClaim> extends FeatureKeys<S> {
  readonly slot: string
  /** Unmarshal: the shape and types of the member's keys. Undefined when the job does not use it. */
  read (job: MapCursor): C | undefined
  /** The member's part of Prometheus's Validate. A kind Prometheus lacks may leave its checks to settle. */
  readonly rules?: ReadonlyArray<SlotRule<C>>
  /**
   * Prometheus's refusals of this member beside a rival. A pair that no member
   * words is refused, after every labelled rule, as `at most one of A & B must
   * be configured` (the keys in registration order), at the later member's key.
   */
  readonly collisions?: readonly Collision[]
  /** After Validate, the member alone in its slot: the gateway's own load checks, and the settings. */
  settle (claim: C): S
}

export type ConfigFeature<S = unknown> = PlainFeature<S> | SlotFeature<S>

/** A feature a job uses, with its settings. */
export interface FeatureUse<F extends ConfigFeature = ConfigFeature> {
  feature: F
  settings: unknown
}

/** The registered features, as the loader asks for them. */
export interface FeatureSet<F extends ConfigFeature = ConfigFeature> {
  owns (key: string): boolean
  /** Decodes and validates a job's feature keys: the features the job uses, in the set's order. */
  decode (job: MapCursor): Array<FeatureUse<F>>
}

/** A helper for features: fails if more than one of `keys` is set. */
export function atMostOne (job: MapCursor, keys: readonly string[], message: string): void {
  const set = keys.filter((k) => job.set(k))
  if (set.length > 1) throw job.at(set[1] as string).error(message)
}

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

export interface ConfigFeature<S = unknown> {
  readonly name: string
  /** The scrape-config keys this feature owns; every other feature and the core leave them alone. */
  readonly keys: readonly string[]
  /**
   * Decodes and validates the feature's keys of one job, throwing ConfigError
   * (via the cursor) with Prometheus's message. Returns undefined when the job
   * does not use the feature.
   */
  decode (job: MapCursor): S | undefined
  /** Settings as /config shows them: secrets already hidden by their type. */
  describe? (settings: S): Record<string, unknown>
}

/** The registered features, as the loader asks for them. */
export interface FeatureSet<F extends ConfigFeature = ConfigFeature> {
  owns (key: string): boolean
  list (): readonly F[]
}

/** A helper for features: fails if more than one of `keys` is set. */
export function atMostOne (job: MapCursor, keys: readonly string[], message: string): void {
  const set = keys.filter((k) => job.set(k))
  if (set.length > 1) throw job.at(set[1] as string).error(message)
}

// The registry of client features. Feature plugins (tls, proxy, the auth
// kinds, ...) register here; the config loader asks it who owns which key,
// and has it decode a job's features in registration order. A slot (auth)
// takes its place in that order when a plugin declares it; the features that
// fill it are decoded together there, whenever they registered.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { ClientFeature, PlainClientFeature, SlotClientFeature } from '../src/client/feature.js'
import type { MapCursor } from '../src/config/cursor.js'
import type { FeatureSet, FeatureUse } from '../src/config/feature.js'
import { decodeSlot } from '../src/config/slot.js'

interface SlotEntry {
  slot: string
  members: SlotClientFeature[]
}

type Entry = { feature: PlainClientFeature } | SlotEntry

export class ClientFeatures implements FeatureSet<ClientFeature> {
  readonly #entries: Entry[] = []
  readonly #byName = new Map<string, ClientFeature>()
  readonly #owners = new Map<string, string>()

  /** Declares a slot: at most one of its features per job, validated here in the decode order. */
  addSlot (name: string): void {
    if (this.#slot(name) !== undefined) throw new Error(`slot ${name} is declared twice`)
    this.#entries.push({ slot: name, members: [] })
  }

  add (feature: ClientFeature): void {
    if (this.#byName.has(feature.name)) throw new Error(`client feature ${feature.name} is registered twice`)
    const slot = feature.slot === undefined ? undefined : this.#slot(feature.slot)
    if (feature.slot !== undefined && slot === undefined) {
      throw new Error(`client feature ${feature.name} fills slot ${feature.slot}, which no plugin has declared`)
    }
    for (const key of feature.keys) {
      const owner = this.#owners.get(key)
      if (owner !== undefined) throw new Error(`config key ${key} is owned by both ${owner} and ${feature.name}`)
    }
    for (const key of feature.keys) this.#owners.set(key, feature.name)
    this.#byName.set(feature.name, feature)
    if (feature.slot === undefined) this.#entries.push({ feature })
    else slot?.members.push(feature)
  }

  owns (key: string): boolean {
    return this.#owners.has(key)
  }

  decode (job: MapCursor): Array<FeatureUse<ClientFeature>> {
    return this.#entries.flatMap((entry): Array<FeatureUse<ClientFeature>> => {
      if ('slot' in entry) return decodeSlot(job, entry.members)
      const settings = entry.feature.decode(job)
      return settings === undefined ? [] : [{ feature: entry.feature, settings }]
    })
  }

  /**
   * The named features alone, in the order given, as a set of their own: a
   * feature whose block holds other features' keys decodes them with it
   * (oauth2's tls_config and proxy keys, for its token endpoint's client).
   */
  only (names: readonly string[]): ClientFeatures {
    const set = new ClientFeatures()
    for (const name of names) {
      const feature = this.#byName.get(name)
      if (feature === undefined || feature.slot !== undefined) throw new Error(`no client feature ${name} outside a slot is registered`)
      set.add(feature)
    }
    return set
  }

  #slot (name: string): SlotEntry | undefined {
    return this.#entries.find((e): e is SlotEntry => 'slot' in e && e.slot === name)
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    clientFeatures: ClientFeatures
  }
}

async function clientRegistry (app: FastifyInstance): Promise<void> {
  app.decorate('clientFeatures', new ClientFeatures())
}

export default fp(clientRegistry, { name: 'client-registry', fastify: '5.x' })

// The registry of client features. Feature plugins (auth, tls, proxy, ...)
// register here; the config loader asks it which keys exist and who owns them.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { ClientFeature } from '../src/client/feature.js'
import type { FeatureSet } from '../src/config/feature.js'

export class ClientFeatures implements FeatureSet<ClientFeature> {
  readonly #features: ClientFeature[] = []
  readonly #owners = new Map<string, string>()

  add (feature: ClientFeature<any>): void { // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const key of feature.keys) {
      const owner = this.#owners.get(key)
      if (owner !== undefined) throw new Error(`config key ${key} is owned by both ${owner} and ${feature.name}`)
      this.#owners.set(key, feature.name)
    }
    this.#features.push(feature)
  }

  owns (key: string): boolean {
    return this.#owners.has(key)
  }

  list (): readonly ClientFeature[] {
    return this.#features
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

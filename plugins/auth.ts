// The auth slot: a job authenticates in at most one way. basic_auth,
// authorization (with the bearer_token keys) and oauth2 fill it, each from a
// plugin of its own; a kind Prometheus lacks can too, with no change here or
// in the core: a SlotClientFeature with `slot: 'auth'`, its interceptor at
// Layer.Auth.
//
// Registered where Prometheus validates auth among a job's client features
// (PROMETHEUS.md §2): after tls_config (checked at its unmarshal), before the
// proxy keys (rule 7) and http_headers (rule 8).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

async function auth (app: FastifyInstance): Promise<void> {
  app.clientFeatures.addSlot('auth')
}

export default fp(auth, { name: 'auth', fastify: '5.x', dependencies: ['client-registry'] })

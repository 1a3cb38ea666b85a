// The basic_auth feature (auth slot): `Authorization: Basic ...`, set only
// when no outer layer has set Authorization, as Prometheus's round-tripper
// does.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Layer, type SlotClientFeature } from '../src/client/feature.js'
import { headerInterceptor } from '../src/client/interceptor.js'
import { describeSource } from '../src/client/secret.js'
import { checkBasicAuth, readBasicAuth, settleBasicAuth, type BasicAuth, type BasicAuthClaim } from './basic-auth/settings.js'
import { basicValue } from './basic-auth/header.js'

export const basicAuthFeature: SlotClientFeature<BasicAuth, BasicAuthClaim> = {
  name: 'basic_auth',
  keys: ['basic_auth'],
  slot: 'auth',
  read: readBasicAuth,
  rules: [{ rule: '3', check: checkBasicAuth }],
  // No collisions of its own: Prometheus words basic_auth beside another kind in that kind's rules (2, 5e, 6a).
  settle: settleBasicAuth,
  compile (s, client) {
    client.use(Layer.Auth, headerInterceptor('authorization', basicValue(s), true))
  },
  // Prometheus hides the password, not the username.
  describe: (s) => ({ basic_auth: { ...describeSource('username', s.username, { plain: true }), ...describeSource('password', s.password) } }),
}

async function basicAuth (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(basicAuthFeature)
}

export default fp(basicAuth, { name: 'basic_auth', fastify: '5.x', dependencies: ['client-registry', 'auth'] })

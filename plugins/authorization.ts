// The authorization feature (auth slot): `Authorization: <type> <credentials>`,
// from the authorization block or, as Prometheus folds them into it, from
// bearer_token or bearer_token_file. Set only when no outer layer has set
// Authorization, as Prometheus's round-tripper does.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Layer, type SlotClientFeature } from '../src/client/feature.js'
import { headerInterceptor } from '../src/client/interceptor.js'
import { describeSource } from '../src/client/secret.js'
import {
  checkAuthorization, checkBearer, readAuthorization, settleAuthorization,
  type Authorization, type AuthorizationClaim,
} from './authorization/settings.js'
import { authorizationValue } from './authorization/header.js'

export const authorizationFeature: SlotClientFeature<Authorization, AuthorizationClaim> = {
  name: 'authorization',
  keys: ['authorization', 'bearer_token', 'bearer_token_file'],
  slot: 'auth',
  read: readAuthorization,
  rules: [
    { rule: '1', check: checkBearer },
    { rule: '5a', check: checkAuthorization },
  ],
  collisions: [
    {
      rule: '2',
      when: ['bearer_token', 'bearer_token_file'],
      rivals: ['basic_auth', 'oauth2'],
      message: 'at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured',
    },
    {
      rule: '5e',
      when: ['authorization'],
      rivals: ['basic_auth', 'oauth2'],
      message: 'at most one of basic_auth, oauth2 & authorization must be configured',
    },
  ],
  settle: settleAuthorization,
  compile (s, client) {
    client.use(Layer.Auth, headerInterceptor('authorization', authorizationValue(s), true))
  },
  describe: (s) => ({ authorization: { type: s.type, ...describeSource('credentials', s.credentials) } }),
}

async function authorization (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(authorizationFeature)
}

export default fp(authorization, { name: 'authorization', fastify: '5.x', dependencies: ['client-registry', 'auth'] })

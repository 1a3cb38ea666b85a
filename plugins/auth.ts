// The auth feature: basic_auth, authorization, bearer_token(_file).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { ClientFeature } from '../src/client/feature.js'
import { describeSource } from '../src/client/secret.js'
import { AUTH_KEYS, decodeAuth, type AuthSettings } from './auth/settings.js'
import { compileAuth } from './auth/interceptors.js'

export const authFeature: ClientFeature<AuthSettings> = {
  name: 'auth',
  keys: AUTH_KEYS,
  sendsCredentials: true,
  decode: decodeAuth,
  compile: compileAuth,
  describe (s) {
    if (s.kind === 'basic_auth') {
      return { basic_auth: { username: describeSource(s.basic.username), password: describeSource(s.basic.password) } }
    }
    return { authorization: { type: s.authorization.type, credentials: describeSource(s.authorization.credentials) } }
  },
}

async function auth (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(authFeature)
}

export default fp(auth, { name: 'auth', fastify: '5.x', dependencies: ['client-registry'] })

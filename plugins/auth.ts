// The auth feature: basic_auth, authorization, bearer_token(_file) and oauth2
// (client_credentials and jwt-bearer), with Prometheus's validation rules 1-6.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { ClientFeature } from '../src/client/feature.js'
import { describeSource } from '../src/client/secret.js'
import { AUTH_KEYS, decodeAuth, type AuthSettings } from './auth/settings.js'
import { compileAuth } from './auth/interceptors.js'
import { describeOAuth2 } from './auth/oauth2-settings.js'

export const authFeature: ClientFeature<AuthSettings> = {
  name: 'auth',
  keys: AUTH_KEYS,
  sendsCredentials: true,
  decode: decodeAuth,
  compile: compileAuth,
  describe (s) {
    switch (s.kind) {
      case 'basic_auth':
        // Prometheus hides the password, not the username.
        return { basic_auth: { ...describeSource('username', s.basic.username, { plain: true }), ...describeSource('password', s.basic.password) } }
      case 'authorization':
        return { authorization: { type: s.authorization.type, ...describeSource('credentials', s.authorization.credentials) } }
      case 'oauth2':
        return { oauth2: describeOAuth2(s.oauth2) }
    }
  },
}

async function auth (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(authFeature)
}

export default fp(auth, { name: 'auth', fastify: '5.x', dependencies: ['client-registry'] })

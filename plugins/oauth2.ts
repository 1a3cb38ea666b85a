// The oauth2 feature (auth slot): client_credentials and jwt-bearer grants;
// every scrape carries the token (plugins/oauth2/interceptor.ts). The block's
// own tls_config and proxy keys are the tls and proxy features' keys, decoded
// and compiled by those features, obtained from the registry by name.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { ClientFeature, SlotClientFeature } from '../src/client/feature.js'
import type { FeatureSet } from '../src/config/feature.js'
import { checkOAuth2, describeOAuth2, readOAuth2, settleOAuth2, type OAuth2Claim, type OAuth2Settings } from './oauth2/settings.js'
import { compileOAuth2 } from './oauth2/interceptor.js'

/** The feature, decoding its block's tls_config and proxy keys with `transport`. */
export function oauth2Feature (transport: FeatureSet<ClientFeature>): SlotClientFeature<OAuth2Settings, OAuth2Claim> {
  return {
    name: 'oauth2',
    keys: ['oauth2'],
    slot: 'auth',
    read: (job) => readOAuth2(job, transport),
    rules: [{ rule: '6b', check: checkOAuth2 }],
    collisions: [{
      rule: '6a',
      rivals: ['basic_auth'],
      message: 'at most one of basic_auth, oauth2 & authorization must be configured',
    }],
    settle: settleOAuth2,
    compile: compileOAuth2,
    describe: (s) => ({ oauth2: describeOAuth2(s) }),
  }
}

async function oauth2 (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(oauth2Feature(app.clientFeatures.only(['tls', 'proxy'])))
}

export default fp(oauth2, { name: 'oauth2', fastify: '5.x', dependencies: ['client-registry', 'auth', 'tls', 'proxy'] })

// The redirects feature: follow_redirects (default true, as in Prometheus).
// Every job has settings, so every job that follows gets the redirect layer,
// which keeps every hop inside the job's target policy.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Layer, type ClientFeature } from '../src/client/feature.js'
import type { MapCursor } from '../src/config/cursor.js'
import { redirectInterceptor } from './redirects/interceptor.js'

export interface RedirectSettings {
  follow: boolean
}

function decodeRedirects (job: MapCursor): RedirectSettings {
  // Absent or null keeps Prometheus's default (true); never undefined, so compile runs for every job.
  return { follow: job.set('follow_redirects') ? job.at('follow_redirects').bool() : true }
}

export const redirectsFeature: ClientFeature<RedirectSettings> = {
  name: 'redirects',
  keys: ['follow_redirects'],
  decode: decodeRedirects,
  compile (settings, client) {
    // Fail closed: a client without a target policy (one whose destination the
    // config names, like a token endpoint's) has no hop it may be sent to.
    if (settings.follow && client.targets !== undefined) client.use(Layer.Redirect, redirectInterceptor(client.targets))
  },
  describe: (s) => ({ follow_redirects: s.follow }),
}

async function redirects (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(redirectsFeature)
}

export default fp(redirects, { name: 'redirects', fastify: '5.x', dependencies: ['client-registry'] })

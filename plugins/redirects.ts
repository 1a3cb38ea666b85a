// The redirects feature: follow_redirects (default true, as in Prometheus).
// Every job has settings, so every job that follows gets the redirect layer.
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
    if (settings.follow) client.use(Layer.Redirect, redirectInterceptor())
  },
  describe: (s) => ({ follow_redirects: s.follow }),
}

async function redirects (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(redirectsFeature)
}

export default fp(redirects, { name: 'redirects', fastify: '5.x', dependencies: ['client-registry'] })

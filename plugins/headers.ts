// The headers feature: http_headers, appended to every request of the job
// (Layer.Headers, the outermost layer, as in Prometheus).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Layer, type ClientFeature } from '../src/client/feature.js'
import { decodeHeaders, type HeadersSettings } from './headers/settings.js'
import { headersInterceptor } from './headers/interceptor.js'

export const headersFeature: ClientFeature<HeadersSettings> = {
  name: 'headers',
  keys: ['http_headers'],
  // Secrets and files may hold credentials (API keys).
  decode: decodeHeaders,
  compile (settings, client) {
    client.use(Layer.Headers, headersInterceptor(settings))
  },
  describe: (s) => ({
    http_headers: Object.fromEntries(s.headers.map((h) => [h.name, {
      values: h.values.length === 0 ? undefined : h.values.map((v) => Buffer.from(v, 'latin1').toString('utf8')),
      secrets: h.secrets.length === 0 ? undefined : h.secrets.map(() => '<secret>'),
      files: h.files.length === 0 ? undefined : h.files.map((f) => f.file.path),
    }])),
  }),
}

async function headers (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(headersFeature)
}

export default fp(headers, { name: 'headers', fastify: '5.x', dependencies: ['client-registry'] })

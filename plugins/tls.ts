// The TLS feature: tls_config for connections to a job's https targets.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Layer, type ClientBuilder, type ClientFeature } from '../src/client/feature.js'
import { decodeTls, type TlsSettings } from './tls/settings.js'

function compileTls (s: TlsSettings, client: ClientBuilder): void {
  if (s.ca !== undefined) client.connect.ca = s.ca.pem
  client.connect.rejectUnauthorized = !s.insecureSkipVerify
  const servername = s.serverName
  if (servername !== undefined) {
    // undici takes the SNI name from the request (its Host) before the connect
    // options, so server_name is set per request. Node verifies the
    // certificate against the same name.
    client.use(Layer.Transport, (dispatch) => (opts, handler) => dispatch({ ...opts, servername } as typeof opts, handler))
  }
}

export const tlsFeature: ClientFeature<TlsSettings> = {
  name: 'tls',
  keys: ['tls_config'],
  decode: decodeTls,
  compile: compileTls,
  describe: (s) => ({
    tls_config: {
      ca_file: s.ca?.from === 'inline' ? undefined : s.ca?.from,
      ca: s.ca?.from === 'inline' ? '<inline PEM>' : undefined,
      server_name: s.serverName,
      insecure_skip_verify: s.insecureSkipVerify,
    },
  }),
}

async function tls (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(tlsFeature)
}

export default fp(tls, { name: 'tls', fastify: '5.x', dependencies: ['client-registry'] })

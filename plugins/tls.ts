// The TLS feature: tls_config and enable_http2 for connections to a job's
// targets. Every job has settings (enable_http2 defaults to true), so every
// job gets the feature's connector, which words handshake failures precisely,
// and the feature's describeFailure, which gives the core those words.
// File-based CA, cert or key make the job's connections reloadable: a file
// rotated on disk is used from the next scrape on.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Layer, type ClientBuilder, type ClientFeature } from '../src/client/feature.js'
import { decodeTls } from './tls/settings.js'
import type { PemSource, TlsSettings } from './tls/types.js'
import { connectOptions } from './tls/options.js'
import { tlsConnector } from './tls/connector.js'
import { tlsFailure } from './tls/errors.js'
import { TlsFileReloader } from './tls/reload.js'

/** The roots a target's certificate must chain to, in words for failures. */
function rootsWords (s: TlsSettings): string {
  if (s.ca === undefined) return 'Node.js\'s bundled root CAs'
  return s.ca.source.from === 'file' ? `tls_config.ca_file ${s.ca.source.path}` : 'tls_config.ca'
}

function compileTls (s: TlsSettings, client: ClientBuilder): void {
  client.allowH2 = s.enableHttp2
  // Load checked these; they are built again only to keep settings free of node:tls objects.
  Object.assign(client.connect, connectOptions(s, { ca: s.ca?.pem, cert: s.cert?.pem, key: s.key?.pem.reveal() }))
  const base = { serverName: s.serverName, roots: rootsWords(s), minVersion: s.minVersion, maxVersion: s.maxVersion }
  client.setConnector(({ connect, allowH2 }) => tlsConnector({ ...base, connect, allowH2 }))

  const servername = s.serverName
  if (servername !== undefined) {
    // undici takes the SNI name from the request (its Host) before the connect
    // options, so server_name is set per request, for whatever connector the
    // base dispatcher uses (a proxy's tunnel too).
    client.use(Layer.Transport, (dispatch) => (opts, handler) => dispatch({ ...opts, servername } as typeof opts, handler))
  }
  const reloader = new TlsFileReloader(s)
  if (reloader.watching) client.reloadConnect(reloader)
}

function shown (source: PemSource | undefined, file: 'ca_file' | 'cert_file' | 'key_file', inline: string): Record<string, string> {
  if (source === undefined) return {}
  return source.from === 'file' ? { [file]: source.path } : { [file.replace('_file', '')]: inline }
}

export const tlsFeature: ClientFeature<TlsSettings> = {
  name: 'tls',
  keys: ['tls_config', 'enable_http2'],
  decode: decodeTls,
  compile: compileTls,
  describeFailure: tlsFailure,
  describe: (s) => ({
    ...(s.configured
      ? {
          tls_config: {
            ...shown(s.ca?.source, 'ca_file', '<inline PEM>'),
            ...shown(s.cert?.source, 'cert_file', '<inline PEM>'),
            ...shown(s.key?.source, 'key_file', '<secret>'),
            server_name: s.serverName,
            insecure_skip_verify: s.insecureSkipVerify,
            min_version: s.minVersion,
            max_version: s.maxVersion,
          },
        }
      : {}),
    enable_http2: s.enableHttp2,
  }),
}

async function tls (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(tlsFeature)
}

export default fp(tls, { name: 'tls', fastify: '5.x', dependencies: ['client-registry'] })

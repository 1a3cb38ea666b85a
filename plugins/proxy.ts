// The proxy feature: proxy_url, no_proxy, proxy_from_environment and
// proxy_connect_header. A job that uses a proxy gets a routing dispatcher in
// place of the default Agent (plugins/proxy/dispatcher.ts).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { ClientBuilder, ClientFeature } from '../src/client/feature.js'
import { decodeProxy, PROXY_KEYS, type ProxySettings } from './proxy/settings.js'
import { ProxyDispatcher } from './proxy/dispatcher.js'

function compileProxy (settings: ProxySettings, client: ClientBuilder): void {
  client.setDispatcher((options) => new ProxyDispatcher(settings, options))
}

export const proxyFeature: ClientFeature<ProxySettings> = {
  name: 'proxy',
  keys: PROXY_KEYS,
  decode: decodeProxy,
  compile: compileProxy,
  describe: (s) => s.described,
}

async function proxy (app: FastifyInstance): Promise<void> {
  app.clientFeatures.add(proxyFeature)
}

export default fp(proxy, { name: 'proxy', fastify: '5.x', dependencies: ['client-registry'] })

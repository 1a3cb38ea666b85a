// Operational routes: /metrics, /-/healthy, /-/ready, /-/reload, /config.
import type { FastifyInstance } from 'fastify'
import type { GatewayState } from '../state.js'
import type { GatewayMetrics } from '../metrics.js'
import { describeConfig, describeConfigYaml } from '../config/describe.js'
import { Errors } from '../errors.js'
import { refuseOtherMethods } from './methods.js'

export interface OpsRouteOptions {
  state: GatewayState
  metrics: GatewayMetrics
  reload: () => Promise<void>
}

export async function opsRoutes (app: FastifyInstance, { state, metrics, reload }: OpsRouteOptions): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType)
    return metrics.registry.metrics()
  })
  app.get('/-/healthy', async (_request, reply) => reply.type('text/plain').send('scrape-gateway is Healthy.\n'))
  app.get('/-/ready', async (_request, reply) => reply.type('text/plain').send('scrape-gateway is Ready.\n'))
  // Prometheus answers reload on POST and PUT, and a GET with 405 (a link
  // followed, a probe pointed at the wrong path must not reload anything).
  refuseOtherMethods(app, '/-/reload', ['POST', 'PUT'])
  app.route({
    method: ['POST', 'PUT'],
    url: '/-/reload',
    handler: async (_request, reply) => {
      try {
        await reload()
      } catch (err) {
        throw new Errors.CONFIG_RELOAD((err as Error).message)
      }
      return reply.type('text/plain').send('configuration reloaded\n')
    },
  })
  // YAML as Prometheus shows its config, in its key order; ?format=json for tools.
  app.get('/config', async (request, reply) => {
    const format = (request.query as Record<string, unknown>).format ?? 'yaml'
    if (format === 'json') return reply.type('application/json').send(JSON.stringify(describeConfig(state.config), null, 2) + '\n')
    if (format !== 'yaml') throw new Errors.BAD_PARAM(`format parameter must be yaml or json, got ${JSON.stringify(format)}`)
    return reply.type('text/plain; charset=utf-8').send(describeConfigYaml(state.config))
  })
}

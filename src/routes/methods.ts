// A route's other methods answer 405 with `Allow`, as Prometheus answers a GET
// of /-/reload, instead of the 404 Fastify gives a method no route has: the
// path exists, and the line says which methods it takes.
import type { FastifyInstance, HTTPMethods } from 'fastify'
import { Errors } from '../errors.js'

/** The methods a caller may send that no route of the gateway takes unless it says so. */
const METHODS: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']

/**
 * Registers `url` for every method of METHODS not in `allowed`, answering 405
 * `SG_METHOD_NOT_ALLOWED` with `Allow: <allowed>`. A GET route registered
 * with HEAD left out of `allowed` must say `exposeHeadRoute: false`: this
 * route takes HEAD then.
 */
export function refuseOtherMethods (app: FastifyInstance, url: string, allowed: readonly HTTPMethods[]): void {
  const allow = allowed.join(', ')
  const use = allowed.join(' or ')
  app.route({
    method: METHODS.filter((m) => !allowed.includes(m)),
    url,
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      reply.header('allow', allow)
      throw new Errors.METHOD_NOT_ALLOWED(request.method, request.url.split('?')[0], use)
    },
  })
}

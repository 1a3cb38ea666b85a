// The inbound web config (`--web.config.file`, exporter-toolkit's format): a
// plugin around the server, not inside the probe. The TLS options themselves
// are the server's (Fastify takes them at construction, src/server.ts); this
// plugin adds what happens around every request, in exporter-toolkit's
// order: response headers, the rate limit, the client-certificate policy
// where node:tls cannot enforce it in the handshake, then basic auth. It
// also keeps the server's certificate current with its files.
//
// `/-/healthy` is left out of the rate limit and basic auth, so a kubelet
// probe needs no credentials. Client-certificate policy is about the
// connection, as in Go, where it is part of the handshake, so it covers
// `/-/healthy` too.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type tls from 'node:tls'
import { Errors } from '../src/errors.js'
import { BasicAuthUsers } from './web/basic-auth.js'
import { ServerCertReloader } from './web/cert-reload.js'
import { CLIENT_AUTH, clientCertRefusal } from './web/client-cert.js'
import { RateLimiter } from './web/rate-limit.js'
import type { WebConfig, WebTls } from './web/types.js'

export { loadWebConfig } from './web/config.js'
export type { WebConfig } from './web/types.js'

export interface WebOptions {
  config: WebConfig
}

/** The route exporter-toolkit-style auth leaves open for liveness probes (its GET and HEAD alike). */
const isHealthCheck = (request: FastifyRequest): boolean => request.routeOptions.url === '/-/healthy'

function clientCertHook (app: FastifyInstance, settings: WebTls): void {
  const policy = CLIENT_AUTH[settings.clientAuth]
  if (!policy.require && !policy.verify && settings.clientAllowedSans === undefined) return
  // A connection's certificate cannot change (renegotiation is off), so its verdict is made once.
  const verdicts = new WeakMap<object, string | null>()
  app.addHook('onRequest', (request, _reply, done) => {
    const socket = request.raw.socket as tls.TLSSocket
    let refusal = verdicts.get(socket)
    if (refusal === undefined) {
      refusal = clientCertRefusal(socket, settings.clientAuth, settings.clientAllowedSans) ?? null
      verdicts.set(socket, refusal)
    }
    done(refusal === null ? undefined : new Errors.CLIENT_CERT(refusal))
  })
}

function serveTls (app: FastifyInstance, settings: WebTls): void {
  // Fastify built an https.Server from settings.serverOptions; its type stays the http one.
  const server = app.server as unknown as tls.Server
  // Go's TLS server never renegotiates; node would let a client start one (and change its certificate).
  server.on('secureConnection', (socket: tls.TLSSocket) => socket.disableRenegotiation())
  const reloader = new ServerCertReloader(settings, (options) => server.setSecureContext(options), app.log)
  // Prepended: node's own 'connection' listener starts the TLS handshake with the context it has then.
  if (reloader.watching) server.prependListener('connection', () => reloader.check())
  clientCertHook(app, settings)
}

async function web (app: FastifyInstance, { config }: WebOptions): Promise<void> {
  const { headers, rateLimit, tls: settings, users } = config
  if (headers.length > 0) {
    // On the raw response, so a probe's relayed head (written past fastify) carries them too.
    app.addHook('onRequest', (request, reply, done) => {
      for (const [name, value] of headers) reply.raw.setHeader(name, value)
      done()
    })
  }
  if (rateLimit !== undefined) {
    const limiter = new RateLimiter(rateLimit.intervalMs, rateLimit.burst)
    const retryAfter = String(Math.max(1, Math.ceil(rateLimit.intervalMs / 1000)))
    app.addHook('onRequest', (request, reply, done) => {
      if (isHealthCheck(request) || limiter.allow()) { done(); return }
      reply.header('retry-after', retryAfter)
      done(new Errors.RATE_LIMITED())
    })
  }
  if (settings !== undefined) serveTls(app, settings)
  if (users.size > 0) {
    const auth = new BasicAuthUsers(users)
    await auth.ready()
    app.addHook('onRequest', async (request, reply) => {
      if (isHealthCheck(request)) return
      const verdict = await auth.check(request.headers.authorization)
      if (verdict === 'ok') return
      reply.header('www-authenticate', 'Basic')
      throw new Errors.UNAUTHORIZED(verdict === 'missing' ? 'this endpoint needs basic auth (web config basic_auth_users)' : 'wrong username or password')
    })
  }
  app.log.info({
    webConfig: config.file,
    tls: settings !== undefined,
    clientAuth: settings?.clientAuth,
    basicAuthUsers: users.size,
    headers: headers.map(([name]) => name),
    rateLimit: rateLimit !== undefined,
  }, 'web config loaded')
}

export default fp(web, { name: 'web', fastify: '5.x' })

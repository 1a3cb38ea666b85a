// buildServer(): a Fastify instance with the client features, the loaded
// config and every route registered. It never listens: main.ts does, tests use
// port 0 or inject().
import type http from 'node:http'
import Fastify, { LogController, type FastifyHttpOptions, type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import underPressure from '@fastify/under-pressure'
import clientRegistry from '../plugins/client-registry.js'
import auth from '../plugins/auth.js'
import basicAuth from '../plugins/basic-auth.js'
import authorization from '../plugins/authorization.js'
import oauth2 from '../plugins/oauth2.js'
import tls from '../plugins/tls.js'
import proxy from '../plugins/proxy.js'
import redirects from '../plugins/redirects.js'
import headers from '../plugins/headers.js'
import web, { loadWebConfig } from '../plugins/web.js'
import { Errors, isCoded, oneLine } from './errors.js'
import { clientErrorHandler, errorBody, frameworkErrors } from './server-errors.js'
import { logDestination, loggerOptions, type LogDestination, type LogFormat } from './log.js'
import { ConfigWatch, contentHash } from './config-watch.js'
import { GatewayMetrics } from './metrics.js'
import { GatewayState } from './state.js'
import { probeRoute } from './routes/probe.js'
import { opsRoutes } from './routes/ops.js'
import { sdRoute } from './routes/sd.js'
import { statusRoutes } from './routes/status.js'
import { RecentProbes } from './recent-probes.js'

export interface ServerOptions {
  /** The gateway config file (Prometheus scrape_configs shape). */
  configFile: string
  /** The inbound web config (exporter-toolkit's format: TLS, basic auth, headers); none when undefined or ''. */
  webConfigFile?: string
  /** pino level, or false to log nothing (tests). */
  logLevel?: string | false
  /** Where log lines go: a file descriptor (default 1, stdout). */
  logFd?: number
  /** How log lines are written: logfmt (default, as Prometheus and its exporters write them) or json. */
  logFormat?: LogFormat
  /** Reload the config when its file's content changes (--config.watch; src/config-watch.ts). */
  configWatch?: boolean
  /** Where Prometheus reaches the gateway (--web.external-url): /sd's address; undefined = the Host /sd was asked at. */
  externalUrl?: URL
  /** Seconds subtracted from the caller's X-Prometheus-Scrape-Timeout-Seconds (blackbox_exporter's --timeout-offset). */
  timeoutOffsetSeconds?: number
  /** Probes in flight at most; more are refused with 503 (default 256). */
  maxConcurrentProbes?: number
  /** Probes of one job in flight at most, unless the job sets max_concurrent_probes (default 64). */
  maxConcurrentProbesPerJob?: number
  /** Event-loop delay above which requests are shed with 503 (ms, 0 = never). */
  maxEventLoopDelayMs?: number
  /**
   * Feature plugins of the embedder's own (an auth kind of a test), registered
   * after the built-in ones and before the config loads: a plugin that adds a
   * client feature (plugins/client-registry.ts) joins the gateway without a
   * change to the core.
   */
  plugins?: readonly FastifyPluginAsync[]
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: GatewayState
    reloadConfig: () => Promise<void>
  }
}

export async function buildServer (options: ServerOptions): Promise<FastifyInstance> {
  const level = options.logLevel ?? 'info'
  const destination = level === false ? undefined : logDestination(options.logFd, options.logFormat)
  try {
    return await build(options, level, destination)
  } catch (err) {
    destination?.close()
    throw err
  }
}

async function build (options: ServerOptions, level: string | false, destination: LogDestination | undefined): Promise<FastifyInstance> {
  // Loaded and checked once, before the server exists: its TLS options are the server's own.
  const webConfig = options.webConfigFile === undefined || options.webConfigFile === '' ? undefined : loadWebConfig(options.webConfigFile)
  const serverOptions: FastifyHttpOptions<http.Server> = {
    logger: loggerOptions(level, destination),
    // The probe route writes one line per probe itself, with job and target.
    logController: new LogController({ disableRequestLogging: true }),
    // Probes are GETs with two short parameters; nothing needs more.
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    // What fails before a route (node's parser, a path that does not decode) answers in the one-line format too.
    clientErrorHandler,
    frameworkErrors,
  }
  // With TLS, Fastify builds node's https.Server, which is an http.Server in all the routes use: the instance keeps the http type.
  if (webConfig?.tls !== undefined) Object.assign(serverOptions, { https: webConfig.tls.serverOptions })
  const app = Fastify(serverOptions)
  const metrics = new GatewayMetrics()

  app.setErrorHandler((err: Error & { statusCode?: number, code?: string }, request, reply) => {
    const status = isCoded(err) ? err.statusCode : (err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500)
    const code = err.code ?? 'SG_INTERNAL'
    const where = request.probe === undefined ? '' : ` [job=${JSON.stringify(request.probe.job)} target=${JSON.stringify(request.probe.target)}]`
    if (status >= 500 && !isCoded(err)) request.log.error({ err }, 'unexpected error')
    else if (request.probe === undefined) request.log.info({ code, url: request.url, status }, oneLine(err.message))
    reply.removeHeader('content-encoding')
    reply.removeHeader('content-length')
    return reply.code(status).type('text/plain; charset=utf-8').send(errorBody(code, err.message, where))
  })
  app.setNotFoundHandler((request) => {
    throw new Errors.NOT_FOUND(`no route ${request.method} ${request.url.split('?')[0]}; try /probe?job=JOB&target=HOST:PORT`)
  })

  // Inbound first: nobody the web config refuses gets as far as the overload guard or a route.
  if (webConfig !== undefined) await app.register(web, { config: webConfig })
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs ?? 1000,
    retryAfter: 10,
    customError: Errors.OVERLOADED as unknown as ErrorConstructor,
  })
  await app.register(clientRegistry)
  // Features and the auth slot in the order their keys are validated (PROMETHEUS.md §2).
  await app.register(tls)
  await app.register(auth)
  await app.register(proxy)
  await app.register(redirects)
  await app.register(headers)
  // The auth slot's members, validated at the slot's place. oauth2 decodes its
  // block with the tls and proxy features, and is unmarshalled first: its
  // block's TLS and proxy rules stop Prometheus's YAML decoding, where a wrong
  // type or an unknown key elsewhere is only collected (yaml.v2).
  await app.register(oauth2)
  await app.register(basicAuth)
  await app.register(authorization)
  for (const plugin of options.plugins ?? []) await app.register(plugin)

  const state = new GatewayState(options.configFile, app.clientFeatures, app.log)
  app.decorate('gateway', state)
  // Read before the load, so a change made while it runs is one the watch sees.
  const loadedHash = options.configWatch === true ? contentHash(options.configFile) : ''
  try {
    await state.load()
  } catch (err) {
    await app.close()
    throw err
  }
  metrics.reloadSuccess.set(1)
  metrics.reloadTimestamp.set(Date.now() / 1000)
  metrics.jobs.set(state.config.jobs.length)

  const reload = async (): Promise<void> => {
    try {
      await state.load()
    } catch (err) {
      metrics.reloadSuccess.set(0)
      app.log.error({ err: (err as Error).message }, 'reload failed; the previous configuration stays in use')
      throw err
    }
    metrics.reloadSuccess.set(1)
    metrics.reloadTimestamp.set(Date.now() / 1000)
    metrics.jobs.set(state.config.jobs.length)
    metrics.forgetJobsExcept(state.config.jobs.map((j) => j.name))
    app.log.info({ jobs: state.config.jobs.length }, 'configuration reloaded')
  }
  app.decorate('reloadConfig', reload)

  // The last probes, for the status page and their debug reports.
  const recent = new RecentProbes()
  await app.register(probeRoute, {
    state,
    metrics,
    recent,
    timeoutOffsetMs: (options.timeoutOffsetSeconds ?? 0.5) * 1000,
    maxConcurrentProbes: options.maxConcurrentProbes ?? 256,
    maxConcurrentProbesPerJob: options.maxConcurrentProbesPerJob ?? 64,
  })
  await app.register(opsRoutes, { state, metrics, reload })
  await app.register(sdRoute, { state, externalUrl: options.externalUrl })
  await app.register(statusRoutes, { state, metrics, recent })
  const watch = options.configWatch === true ? new ConfigWatch({ file: options.configFile, loaded: loadedHash, reload, log: app.log }) : undefined
  app.addHook('onClose', async () => {
    // A reload the watch started finishes before the jobs are closed.
    await watch?.close()
    await state.close()
    destination?.close()
  })
  return app
}

#!/usr/bin/env node
// The scrape-gateway command: flags in the exporter convention, signals, listen.
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { buildServer } from './server.js'
import { parseExternalUrl } from './routes/sd.js'
import { LOG_FORMATS, type LogFormat } from './log.js'
import { PACKAGE_ROOT, VERSION } from './version.js'

const DEFAULT_LISTEN = ':9462'
const LOG_LEVELS = ['debug', 'info', 'warn', 'error']
const DEFAULT_CONFIG = path.join(PACKAGE_ROOT, 'config', 'scrape-gateway.yml')

const USAGE = `usage: scrape-gateway [flags]

  --config.file=FILE         gateway config, Prometheus scrape_configs shape (default: ${DEFAULT_CONFIG})
  --config.watch             reload the config when its file's content changes (an edit, a rename over it, a Kubernetes ConfigMap update), as SIGHUP does
  --web.listen-address=ADDR  [host]:port to listen on; an empty host is every IPv6 and IPv4 address (default: ${DEFAULT_LISTEN})
  --web.config.file=FILE     web config (exporter-toolkit format): TLS, client certificates, basic auth, response headers (default: none)
  --web.external-url=URL     where Prometheus reaches the gateway, for /sd's targets (default: the Host /sd is asked at)
  --log.level=LEVEL          debug, info, warn or error (default: info)
  --log.format=FORMAT        logfmt or json (default: logfmt)
  --timeout-offset=SECONDS   subtracted from the caller's X-Prometheus-Scrape-Timeout-Seconds (default: 0.5)
  --probe.max-concurrency=N  probes in flight at most; more get 503 SG_TOO_MANY_PROBES (default: 256)
  --probe.max-concurrency-per-job=N
                             probes of one job in flight at most, unless the job sets max_concurrent_probes (default: 64)
  --config.check             load and validate the config (and the web config, if given), print the result, exit 0 (valid) or 1
  --version                  print the version
  -h, --help                 this text
`

/** `[host]:port`; an empty host ('') means every address. */
export function parseListenAddress (addr: string): { host: string, port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr)
  if (m === null) throw new Error(`invalid --web.listen-address ${JSON.stringify(addr)}: want [host]:port`)
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) }
}

/**
 * Listens where --web.listen-address says. An empty host is every address,
 * IPv6 and IPv4 alike, as Go's `:9462` is for Prometheus and the exporters:
 * `::` with ipv6Only false is one dual-stack socket (IPv4 peers appear as
 * ::ffff:a.b.c.d). A kernel without IPv6 refuses `::`, and then 0.0.0.0 is
 * every address there is.
 */
async function listen (server: FastifyInstance, { host, port }: { host: string, port: number }): Promise<void> {
  if (host !== '') {
    await server.listen({ host, port })
    return
  }
  try {
    await server.listen({ host: '::', port, ipv6Only: false })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err
    await server.listen({ host: '0.0.0.0', port })
  }
}

/** The address listened on, as a flag would write it: `[::]:9462`, `127.0.0.1:9462`. */
function listening (server: FastifyInstance): string {
  const address = server.server.address()
  if (address === null || typeof address === 'string') return String(address)
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`
}

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      'config.file': { type: 'string', default: DEFAULT_CONFIG },
      'config.watch': { type: 'boolean', default: false },
      // exporter-toolkit's flag may be repeated; the gateway has one listener, so a second is refused, not silently dropped.
      'web.listen-address': { type: 'string', multiple: true, default: [DEFAULT_LISTEN] },
      'web.config.file': { type: 'string', default: '' },
      'web.external-url': { type: 'string', default: '' },
      'log.level': { type: 'string', default: 'info' },
      'log.format': { type: 'string', default: 'logfmt' },
      'timeout-offset': { type: 'string', default: '0.5' },
      'probe.max-concurrency': { type: 'string', default: '256' },
      'probe.max-concurrency-per-job': { type: 'string', default: '64' },
      'config.check': { type: 'boolean', default: false },
      version: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) { process.stdout.write(USAGE); return 0 }
  if (values.version) { process.stdout.write(`scrape-gateway ${VERSION}\n`); return 0 }
  const timeoutOffsetSeconds = Number(values['timeout-offset'])
  if (!Number.isFinite(timeoutOffsetSeconds) || timeoutOffsetSeconds < 0) throw new Error(`invalid --timeout-offset ${values['timeout-offset']}`)
  const maxConcurrentProbes = Number(values['probe.max-concurrency'])
  if (!Number.isInteger(maxConcurrentProbes) || maxConcurrentProbes < 1) throw new Error(`invalid --probe.max-concurrency ${values['probe.max-concurrency']}`)
  const maxConcurrentProbesPerJob = Number(values['probe.max-concurrency-per-job'])
  if (!Number.isInteger(maxConcurrentProbesPerJob) || maxConcurrentProbesPerJob < 1) {
    throw new Error(`invalid --probe.max-concurrency-per-job ${values['probe.max-concurrency-per-job']}`)
  }
  const logLevel = values['log.level']
  if (!LOG_LEVELS.includes(logLevel)) throw new Error(`invalid --log.level ${JSON.stringify(logLevel)}: want debug, info, warn or error`)
  const logFormat = values['log.format'] as LogFormat
  if (!LOG_FORMATS.includes(logFormat)) throw new Error(`invalid --log.format ${JSON.stringify(logFormat)}: want logfmt or json`)
  const configFile = values['config.file']
  const webConfigFile = values['web.config.file']
  const externalUrl = values['web.external-url'] === '' ? undefined : parseExternalUrl(values['web.external-url'])

  if (values['config.check']) {
    try {
      const app = await buildServer({ configFile, webConfigFile, logLevel: false })
      const jobs = app.gateway.config.jobs.length
      for (const warning of app.gateway.warnings) process.stderr.write(`WARNING: ${warning}\n`)
      await app.close()
      process.stdout.write(`SUCCESS: ${configFile} is valid (${jobs} job${jobs === 1 ? '' : 's'})\n`)
      if (webConfigFile !== '') process.stdout.write(`SUCCESS: ${webConfigFile} is valid (web config)\n`)
      return 0
    } catch (err) {
      process.stderr.write(`FAILED: ${(err as Error).message}\n`)
      return 1
    }
  }

  const [listenAddress = DEFAULT_LISTEN, ...more] = values['web.listen-address']
  if (more.length > 0) throw new Error(`--web.listen-address given ${more.length + 1} times: the gateway listens on one address`)
  const listenOn = parseListenAddress(listenAddress) // a bad address is a flag error, found before the config loads
  let app
  try {
    app = await buildServer({
      configFile,
      configWatch: values['config.watch'],
      webConfigFile,
      externalUrl,
      logLevel,
      logFormat,
      timeoutOffsetSeconds,
      maxConcurrentProbes,
      maxConcurrentProbesPerJob,
    })
  } catch (err) {
    process.stderr.write(`error loading config: ${(err as Error).message}\n`)
    return 1
  }
  const server = app
  process.on('SIGHUP', () => { server.reloadConfig().catch(() => { /* logged; the old config stays */ }) })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.log.info({ signal }, 'shutting down')
      server.close().then(() => process.exit(0), () => process.exit(1))
    })
  }
  await listen(server, listenOn)
  server.log.info({
    version: VERSION,
    address: listening(server),
    config: configFile,
    configWatch: values['config.watch'],
    webConfig: webConfigFile === '' ? undefined : webConfigFile,
    jobs: server.gateway.config.jobs.length,
  }, 'scrape-gateway started')
  return -1 // keep running
}

main().then((code) => { if (code >= 0) process.exit(code) }, (err: Error) => {
  process.stderr.write(`scrape-gateway: ${err.message}\n`)
  process.exit(2)
})

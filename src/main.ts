#!/usr/bin/env node
// The scrape-gateway command: flags in the exporter convention, signals, listen.
import path from 'node:path'
import { parseArgs } from 'node:util'
import { buildServer } from './server.js'
import { PACKAGE_ROOT, VERSION } from './version.js'

const DEFAULT_LISTEN = ':9462'
const LOG_LEVELS = ['debug', 'info', 'warn', 'error']
const DEFAULT_CONFIG = path.join(PACKAGE_ROOT, 'config', 'scrape-gateway.yml')

const USAGE = `usage: scrape-gateway [flags]

  --config.file=FILE         gateway config, Prometheus scrape_configs shape (default: ${DEFAULT_CONFIG})
  --web.listen-address=ADDR  address to listen on (default: ${DEFAULT_LISTEN})
  --web.config.file=FILE     web config (exporter-toolkit format): TLS, client certificates, basic auth, response headers (default: none)
  --log.level=LEVEL          debug, info, warn or error (default: info)
  --timeout-offset=SECONDS   subtracted from the caller's X-Prometheus-Scrape-Timeout-Seconds (default: 0.5)
  --probe.max-concurrency=N  probes in flight at most; more get 503 SG_TOO_MANY_PROBES (default: 256)
  --probe.max-concurrency-per-job=N
                             probes of one job in flight at most, unless the job sets max_concurrent_probes (default: 64)
  --config.check             load and validate the config (and the web config, if given), print the result, exit 0 (valid) or 1
  --version                  print the version
  --help                     this text
`

export function parseListenAddress (addr: string): { host: string, port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr)
  if (m === null) throw new Error(`invalid --web.listen-address ${JSON.stringify(addr)}: want [host]:port`)
  const host = m[1] ?? m[2] ?? ''
  return { host: host === '' ? '0.0.0.0' : host, port: Number(m[3]) }
}

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      'config.file': { type: 'string', default: DEFAULT_CONFIG },
      'web.listen-address': { type: 'string', default: DEFAULT_LISTEN },
      'web.config.file': { type: 'string', default: '' },
      'log.level': { type: 'string', default: 'info' },
      'timeout-offset': { type: 'string', default: '0.5' },
      'probe.max-concurrency': { type: 'string', default: '256' },
      'probe.max-concurrency-per-job': { type: 'string', default: '64' },
      'config.check': { type: 'boolean', default: false },
      version: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
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
  const configFile = values['config.file']
  const webConfigFile = values['web.config.file']

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

  const listen = parseListenAddress(values['web.listen-address'])
  let app
  try {
    app = await buildServer({ configFile, webConfigFile, logLevel, timeoutOffsetSeconds, maxConcurrentProbes, maxConcurrentProbesPerJob })
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
  await server.listen(listen)
  server.log.info({ version: VERSION, config: configFile, webConfig: webConfigFile === '' ? undefined : webConfigFile, jobs: server.gateway.config.jobs.length }, 'scrape-gateway started')
  return -1 // keep running
}

main().then((code) => { if (code >= 0) process.exit(code) }, (err: Error) => {
  process.stderr.write(`scrape-gateway: ${err.message}\n`)
  process.exit(2)
})

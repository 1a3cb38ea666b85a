// A real node_exporter for end-to-end tests: Debian's prometheus-node-exporter
// in the foreground on a free 127.0.0.1 port, serving https with basic auth
// from its own web config (exporter-toolkit's format) in a temp dir, killed in
// close(). Go's promhttp answers a gzip scrape with Transfer-Encoding chunked,
// the framing a hand-made target with Content-Length never exercises.
import { execFileSync, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import type { CertPair } from './pki.js'
import { refusedPort } from './targets.js'
import { spawnDaemon } from './daemon.js'

/** The binary, or undefined when none is installed (CI installs Debian's: apt-get install prometheus-node-exporter). */
export const NODE_EXPORTER_BIN: string | undefined = ['/usr/bin/prometheus-node-exporter', '/usr/local/bin/node_exporter']
  .find((p) => fs.existsSync(p))

/**
 * A few collectors that read only /proc, so a scrape is quick and its series
 * do not come and go between scrapes (no filesystem: mounts can). All of
 * vmstat's and netstat's fields make the body about 100 KiB on a 2-CPU machine,
 * so gzip output spans many writes, not one small chunk.
 */
const COLLECTORS = [
  '--collector.disable-defaults',
  '--collector.cpu', '--collector.meminfo', '--collector.loadavg', '--collector.netdev', '--collector.stat',
  '--collector.vmstat', '--collector.vmstat.fields=.*',
  '--collector.netstat', '--collector.netstat.fields=.*',
]

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/**
 * A bcrypt hash for basic_auth_users, made by the system's crypt(3) through
 * perl: perl-base is Essential on Debian and pre-depends on libxcrypt, which
 * does bcrypt, so this needs no npm dependency and no extra package (htpasswd
 * is apache2-utils; Python may be absent, and its crypt module is gone in 3.13).
 */
export function bcrypt (password: string, cost = 10): string {
  const salt = Array.from(crypto.randomBytes(22), (b) => BCRYPT_ALPHABET[b % 64]).join('')
  const setting = `$2b$${String(cost).padStart(2, '0')}$${salt}`
  const hash = execFileSync('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1]) // ""', password, setting],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  // A crypt(3) without bcrypt answers "*0" or nothing rather than failing.
  if (!/^\$2b\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) throw new Error(`crypt(3) did not make a bcrypt hash: ${JSON.stringify(hash)}`)
  return hash
}

/** The value of an Authorization header for basic auth. */
export function basicAuth (username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
}

export interface Scraped {
  status: number
  headers: IncomingHttpHeaders
  /** As it came off the wire (still gzip when the response says so). */
  body: Buffer
}

export interface NodeExporterOptions {
  /** The serving certificate (its SANs must cover 127.0.0.1). */
  cert: CertPair
  /** PEM of the CA that issued `cert`, to reach it for readiness and get(). */
  ca: string
  username: string
  password: string
}

export interface NodeExporter {
  /** '127.0.0.1:PORT' */
  host: string
  port: number
  /** https://127.0.0.1:PORT */
  url: string
  /** `--version`'s first line. */
  version: string
  /** GET /metrics trusting the CA, with exactly `headers` (no auth unless given); nothing decoded. */
  get (headers?: Record<string, string>): Promise<Scraped>
  /** The last 8 KiB of node_exporter's stdout and stderr. */
  output (): string
  close (): Promise<void>
}

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function httpsGet (url: string, ca: string, headers: Record<string, string>): Promise<Scraped> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers, agent: false, signal: AbortSignal.timeout(5000) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.once('error', reject)
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.once('error', reject)
  })
}

/** Starts node_exporter; resolves once an authenticated /metrics answers 200 over TLS. */
export async function startNodeExporter (opts: NodeExporterOptions): Promise<NodeExporter> {
  if (NODE_EXPORTER_BIN === undefined) throw new Error('no node_exporter binary (install Debian\'s: apt-get install prometheus-node-exporter)')
  const bin = NODE_EXPORTER_BIN
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-node-exporter-'))
  const webConfig = path.join(dir, 'web-config.yml')
  fs.writeFileSync(webConfig, [
    'tls_server_config:',
    `  cert_file: ${JSON.stringify(opts.cert.certFile)}`,
    `  key_file: ${JSON.stringify(opts.cert.keyFile)}`,
    'basic_auth_users:',
    `  ${JSON.stringify(opts.username)}: '${bcrypt(opts.password)}'`,
    '',
  ].join('\n'))
  const port = await refusedPort()
  const host = `127.0.0.1:${port}`
  const url = `https://${host}`

  const daemon = spawnDaemon(bin, [
    `--web.listen-address=${host}`,
    `--web.config.file=${webConfig}`,
    ...COLLECTORS,
  ], dir)
  const { child, close } = daemon

  const get = async (headers: Record<string, string> = {}): Promise<Scraped> => httpsGet(`${url}/metrics`, opts.ca, headers)

  // daemon.ts's ready() cannot serve here: it is plain fetch, which trusts no
  // private CA, and node_exporter has no /-/ready. A 200 for the credentials
  // also shows the bcrypt hash and the TLS config were taken.
  const authorization = basicAuth(opts.username, opts.password)
  const deadline = Date.now() + 10_000
  let last = 'no answer yet'
  for (;;) {
    try {
      const res = await get({ authorization })
      if (res.status === 200) break
      last = `HTTP ${res.status}: ${res.body.toString().slice(0, 200)}`
    } catch (err) {
      last = (err as Error).message
    }
    if (daemon.spawnError() !== undefined) {
      await close()
      throw new Error(`cannot start ${bin}: ${daemon.spawnError()?.message}`)
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await close()
      throw new Error(`node_exporter did not become ready on ${url} (${last}):\n${daemon.output()}`)
    }
    await sleep(100)
  }

  const v = spawnSync(bin, ['--version'], { encoding: 'utf8' })
  const version = `${v.stdout ?? ''}${v.stderr ?? ''}`.split('\n')[0]?.trim() ?? 'unknown'

  return { host, port, url, version, get, output: daemon.output, close }
}

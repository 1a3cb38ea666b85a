// The https target when nginx is not installed, run as its own process
// (`node --import tsx test/bench/node-target.ts CONFIG_JSON`) so that it
// neither competes with the benchmark's event loop nor hides in its CPU time.
// It does what the nginx target does: bearer check, FILE or FILE.gz by
// Accept-Encoding, keep-alive.
import { readdirSync, readFileSync } from 'node:fs'
import https from 'node:https'
import path from 'node:path'

export interface NodeTargetConfig {
  port: number
  root: string
  certFile: string
  keyFile: string
  token: string
}

const config = JSON.parse(process.argv[2] ?? '{}') as NodeTargetConfig
const expected = `Bearer ${config.token}`

// Bodies are read once: an exporter renders its text in memory too.
const files = new Map<string, Buffer>()
for (const name of readdirSync(config.root)) files.set(`/${name}`, readFileSync(path.join(config.root, name)))

const server = https.createServer({
  cert: readFileSync(config.certFile),
  key: readFileSync(config.keyFile),
  keepAliveTimeout: 75_000,
}, (req, res) => {
  if (req.headers.authorization !== expected) {
    res.writeHead(401, { 'content-type': 'text/plain' }).end('401 Unauthorized\n')
    return
  }
  const url = (req.url ?? '/').split('?')[0] ?? '/'
  const gz = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '') ? files.get(`${url}.gz`) : undefined
  const body = gz ?? files.get(url)
  if (body === undefined || url.endsWith('.gz')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('404 Not Found\n')
    return
  }
  res.writeHead(200, {
    'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    'content-length': body.length,
    ...(gz !== undefined ? { 'content-encoding': 'gzip' } : {}),
  })
  res.end(body)
})
server.keepAliveTimeout = 75_000
server.listen(config.port, '127.0.0.1')
process.once('SIGTERM', () => { server.close(); server.closeAllConnections(); process.exit(0) })

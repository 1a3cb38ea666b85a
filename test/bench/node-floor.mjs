// The Node floor: what the gateway's job costs on node:http + undici + pipe
// alone, with no fastify and none of the gateway's code (no config model,
// features, deadline, limits, metrics or logs). `--gateway=floor` runs it in
// the gateway's place, reading the same config file, so the difference
// between the two is the gateway's own cost. Not a product: no validation.
import http from 'node:http'
import fs from 'node:fs'
import { parse } from 'yaml'
import { Agent } from 'undici'

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const config = parse(fs.readFileSync(arg('config.file'), 'utf8'))
const jobs = new Map(config.scrape_configs.map((j) => [j.job_name, j]))
const ca = fs.readFileSync(config.scrape_configs[0].tls_config.ca_file, 'utf8')
const agent = new Agent({ connect: { ca }, keepAliveTimeout: 60_000 })
const [host, port] = (arg('web.listen-address') ?? '127.0.0.1:9462').split(':')

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://floor')
  if (url.pathname !== '/probe') { res.end('ready\n'); return }
  const job = jobs.get(url.searchParams.get('job'))
  const token = fs.readFileSync(job.bearer_token_file, 'utf8').trim()
  agent.request({
    origin: `https://${url.searchParams.get('target')}`,
    path: job.metrics_path,
    method: 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      'accept-encoding': job.enable_compression ? 'gzip' : 'identity',
      accept: req.headers.accept ?? '*/*',
    },
  }).then(({ statusCode, headers, body }) => {
    const out = { 'content-type': headers['content-type'] }
    if (headers['content-length'] !== undefined) out['content-length'] = headers['content-length']
    if (headers['content-encoding'] !== undefined) out['content-encoding'] = headers['content-encoding']
    res.writeHead(statusCode, out)
    body.pipe(res)
  }, (err) => { res.statusCode = 502; res.end(`${err}\n`) })
}).listen(Number(port), host)

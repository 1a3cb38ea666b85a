// End to end with a real Prometheus (Debian's), scraping the gateway
// blackbox-style exactly as the README shows: a plain-http Prometheus names the
// job and the target, the gateway holds the token and the CA and performs the
// https scrape, and the samples land in Prometheus's TSDB. Assertions are on
// what Prometheus stored (through its HTTP API) and on what the target saw.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { createCa, tmpDir } from './helpers/pki.js'
import type { Ca } from './helpers/pki.js'
import { startHttpsTarget } from './helpers/targets.js'
import type { Handler, Target } from './helpers/targets.js'
import { startGateway } from './helpers/gateway.js'
import type { Gateway } from './helpers/gateway.js'
import { PROMETHEUS_SKIP, startPrometheus } from './helpers/prometheus.js'
import type { Prometheus } from './helpers/prometheus.js'

const TOKEN = 'e2e-gateway-token'
// What Prometheus itself sends to the gateway: it must never reach the target.
const CALLER_TOKEN = 'e2e-prometheus-side-token'
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8'
const TEXT = 'text/plain; version=0.0.4; charset=utf-8'

/** Header names the gateway sets on a scrape (plus what HTTP/1.1 itself needs). */
const GATEWAY_HEADERS = new Set(['host', 'connection', 'accept', 'accept-encoding', 'user-agent', 'authorization',
  'x-prometheus-scrape-timeout-seconds'])

/**
 * The target: the token or 401; OpenMetrics when the Accept asks for it, else
 * text 0.0.4; gzip when the request accepts it.
 */
const targetHandler: Handler = (req, res) => {
  if (req.headers.authorization !== `Bearer ${TOKEN}`) {
    res.statusCode = 401
    res.end('unauthorized\n')
    return
  }
  const openmetrics = (req.headers.accept ?? '').includes('application/openmetrics-text')
  const lines = [
    '# HELP e2e_target_info A metric only this target exposes.',
    '# TYPE e2e_target_info gauge',
    'e2e_target_info{flavour="https"} 1',
    ...(openmetrics ? ['# EOF'] : []),
  ]
  const body = Buffer.from(lines.join('\n') + '\n')
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')
  const payload = gzip ? zlib.gzipSync(body) : body
  res.statusCode = 200
  res.setHeader('Content-Type', openmetrics ? OPENMETRICS : TEXT)
  if (gzip) res.setHeader('Content-Encoding', 'gzip')
  res.setHeader('Content-Length', payload.length)
  res.end(payload)
}

describe('a real Prometheus scraping through the gateway (blackbox-style)', { timeout: 30_000 }, () => {
  let ca: Ca
  let files: string
  let target: Target
  let stranger: Target
  let gw: Gateway
  let prom: Prometheus

  before(async () => {
    if (PROMETHEUS_SKIP !== undefined) return
    ca = createCa('prometheus-e2e CA')
    const cert = ca.issue({ cn: 'e2e target' })
    files = tmpDir('sg-prometheus-e2e-')
    const tokenFile = path.join(files, 'token')
    fs.writeFileSync(tokenFile, `${TOKEN}\n`)
    target = await startHttpsTarget(cert, targetHandler)
    // Would serve happily, but the gateway's job does not list it.
    stranger = await startHttpsTarget(cert, targetHandler)
    gw = await startGateway(`
scrape_configs:
  - job_name: secure
    scheme: https
    bearer_token_file: ${tokenFile}
    tls_config:
      ca_file: ${ca.certFile}
    static_configs: [{ targets: ['${target.host}'] }]
`)
    const gateway = new URL(gw.url).host
    // The README's job, plus an Authorization of Prometheus's own (a gateway
    // behind an authenticating proxy would need one): the gateway must drop it.
    prom = await startPrometheus(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1m
scrape_configs:
  - job_name: via-gateway
    metrics_path: /probe
    params:
      job: [secure]
    authorization:
      credentials: ${CALLER_TOKEN}
    static_configs:
      - targets: ['${target.host}', '${stranger.host}']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: ${gateway}
`)
  })

  after(async () => {
    // Prometheus first, so nothing scrapes a closing gateway.
    await prom?.close()
    await gw?.close()
    await target?.close()
    await stranger?.close()
    if (files !== undefined) fs.rmSync(files, { recursive: true, force: true })
    if (ca !== undefined) fs.rmSync(path.dirname(ca.certFile), { recursive: true, force: true })
  })

  it('stores the target\'s samples under the real instance, with up 1', async (t) => {
    if (PROMETHEUS_SKIP !== undefined) { t.skip(PROMETHEUS_SKIP); return }
    t.diagnostic(prom.version)
    const instance = `{job="via-gateway",instance="${target.host}"}`
    // Prometheus's discovery manager hands targets to the scrape manager on a
    // 5 s tick, so the first scrape comes about 5 s after start.
    await prom.waitFor(`up${instance}`, (s) => s.length === 1 && s[0]?.value === 1)
    const info = await prom.waitFor(`e2e_target_info${instance}`, (s) => s.length === 1)
    assert.equal(info[0]?.value, 1)
    assert.equal(info[0]?.metric.flavour, 'https')
    // The gateway's address is gone: the relabelled instance is the real target.
    assert.deepEqual(await prom.query(`up{instance="${new URL(gw.url).host}"}`), [])
  })

  it('gives up 0 for a target the gateway job does not list, without contacting it', async (t) => {
    if (PROMETHEUS_SKIP !== undefined) { t.skip(PROMETHEUS_SKIP); return }
    const up = await prom.waitFor(`up{job="via-gateway",instance="${stranger.host}"}`, (s) => s.length === 1)
    assert.equal(up[0]?.value, 0)
    assert.deepEqual(await prom.query(`e2e_target_info{instance="${stranger.host}"}`), [])
    assert.equal(stranger.requests.length, 0, 'the gateway refused before connecting')
    // Refused by the gateway (403 SG_TARGET_FORBIDDEN), not failed on the way.
    const targets = await prom.activeTargets()
    const entry = targets.find((x) => x.labels.instance === stranger.host)
    assert.ok(entry !== undefined, JSON.stringify(targets))
    assert.equal(entry.health, 'down')
    assert.match(entry.lastError, /403/)
  })

  it('reaches the target with the gateway\'s headers and Prometheus\'s Accept', async (t) => {
    if (PROMETHEUS_SKIP !== undefined) { t.skip(PROMETHEUS_SKIP); return }
    assert.ok(target.requests.length >= 1)
    for (const r of target.requests) {
      assert.equal(r.method, 'GET')
      assert.equal(r.url, '/metrics')
      assert.equal(r.headers.authorization, `Bearer ${TOKEN}`, 'the gateway\'s token, never Prometheus\'s')
      // Prometheus sends 1 (its scrape_timeout); the gateway keeps 0.5 s for itself.
      assert.equal(r.headers['x-prometheus-scrape-timeout-seconds'], '0.5')
      // Prometheus's own Accept, relayed so the target negotiates with the real scraper.
      assert.match(r.headers.accept ?? '', /application\/openmetrics-text/)
      assert.match(r.headers.accept ?? '', /text\/plain;version=0\.0\.4/)
      assert.equal(r.headers['accept-encoding'], 'gzip')
      assert.match(r.headers['user-agent'] ?? '', /^scrape-gateway\//)
      const extra = Object.keys(r.headers).filter((name) => !GATEWAY_HEADERS.has(name))
      assert.deepEqual(extra, [], 'no header of Prometheus\'s reaches the target')
      assert.ok(!r.rawHeaders.some((v) => v.includes(CALLER_TOKEN)), 'Prometheus\'s token never reaches the target')
    }
  })
})

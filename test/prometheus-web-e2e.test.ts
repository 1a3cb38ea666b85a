// End to end with a real Prometheus (Debian's) scraping the gateway's /probe
// behind a web config: Prometheus's own `scheme: https`, `basic_auth` and
// `tls_config.ca_file` against the gateway's `tls_server_config` and
// `basic_auth_users`, the same file format Prometheus itself reads with
// --web.config.file. Assertions are on what Prometheus stored and reported.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import bcrypt from 'bcryptjs'
import { createCa, type Ca } from './helpers/pki.js'
import { metricsHandler, startHttpTarget, type Target } from './helpers/targets.js'
import { PROMETHEUS_SKIP, startPrometheus, type Prometheus } from './helpers/prometheus.js'
import { startWebGateway, type WebGateway } from './helpers/web.js'

const PASSWORD = 'prometheus-scrapes-the-gateway'

describe('a real Prometheus scraping the gateway over TLS with basic auth', { timeout: 40_000 }, () => {
  let ca: Ca
  let target: Target
  let gw: WebGateway
  let prom: Prometheus

  before(async () => {
    if (PROMETHEUS_SKIP !== undefined) return
    ca = createCa('prometheus-web-e2e CA')
    const server = ca.issue({ cn: 'scrape-gateway' })
    target = await startHttpTarget(metricsHandler('e2e_web_target_info{via="tls-basic-auth"} 1\n'))
    gw = await startWebGateway(
      `scrape_configs:\n  - job_name: plain\n    static_configs: [{ targets: ['${target.host}'] }]\n`,
      `tls_server_config:
  cert_file: ${server.certFile}
  key_file: ${server.keyFile}
basic_auth_users:
  prometheus: ${bcrypt.hashSync(PASSWORD, 10)}
`)
    const gateway = new URL(gw.url).host
    const job = (name: string, password: string): string => `
  - job_name: ${name}
    scheme: https
    metrics_path: /probe
    params:
      job: [plain]
    basic_auth:
      username: prometheus
      password: ${password}
    tls_config:
      ca_file: ${ca.certFile}
    static_configs:
      - targets: ['${target.host}']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: ${gateway}
`
    prom = await startPrometheus(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1m
scrape_configs:${job('via-gateway', PASSWORD)}${job('wrong-password', 'not-the-password')}`)
  })

  after(async () => {
    // Prometheus first, so nothing scrapes a closing gateway.
    await prom?.close()
    await gw?.close()
    await target?.close()
    if (ca !== undefined) fs.rmSync(path.dirname(ca.certFile), { recursive: true, force: true })
  })

  it('scrapes /probe with up 1 and stores the target\'s samples', async (t) => {
    if (PROMETHEUS_SKIP !== undefined) { t.skip(PROMETHEUS_SKIP); return }
    t.diagnostic(prom.version)
    const instance = `{job="via-gateway",instance="${target.host}"}`
    await prom.waitFor(`up${instance}`, (s) => s.length === 1 && s[0]?.value === 1)
    const info = await prom.waitFor(`e2e_web_target_info${instance}`, (s) => s.length === 1)
    assert.equal(info[0]?.metric.via, 'tls-basic-auth')
  })

  it('a wrong password is up 0 with the gateway\'s 401', async (t) => {
    if (PROMETHEUS_SKIP !== undefined) { t.skip(PROMETHEUS_SKIP); return }
    const up = await prom.waitFor('up{job="wrong-password"}', (s) => s.length === 1)
    assert.equal(up[0]?.value, 0)
    const entry = (await prom.activeTargets()).find((x) => x.labels.job === 'wrong-password')
    assert.ok(entry !== undefined)
    assert.equal(entry.health, 'down')
    assert.match(entry.lastError, /401 Unauthorized/)
  })
})

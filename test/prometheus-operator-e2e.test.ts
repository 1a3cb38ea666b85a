// End to end with real Prometheus servers (Debian's), scraping through the
// gateway the two ways issue 15 adds, against one https target with a token:
// - a job in exactly the shape the Prometheus Operator generates for a
//   `Probe` (metrics_path /probe, params module, the relabelling to
//   __param_target and instance, __address__ the prober), beside a direct
//   scrape of the same target by the same Prometheus;
// - a second Prometheus whose only config for the gateway is one
//   http_sd_configs entry pointing at /sd.
// Both must store the same samples as the direct scrape, with up 1.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createCa, tmpDir, type Ca } from './helpers/pki.js'
import { exposition, metricsHandler, startHttpsTarget, type Handler, type Target } from './helpers/targets.js'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { PROMETHEUS_SKIP, startPrometheus, type Prometheus, type Sample } from './helpers/prometheus.js'

const TOKEN = 'operator-e2e-token'
const BODY = exposition(300)

describe('real Prometheus servers scraping through the gateway as the Operator and /sd make them', { timeout: 60_000 }, () => {
  let ca: Ca
  let files: string
  let target: Target
  let gw: Gateway
  let operator: Prometheus
  let sd: Prometheus

  before(async () => {
    if (PROMETHEUS_SKIP !== undefined) return
    ca = createCa('operator-e2e CA')
    files = tmpDir('sg-operator-e2e-')
    const tokenFile = path.join(files, 'token')
    fs.writeFileSync(tokenFile, `${TOKEN}\n`)
    const serve = metricsHandler(BODY, { gzip: true })
    const handler: Handler = (req, res) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.statusCode = 401
        res.end('unauthorized\n')
        return
      }
      serve(req, res)
    }
    target = await startHttpsTarget(ca.issue({ cn: 'operator e2e target' }), handler)
    gw = await startGateway(`
scrape_configs:
  - job_name: secure
    scheme: https
    bearer_token_file: ${tokenFile}
    tls_config:
      ca_file: ${ca.certFile}
    static_configs:
      - targets: ['${target.host}']
        labels:
          team: infra
`)
    const gateway = new URL(gw.url).host
    // The job prometheus-operator writes for a Probe in namespace monitoring
    // named secure-probe (spec.prober.url = the gateway, spec.module = secure,
    // spec.targets.staticConfig.static = [the target]), and a direct scrape
    // of the same target holding the token itself.
    operator = await startPrometheus(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: probe/monitoring/secure-probe
    honor_timestamps: true
    metrics_path: /probe
    scheme: http
    params:
      module: [secure]
    static_configs:
      - targets: ['${target.host}']
        labels:
          namespace: monitoring
    relabel_configs:
      - source_labels: [job]
        target_label: __tmp_prometheus_job_name
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: ${gateway}
  - job_name: direct
    scheme: https
    authorization:
      credentials_file: ${tokenFile}
    tls_config:
      ca_file: ${ca.certFile}
    static_configs:
      - targets: ['${target.host}']
`)
    sd = await startPrometheus(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: gateway
    http_sd_configs:
      - url: ${gw.url}/sd
        refresh_interval: 1s
`)
  })

  after(async () => {
    await operator?.close()
    await sd?.close()
    await gw?.close()
    await target?.close()
    if (files !== undefined) fs.rmSync(files, { recursive: true, force: true })
    if (ca !== undefined) fs.rmSync(path.dirname(ca.certFile), { recursive: true, force: true })
  })

  /**
   * Samples by series, the target labels a job adds left out: `job`, and a
   * static label (`namespace` from the Probe, `team` from /sd). A target label
   * that clashes with an exposed one renames the exposed one `exported_…`
   * (honor_labels: false), which is put back.
   */
  const series = (samples: Sample[], added: string[]): Map<string, number> => new Map(samples.map((s) => {
    const labels: Record<string, string> = {}
    for (const [k, v] of Object.entries(s.metric)) {
      if (k === 'job' || added.includes(k)) continue
      labels[k.startsWith('exported_') && added.includes(k.slice('exported_'.length)) ? k.slice('exported_'.length) : k] = v
    }
    return [JSON.stringify(Object.entries(labels).sort()), s.value]
  }))
  const EXPOSED = '__name__=~"container_.*|kube_.*|http_request_.*"'

  it('a Probe-shaped job (module=) gets up 1 and the same samples as the direct scrape', async (t) => {
    if (PROMETHEUS_SKIP !== undefined) { t.skip(PROMETHEUS_SKIP); return }
    t.diagnostic(operator.version)
    const instance = target.host
    await operator.waitFor(`up{job="probe/monitoring/secure-probe",instance="${instance}"}`, (s) => s.length === 1 && s[0]?.value === 1)
    await operator.waitFor(`up{job="direct",instance="${instance}"}`, (s) => s.length === 1 && s[0]?.value === 1)
    const scraped = await operator.waitFor(`scrape_samples_scraped{instance="${instance}"}`, (s) => s.length === 2 && s[0]?.value === s[1]?.value)
    assert.ok((scraped[0]?.value ?? 0) >= 300, JSON.stringify(scraped))
    const through = await operator.query(`{job="probe/monitoring/secure-probe",instance="${instance}",${EXPOSED}}`)
    const direct = await operator.query(`{job="direct",instance="${instance}",${EXPOSED}}`)
    assert.ok(direct.length >= 290, `${direct.length} series`)
    assert.deepEqual(series(through, ['namespace']), series(direct, []))
    assert.ok(through.every((s) => s.metric.namespace === 'monitoring'), 'the Probe\'s static label is kept')
  })

  it('a Prometheus configured with only http_sd_configs → /sd scrapes every target through the gateway, labelled as the gateway job', async (t) => {
    if (PROMETHEUS_SKIP !== undefined) { t.skip(PROMETHEUS_SKIP); return }
    const instance = target.host
    // /sd sets job to the gateway job's name and keeps the target group's labels.
    const up = await sd.waitFor(`up{job="secure",instance="${instance}"}`, (s) => s.length === 1 && s[0]?.value === 1)
    assert.equal(up[0]?.metric.team, 'infra')
    const scraped = await sd.waitFor(`scrape_samples_scraped{job="secure",instance="${instance}"}`, (s) => s.length === 1)
    const direct = await operator.waitFor(`scrape_samples_scraped{job="direct",instance="${instance}"}`, (s) => s.length === 1)
    assert.equal(scraped[0]?.value, direct[0]?.value)
    const through = await sd.query(`{job="secure",instance="${instance}",${EXPOSED}}`)
    const directSeries = await operator.query(`{job="direct",instance="${instance}",${EXPOSED}}`)
    assert.deepEqual(series(through, ['team']), series(directSeries, []))
    // The scrape went through the gateway's /probe, not to the target.
    const targets = await sd.activeTargets()
    assert.equal(targets.length, 1, JSON.stringify(targets))
  })
})

// End to end with a real Prometheus scraping the gateway blackbox-style, for
// targets whose bodies come chunked (no Content-Length): on Node 22 the
// gateway once relayed such bodies cut short as complete 200s, which
// prometheus-e2e.test.ts could not see, its target answering with a length.
// One target is a real node_exporter (https, basic auth with a bcrypt hash, a
// private CA), whose Go server frames every gzip scrape chunked; the other is
// a node:http target streaming a 20,000-series gzip body in many writes.
// Prometheus also scrapes both directly, so what arrived through the gateway
// is compared with what arrived without it, sample for sample.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { createCa, tmpDir } from './helpers/pki.js'
import type { Ca } from './helpers/pki.js'
import { startHttpTarget } from './helpers/targets.js'
import type { Handler, Target } from './helpers/targets.js'
import { startGateway } from './helpers/gateway.js'
import type { Gateway } from './helpers/gateway.js'
import { get } from './helpers/client.js'
import { PROMETHEUS_BIN, startPrometheus } from './helpers/prometheus.js'
import type { Prometheus } from './helpers/prometheus.js'
import { NODE_EXPORTER_BIN, basicAuth, startNodeExporter } from './helpers/node-exporter.js'
import type { NodeExporter } from './helpers/node-exporter.js'

const SKIP = 'no prometheus or prometheus-node-exporter binary (apt-get install prometheus prometheus-node-exporter; CI installs them)'
// Skipped on a developer machine without the binaries, never in CI (CI=true), where a missing binary must fail.
const MISSING = (PROMETHEUS_BIN === undefined || NODE_EXPORTER_BIN === undefined) && process.env.CI !== 'true'
const USER = 'e2e-scraper'
const PASSWORD = 'e2e-node-exporter-password'
const TEXT = 'text/plain; version=0.0.4; charset=utf-8'

const SERIES = 20_000
// About 1 MB: far past any buffer on the way, so the body crosses the gateway
// in many reads and many writes.
const CHUNKED_BODY = Buffer.from([
  '# HELP e2e_chunked_metric A series of the chunked target.',
  '# TYPE e2e_chunked_metric gauge',
  ...Array.from({ length: SERIES }, (_, i) => `e2e_chunked_metric{i="${i}",shard="${i % 16}"} ${i}`),
  '',
].join('\n'))
const CHUNKED_GZIP = zlib.gzipSync(CHUNKED_BODY)
const SLICE = 8 * 1024
// 2 s, not the 1 s of prometheus-e2e: it leaves the gateway 1.5 s for a 1 MB
// body even on a loaded machine.
const SCRAPE_INTERVAL_MS = 2000

/**
 * Gzip when the request accepts it, else identity; either way without a
 * Content-Length, so node frames it chunked, and one slice per event-loop turn
 * so the chunks leave as separate writes. The last slice goes with end(), so
 * the last bytes and the terminating chunk leave in one write, as Go's server
 * sends them: the gateway then reads the body's end together with its tail,
 * the turn in which the Node 22 relay lost that tail.
 */
const chunkedHandler: Handler = (req, res) => {
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')
  const payload = gzip ? CHUNKED_GZIP : CHUNKED_BODY
  res.statusCode = 200
  res.setHeader('Content-Type', TEXT)
  if (gzip) res.setHeader('Content-Encoding', 'gzip')
  let offset = 0
  const next = (): void => {
    if (res.destroyed) return
    const slice = payload.subarray(offset, offset + SLICE)
    offset += slice.length
    if (offset >= payload.length) res.end(slice)
    else if (res.write(slice)) setImmediate(next)
    else res.once('drain', next)
  }
  next()
}

describe('a real Prometheus scraping chunked bodies through the gateway', { timeout: 30_000 }, () => {
  let ca: Ca
  let files: string
  let exporter: NodeExporter
  let chunked: Target
  let gw: Gateway
  let prom: Prometheus

  /**
   * Waits for `job`'s scrape of `instance` to be healthy. A relay that cuts
   * bodies short never gets there; the error then carries Prometheus's own
   * reason (e.g. "unexpected EOF"), which says more than a missing sample.
   * The first scrape comes about 5 s after Prometheus starts (its discovery
   * manager hands targets over on a 5 s tick); once scraped, a target gets
   * three more scrapes to recover from a passing failure, so a broken relay
   * fails one test early enough to leave the others time to report too.
   */
  const healthy = async (job: string, instance: string): Promise<void> => {
    let until = Date.now() + 15_000
    let scraped = false
    let seen = 'never scraped'
    for (;;) {
      const targets = await prom.activeTargets()
      const entry = targets.find((x) => x.labels.job === job && x.labels.instance === instance)
      if (entry?.health === 'up') return
      if (entry !== undefined && entry.health !== 'unknown') {
        seen = `health ${entry.health}, last error ${JSON.stringify(entry.lastError)}`
        if (!scraped) until = Math.min(until, Date.now() + 3 * SCRAPE_INTERVAL_MS)
        scraped = true
      }
      if (Date.now() > until) assert.fail(`${job} scraping ${instance} is not up: ${seen}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  /** Both jobs' scrape_samples_scraped for `instance`, once both exist and agree. */
  const samplesAgree = async (instance: string, jobs: [string, string]): Promise<number> => {
    const expr = `scrape_samples_scraped{instance="${instance}",job=~"${jobs.join('|')}"}`
    // Polled rather than read once: the two scrapes run at different moments,
    // so a first read may hold only one job, or (for node_exporter) a series
    // that came or went in between. Equality itself stays exact.
    const samples = await prom.waitFor(expr, (s) => s.length === 2 && s[0]?.value === s[1]?.value)
    return samples[0]?.value ?? 0
  }

  before(async () => {
    if (MISSING) return
    ca = createCa('prometheus-chunked-e2e CA')
    files = tmpDir('sg-prometheus-chunked-e2e-')
    const passwordFile = path.join(files, 'password')
    fs.writeFileSync(passwordFile, PASSWORD)
    // pki.ts gives server certs the SANs IP:127.0.0.1 and DNS:localhost; the first is what is scraped.
    exporter = await startNodeExporter({ cert: ca.issue({ cn: 'e2e node_exporter' }), ca: ca.cert, username: USER, password: PASSWORD })
    chunked = await startHttpTarget(chunkedHandler)
    gw = await startGateway(`
scrape_configs:
  - job_name: node
    scheme: https
    basic_auth:
      username: ${USER}
      password_file: ${passwordFile}
    tls_config:
      ca_file: ${ca.certFile}
    static_configs: [{ targets: ['${exporter.host}'] }]
  - job_name: chunked
    static_configs: [{ targets: ['${chunked.host}'] }]
`)
    const gateway = new URL(gw.url).host
    // The README's blackbox-style job for both targets, except that the
    // gateway job differs per target: a __param_job label becomes the job URL
    // parameter (not `params`, which Prometheus 2.42 lets win over a label).
    prom = await startPrometheus(`
global:
  scrape_interval: ${SCRAPE_INTERVAL_MS / 1000}s
  scrape_timeout: ${SCRAPE_INTERVAL_MS / 1000}s
  evaluation_interval: 1m
scrape_configs:
  - job_name: via-gateway
    metrics_path: /probe
    static_configs:
      - targets: ['${exporter.host}']
        labels:
          __param_job: node
      - targets: ['${chunked.host}']
        labels:
          __param_job: chunked
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: ${gateway}
  - job_name: direct
    scheme: https
    basic_auth:
      username: ${USER}
      password_file: ${passwordFile}
    tls_config:
      ca_file: ${ca.certFile}
    static_configs:
      - targets: ['${exporter.host}']
  - job_name: direct-chunked
    static_configs:
      - targets: ['${chunked.host}']
`)
  })

  after(async () => {
    // Prometheus first, so nothing scrapes a closing gateway or target.
    await prom?.close()
    await gw?.close()
    await exporter?.close()
    await chunked?.close()
    if (gw !== undefined) fs.rmSync(gw.dir, { recursive: true, force: true })
    if (files !== undefined) fs.rmSync(files, { recursive: true, force: true })
    if (ca !== undefined) fs.rmSync(path.dirname(ca.certFile), { recursive: true, force: true })
  })

  it('has a node_exporter that answers gzip chunked, with a body well over 16 KiB, and only with the password', async (t) => {
    if (MISSING) { t.skip(SKIP); return }
    t.diagnostic(`${prom.version}; ${exporter.version}`)
    const res = await exporter.get({ authorization: basicAuth(USER, PASSWORD), 'accept-encoding': 'gzip' })
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-encoding'], 'gzip')
    // The framing this file is about: without it the test would prove nothing new.
    assert.equal(res.headers['transfer-encoding'], 'chunked')
    assert.equal(res.headers['content-length'], undefined)
    const text = zlib.gunzipSync(res.body)
    assert.ok(text.length > 64 * 1024, `uncompressed body ${text.length} bytes`)
    t.diagnostic(`node_exporter body: ${res.body.length} bytes gzip, ${text.length} uncompressed`)
    assert.equal((await exporter.get()).status, 401, 'basic auth is on')
  })

  it('stores node_exporter\'s series through the gateway, up 1, as many samples as a direct scrape', async (t) => {
    if (MISSING) { t.skip(SKIP); return }
    const host = exporter.host
    await healthy('via-gateway', host)
    await healthy('direct', host)
    // Polled: the targets API may call a scrape healthy before its samples are queryable.
    await prom.waitFor(`up{job="via-gateway",instance="${host}"}`, (s) => s.length === 1 && s[0]?.value === 1)
    const info = await prom.waitFor(`node_exporter_build_info{job="via-gateway",instance="${host}"}`, (s) => s.length === 1)
    assert.equal(info[0]?.value, 1)
    const cpus = await prom.waitFor(`count(node_cpu_seconds_total{job="via-gateway",instance="${host}"})`, (s) => s.length === 1)
    assert.ok((cpus[0]?.value ?? 0) > 0, JSON.stringify(cpus))
    await prom.waitFor(`count(node_cpu_seconds_total{job="direct",instance="${host}"})`,
      (s) => s.length === 1 && s[0]?.value === cpus[0]?.value)
    const samples = await samplesAgree(host, ['via-gateway', 'direct'])
    assert.ok(samples > 100, `scrape_samples_scraped ${samples}`)
    t.diagnostic(`node_exporter: ${samples} samples per scrape, through the gateway and directly`)
  })

  it('stores all 20,000 series of a chunked gzip target through the gateway, up 1', async (t) => {
    if (MISSING) { t.skip(SKIP); return }
    const host = chunked.host
    await healthy('via-gateway', host)
    await healthy('direct-chunked', host)
    await prom.waitFor(`up{job="via-gateway",instance="${host}"}`, (s) => s.length === 1 && s[0]?.value === 1)
    const count = await prom.waitFor(`count(e2e_chunked_metric{job="via-gateway",instance="${host}"})`, (s) => s.length === 1)
    assert.equal(count[0]?.value, SERIES)
    assert.equal(await samplesAgree(host, ['via-gateway', 'direct-chunked']), SERIES)
    // The gateway asked for gzip, so what it relayed was the gzip body, chunked.
    const viaGateway = chunked.requests.filter((r) => (r.headers['user-agent'] ?? '').startsWith('scrape-gateway/'))
    assert.ok(viaGateway.length >= 1)
    for (const r of viaGateway) assert.equal(r.headers['accept-encoding'], 'gzip')
  })

  it('relays both chunked bodies whole, chunked, to a caller of its own', async (t) => {
    if (MISSING) { t.skip(SKIP); return }
    // What Prometheus could only report as a failed scrape, seen byte for byte.
    const seen = await get(`${gw.url}/probe?job=chunked&target=${encodeURIComponent(chunked.host)}`, { 'accept-encoding': 'gzip' })
    assert.equal(seen.status, 200, seen.error ?? seen.body.toString())
    assert.equal(seen.headers['transfer-encoding'], 'chunked')
    assert.equal(seen.headers['content-encoding'], 'gzip')
    assert.ok(seen.complete, `the reply was cut after ${seen.body.length} of ${CHUNKED_GZIP.length} bytes`)
    // Gzip to a caller that takes it is relayed byte for byte: a reply that
    // ended cleanly but short shows here as a length, not a zlib error.
    assert.equal(seen.body.length, CHUNKED_GZIP.length)
    assert.ok(zlib.gunzipSync(seen.body).equals(CHUNKED_BODY))

    const node = await get(`${gw.url}/probe?job=node&target=${encodeURIComponent(exporter.host)}`, { 'accept-encoding': 'gzip' })
    assert.equal(node.status, 200, node.error ?? node.body.toString())
    assert.equal(node.headers['transfer-encoding'], 'chunked')
    assert.ok(node.complete, `the reply was cut after ${node.body.length} bytes`)
    assert.match(zlib.gunzipSync(node.body).toString(), /^node_exporter_build_info\{/m)
  })
})

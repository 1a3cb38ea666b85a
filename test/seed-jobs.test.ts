// The seed's two jobs, from their fixtures in config/examples/, each driven
// against a real local target: only the target address (alertmanager) or the
// token path and allowed targets (kube-state-metrics) are replaced.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildServer } from '../src/server.js'
import { startGateway } from './helpers/gateway.js'
import { createCa } from './helpers/pki.js'
import { exposition, metricsHandler, startHttpTarget, startHttpsTarget } from './helpers/targets.js'

const EXAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'config', 'examples')
const ALERTMANAGER = path.join(EXAMPLES, 'alertmanager.yml')
const KSM = path.join(EXAMPLES, 'kube-state-metrics.yml')
const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'
const KSM_ALLOWED = "allowed_targets: ['kube-state-metrics.kube-system.svc:8443', '10.244.0.0/16:8443']"

/** Replaces `from` in the fixture text, failing if it is not there exactly once. */
function fixture (file: string, from: string, to: string): string {
  const text = readFileSync(file, 'utf8')
  assert.equal(text.split(from).length, 2, `${file} should contain ${from} once`)
  return text.replace(from, to)
}

test('both fixtures load unchanged', async () => {
  for (const file of [ALERTMANAGER, KSM]) {
    const app = await buildServer({ configFile: file, logLevel: false })
    try {
      assert.equal(app.gateway.config.jobs.length, 1)
    } finally {
      await app.close()
    }
  }
})

test('alertmanager: plain http, /metrics, 10s timeout', async (t) => {
  const body = exposition(40)
  const target = await startHttpTarget(metricsHandler(body))
  const gw = await startGateway(fixture(ALERTMANAGER, "targets: ['alertmanager:9093']", `targets: ['${target.host}']`))
  t.after(async () => { await gw.close(); await target.close() })

  const job = gw.app.gateway.config.jobs[0]
  assert.equal(job?.name, 'alertmanager')
  assert.equal(job.scrapeInterval, 30_000)
  assert.equal(job.scrapeTimeout, 10_000)
  assert.deepEqual(job.targets, [target.host])
  assert.deepEqual(gw.app.gateway.config.ignored, ['scrape_configs[0].honor_timestamps'])

  const res = await gw.probe('alertmanager', target.host)
  assert.equal(res.status, 200)
  assert.equal(await res.text(), body)
  assert.equal(target.requests.length, 1)
  const req = target.requests[0]
  assert.equal(req?.method, 'GET')
  assert.equal(req.url, '/metrics')
  assert.equal(req.headers['x-prometheus-scrape-timeout-seconds'], '10')
  assert.equal(req.headers.authorization, undefined)

  // static_configs lists the only target the job may be probed at.
  const other = await gw.probe('alertmanager', '127.0.0.1:1')
  assert.equal(other.status, 403)
  await other.arrayBuffer()
  assert.equal(target.requests.length, 1)
})

test('kube-state-metrics: https, unverified cert, service-account token re-read per probe', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-ksm-'))
  const tokenFile = path.join(dir, 'token')
  // Service-account tokens have no trailing newline; one here checks that it is trimmed.
  writeFileSync(tokenFile, 'eyJhbGciOiJSUzI1NiJ9.first\n')

  // A certificate from a CA the gateway does not know: only insecure_skip_verify lets it through.
  const ca = createCa('ksm test CA')
  const cert = ca.issue({ cn: 'kube-state-metrics' })
  const body = exposition(60)
  let wanted = 'Bearer eyJhbGciOiJSUzI1NiJ9.first'
  const target = await startHttpsTarget({ cert: cert.cert, key: cert.key }, (req, res) => {
    if (req.headers.authorization !== wanted) {
      res.statusCode = 401
      res.end('Unauthorized\n')
      return
    }
    metricsHandler(body)(req, res)
  })
  const yaml = fixture(KSM, `bearer_token_file: ${SA_TOKEN}`, `bearer_token_file: ${tokenFile}`)
    .replace(KSM_ALLOWED, `allowed_targets: ['${target.host}']`)
  assert.ok(yaml.includes(target.host), `${KSM} should contain ${KSM_ALLOWED}`)
  const gw = await startGateway(yaml)
  t.after(async () => { await gw.close(); await target.close() })

  const job = gw.app.gateway.config.jobs[0]
  assert.equal(job?.name, 'kube-state-metrics')
  assert.equal(job.scheme, 'https')
  assert.equal(job.scrapeInterval, 60_000)
  assert.equal(job.scrapeTimeout, 30_000)
  assert.deepEqual(job.targets, [])
  assert.deepEqual(job.allowedTargets.map((r) => r.text), [target.host])
  assert.deepEqual(gw.app.gateway.config.ignored, ['scrape_configs[0].honor_labels'])

  const first = await gw.probe('kube-state-metrics', target.host)
  assert.equal(first.status, 200, await first.clone().text())
  assert.equal(await first.text(), body)
  assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer eyJhbGciOiJSUzI1NiJ9.first')
  assert.equal(target.requests.at(-1)?.url, '/metrics')
  assert.equal(target.requests.at(-1)?.headers['x-prometheus-scrape-timeout-seconds'], '30')

  // The kubelet rotates the token: the next probe reads the new one, no reload.
  writeFileSync(tokenFile, 'eyJhbGciOiJSUzI1NiJ9.second')
  wanted = 'Bearer eyJhbGciOiJSUzI1NiJ9.second'
  const second = await gw.probe('kube-state-metrics', target.host)
  assert.equal(second.status, 200, await second.clone().text())
  assert.equal(await second.text(), body)
  assert.equal(target.requests.length, 2)
  assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer eyJhbGciOiJSUzI1NiJ9.second')

  // allowed_targets lists where the token may go: anywhere else is refused before any connection.
  const other = await gw.probe('kube-state-metrics', '127.0.0.1:1')
  assert.equal(other.status, 403)
  await other.arrayBuffer()
  assert.equal(target.requests.length, 2)
})

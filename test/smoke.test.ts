import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startGateway } from './helpers/gateway.js'
import { metricsHandler, startHttpTarget } from './helpers/targets.js'

test('an http target is relayed byte for byte with its Content-Type', async (t) => {
  const body = '# TYPE up gauge\nup 1\n'
  const target = await startHttpTarget(metricsHandler(body, { contentType: 'text/plain; version=0.0.4' }))
  const gw = await startGateway(`
scrape_configs:
  - job_name: plain
    static_configs: [{ targets: ['${target.host}'] }]
`)
  t.after(async () => { await gw.close(); await target.close() })
  const res = await gw.probe('plain', target.host)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4')
  assert.equal(await res.text(), body)
  assert.equal(target.requests.length, 1)
  assert.equal(target.requests[0]?.url, '/metrics')
})

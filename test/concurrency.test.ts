// Probes in flight are bounded: past --probe.max-concurrency the gateway
// answers 503 at once instead of opening more upstream connections.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startGateway } from './helpers/gateway.js'
import { get } from './helpers/client.js'
import { startHttpTarget } from './helpers/targets.js'

test('a probe past --probe.max-concurrency is 503 SG_TOO_MANY_PROBES with Retry-After, and the target never sees it', async (t) => {
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  const target = await startHttpTarget((_req, res) => {
    void held.then(() => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('up 1\n') })
  })
  const gw = await startGateway(`
scrape_configs:
  - job_name: slow
    static_configs: [{ targets: ['${target.host}'] }]
`, { maxConcurrentProbes: 1 })
  t.after(async () => { release(); await target.close(); await gw.close() })
  const url = `${gw.url}/probe?job=slow&target=${encodeURIComponent(target.host)}`

  const first = get(url)
  while (target.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
  const second = await get(url)
  assert.equal(second.status, 503)
  assert.equal(second.headers['retry-after'], '1')
  assert.match(second.body.toString(), /^SG_TOO_MANY_PROBES: 1 probes are already in flight \(--probe\.max-concurrency\), retry later /)
  assert.equal(target.requests.length, 1, 'the refused probe opened nothing upstream')

  release()
  assert.equal((await first).status, 200)
  const third = await get(url)
  assert.equal(third.status, 200, 'the slot is free again once the first probe ended')
  assert.equal(third.body.toString(), 'up 1\n')
})

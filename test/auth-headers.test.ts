// http_headers end to end: a real target records every header line as sent
// (rawHeaders), so order, repetition and the absence of pile-up across
// scrapes are visible.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { tmpDir } from './helpers/pki.js'
import { exposition, metricsHandler, startHttpTarget, type RecordedRequest, type Target } from './helpers/targets.js'
import { startGateway } from './helpers/gateway.js'

const BODY = exposition(50)
// What Prometheus sends by default; the gateway relays the caller's Accept.
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,' +
  'application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,' +
  'text/plain;version=0.0.4;q=0.3,*/*;q=0.2'

/** Every value sent for `name`, one per header line, in order. */
function lines (r: RecordedRequest | undefined, name: string): string[] {
  const out: string[] = []
  const raw = r?.rawHeaders ?? []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === name.toLowerCase()) out.push(Buffer.from(raw[i + 1] ?? '', 'latin1').toString('utf8'))
  }
  return out
}

describe('http_headers', () => {
  let files: string
  let target: Target

  before(async () => {
    files = tmpDir('sg-headers-')
    target = await startHttpTarget(metricsHandler(BODY))
  })
  after(async () => {
    await target.close()
    fs.rmSync(files, { recursive: true, force: true })
  })

  it('appends values, then secrets, then files, on every scrape, without pile-up', async (t) => {
    const keyFile = path.join(files, 'api-key')
    fs.writeFileSync(keyFile, '  key-from-file\n')
    const gw = await startGateway(`
scrape_configs:
  - job_name: headers
    static_configs: [{ targets: ['${target.host}'] }]
    http_headers:
      X-Scope-OrgID:
        values: [tenant-a, tenant-b]
        secrets: [s3cret]
        files: [${keyFile}]
      x-lower-case:
        values: ['é ünïcode']
      Accept:
        values: [application/json]
`)
    t.after(() => gw.close())

    for (let i = 0; i < 3; i++) {
      const res = await gw.probe('headers', target.host, { 'X-Scope-OrgID': 'from-the-caller', Accept: PROMETHEUS_ACCEPT })
      assert.equal(res.status, 200, await res.clone().text())
      assert.equal(await res.text(), BODY)
      const seen = target.requests.at(-1)
      // The same lines each time: nothing piles up on a reused request (prometheus/common#981).
      assert.deepEqual(lines(seen, 'x-scope-orgid'), ['tenant-a', 'tenant-b', 's3cret', 'key-from-file'], `scrape ${i}`)
      assert.deepEqual(lines(seen, 'x-lower-case'), ['é ünïcode'])
      // Accept is not reserved: the configured value is a second Accept line.
      assert.deepEqual(lines(seen, 'accept'), [PROMETHEUS_ACCEPT, 'application/json'])
    }
  })

  it('goes with the job\'s Authorization, which it cannot set itself', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: both
    bearer_token: job-token
    static_configs: [{ targets: ['${target.host}'] }]
    http_headers:
      X-Api-Key: { secrets: [k] }
`)
    t.after(() => gw.close())
    const res = await gw.probe('both', target.host, { Authorization: 'Bearer caller' })
    assert.equal(res.status, 200, await res.text())
    const seen = target.requests.at(-1)
    assert.deepEqual(lines(seen, 'authorization'), ['Bearer job-token'])
    assert.deepEqual(lines(seen, 'x-api-key'), ['k'])
  })

  it('re-reads header files on every scrape', async (t) => {
    const file = path.join(files, 'rotating-header')
    fs.writeFileSync(file, 'one\n')
    const gw = await startGateway(`
scrape_configs:
  - job_name: rotating
    static_configs: [{ targets: ['${target.host}'] }]
    http_headers:
      X-Token: { files: [${path.basename(file)}] }
`)
    t.after(() => gw.close())
    // Relative to the config file's directory.
    fs.copyFileSync(file, path.join(gw.dir, path.basename(file)))
    assert.equal((await gw.probe('rotating', target.host)).status, 200)
    assert.deepEqual(lines(target.requests.at(-1), 'x-token'), ['one'])
    fs.writeFileSync(path.join(gw.dir, path.basename(file)), 'two')
    assert.equal((await gw.probe('rotating', target.host)).status, 200)
    assert.deepEqual(lines(target.requests.at(-1), 'x-token'), ['two'])
  })

  it('answers 500 SG_CREDENTIALS when a header file cannot be read or holds two lines, never showing its content', async (t) => {
    const missing = path.join(files, 'missing-header')
    const twoLines = path.join(files, 'two-lines-header')
    fs.writeFileSync(twoLines, 'line-one\nline-two\n')
    const gw = await startGateway(`
scrape_configs:
  - job_name: missing
    static_configs: [{ targets: ['${target.host}'] }]
    http_headers:
      X-Key: { values: [v], files: [${missing}] }
  - job_name: two-lines
    static_configs: [{ targets: ['${target.host}'] }]
    http_headers:
      X-Key: { files: [${twoLines}] }
`)
    t.after(() => gw.close())
    const before = target.requests.length
    const res = await gw.probe('missing', target.host)
    const body = await res.text()
    assert.equal(res.status, 500, body)
    assert.equal(body.split(' [')[0], `SG_CREDENTIALS: http_headers.X-Key.files[0]: unable to read headers file ${missing}: open ${missing}: no such file or directory`)
    const bad = await gw.probe('two-lines', target.host)
    const badBody = await bad.text()
    assert.equal(bad.status, 500, badBody)
    assert.ok(badBody.startsWith(`SG_CREDENTIALS: http_headers.X-Key.files[0] ${twoLines}: net/http: invalid header field value for "X-Key"`), badBody)
    assert.ok(!badBody.includes('line-one'), badBody)
    assert.equal(target.requests.length, before)
  })

  it('shows values and file paths in /config, secrets as <secret>', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: shown
    http_headers:
      X-A: { values: [plain], secrets: [hidden], files: [/etc/key] }
`)
    t.after(() => gw.close())
    const shown = await (await fetch(`${gw.url}/config?format=json`)).json() as { scrape_configs: Array<Record<string, unknown>> }
    assert.deepEqual(shown.scrape_configs[0]?.http_headers, { 'X-A': { values: ['plain'], secrets: ['<secret>'], files: ['/etc/key'] } })
  })
})

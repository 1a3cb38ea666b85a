// The status page at / and the reports behind it (README "Status page"): the
// ring of recent probes and its two bounds, the escaping helper, the routes
// over HTTP, and the page itself in a real browser (Debian's chromium driven
// by playwright-core): a good probe and failing ones, a job name and a
// target's reason phrase that hold <script>, a screenshot left in a temp dir.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import os from 'node:os'
import { Writable } from 'node:stream'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { ProbeRecord } from '../src/client/record.js'
import { Probe } from '../src/scrape/probe.js'
import { RecentProbes, retainedBytes } from '../src/recent-probes.js'
import { escapeHtml, html } from '../src/routes/html.js'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { eventually } from './helpers/eventually.js'
import { createCa } from './helpers/pki.js'
import { exposition, metricsHandler, refusedPort, startHttpsTarget, startHttpTarget, type Target } from './helpers/targets.js'

const CHROMIUM = '/usr/bin/chromium'
const SKIP = `no ${CHROMIUM} (apt-get install chromium; CI installs it)`
// Skipped on a developer machine without chromium, never in CI (CI=true), where a missing browser must fail.
const MISSING = !existsSync(CHROMIUM) && process.env.CI !== 'true'

const SCRIPT_JOB = '<script>alert(1)</script>'
const SCRIPT_REASON = '<script>alert(2)</script>'
const TOKEN = 'status-page-bearer-token-3b1f'

/** A finished record, as a probe leaves it: `extra` fills what the probe would (response headers, code). */
function finished (job: string, target: string, extra: Partial<Pick<ProbeRecord, 'code' | 'reason' | 'httpStatus' | 'responseHeaders'>> = {}): ProbeRecord {
  const record = new ProbeRecord(job, target, target, `http://${target}/metrics`, 10_000, undefined, false)
  Object.assign(record, { code: 'success', httpStatus: 200, ...extra })
  record.endAt = performance.now()
  return record
}

/** The report links of the page, newest first. */
function reportLinks (page: string): string[] {
  return [...page.matchAll(/href="reports\/([^"]+)"/g)].map((m) => m[1] as string)
}

async function text (url: string, init?: RequestInit): Promise<{ status: number, headers: Headers, body: string }> {
  const res = await fetch(url, init)
  return { status: res.status, headers: res.headers, body: await res.text() }
}

describe('the ring of recent probes', () => {
  it('keeps the last `count` finished probes, newest first, and forgets the evicted', () => {
    const ring = new RecentProbes({ count: 3, bytes: 1024 * 1024 })
    const ids = ['a', 'b', 'c', 'd', 'e'].map((job) => ring.add(finished(job, '127.0.0.1:9100'))?.id)
    assert.equal(ring.size, 3)
    assert.deepEqual(ring.list().map((p) => p.summary.job), ['e', 'd', 'c'])
    assert.deepEqual(ring.list().map((p) => p.id), ids.slice(2).reverse())
    for (const id of ids.slice(0, 2)) assert.equal(ring.report(id as string), undefined, 'evicted')
    const report = ring.report(ids[4] as string)
    assert.match(report ?? '', /^scrape-gateway debug report: job "e", target "127\.0\.0\.1:9100"\nOutcome: success/)
  })

  it('keeps a probe only once it is over', () => {
    const ring = new RecentProbes()
    const running = new ProbeRecord('j', '127.0.0.1:1', '127.0.0.1:1', 'http://127.0.0.1:1/metrics', 1000, undefined, false)
    assert.equal(ring.add(running), undefined)
    assert.equal(ring.size, 0)
  })

  it('is bounded by what the records hold: a target\'s large headers evict the oldest sooner', () => {
    const small = finished('j', '127.0.0.1:9100')
    const large = (): ProbeRecord => finished('j', '127.0.0.1:9100', { responseHeaders: { 'x-padding': 'p'.repeat(100_000), 'x-list': ['q'.repeat(50_000), 'r'] } })
    // What the target sent is counted, not guessed away.
    assert.ok(retainedBytes(large()) - retainedBytes(small) >= 150_000, `${retainedBytes(large())} vs ${retainedBytes(small)}`)

    const bound = Math.floor(3.5 * retainedBytes(large()))
    const ring = new RecentProbes({ count: 100, bytes: bound })
    for (let i = 0; i < 10; i++) ring.add(small)
    assert.equal(ring.size, 10)
    const kept = [1, 2, 3, 4, 5].map(() => ring.add(large())?.id)
    assert.equal(ring.size, 3, 'three large records fit, and nothing older')
    assert.ok(ring.bytes <= bound, `${ring.bytes} > ${bound}`)
    assert.deepEqual(ring.list().map((p) => p.id), kept.slice(2).reverse())
    assert.equal(ring.list().reduce((n, p) => n + p.bytes, 0), ring.bytes)
  })

  it('counts the certificates a TLS probe\'s connection presented', async (t) => {
    const ca = createCa('status-page CA')
    const cert = ca.issue({ cn: 'status-page target' })
    const target = await startHttpsTarget(cert, metricsHandler(exposition(10)))
    const gw = await startGateway(`
scrape_configs:
  - job_name: tls
    scheme: https
    tls_config: { ca_file: ${ca.certFile} }
    static_configs: [{ targets: ['${target.host}'] }]
`)
    t.after(async () => { await gw.close(); await target.close() })
    const job = gw.app.gateway.job('tls')
    assert.ok(job !== undefined)
    const probe = new Probe(job, target.host, 5000)
    await probe.start(undefined, false)
    probe.relay(new Writable({ write (_chunk, _encoding, callback) { callback() } }))
    const { record } = await probe.done
    assert.equal(record.code, 'success')
    assert.ok(record.connection?.tls?.peer !== undefined, 'the chain is held by reference')
    const plain = finished('tls', target.host, { responseHeaders: record.responseHeaders })
    const der = new X509Certificate(cert.cert).raw.length
    assert.ok(retainedBytes(record) - retainedBytes(plain) >= 2048 + 3 * der, `${retainedBytes(record)} vs ${retainedBytes(plain)} (leaf ${der} B)`)
  })

  it('does not keep a record larger than the whole bound', () => {
    const ring = new RecentProbes({ count: 100, bytes: 64 * 1024 })
    ring.add(finished('j', '127.0.0.1:9100'))
    assert.equal(ring.add(finished('j', '127.0.0.1:9100', { responseHeaders: { 'x-padding': 'p'.repeat(70_000) } })), undefined)
    assert.equal(ring.size, 1, 'and the ones kept stay')
  })

  it('refuses ids that are not its own', () => {
    const ring = new RecentProbes()
    const id = ring.add(finished('j', '127.0.0.1:9100'))?.id as string
    assert.notEqual(ring.report(id), undefined)
    const other = new RecentProbes()
    other.add(finished('j', '127.0.0.1:9100'))
    assert.equal(other.report(id), undefined, 'another process\'s id (another prefix)')
    for (const bad of ['', '1', `${id}x`, `${id.split('-')[0] ?? ''}-0`, `${id.split('-')[0] ?? ''}-2`, '../etc', `${id.split('-')[0] ?? ''}-99999999999999999999`]) {
      assert.equal(ring.report(bad), undefined, bad)
    }
  })
})

describe('html escaping', () => {
  it('escapes & < > " \' in text and attributes', () => {
    assert.equal(escapeHtml('<a href="x" title=\'y\'>&amp;</a>'), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;')
  })

  it('escapes every value put into a template, once, and keeps fragments and the template\'s own markup', () => {
    const name = '<script>alert(1)</script>'
    const inner = html`<b>${name}</b>`
    assert.equal(html`<td title="${'"x" & \'y\''}">${inner}${[name, 7, undefined, html`<br>`]}</td>`.text,
      '<td title="&quot;x&quot; &amp; &#39;y&#39;"><b>&lt;script&gt;alert(1)&lt;/script&gt;</b>&lt;script&gt;alert(1)&lt;/script&gt;7<br></td>')
  })
})

describe('GET / and GET /reports/ID over HTTP', () => {
  let good: Target
  let gw: Gateway

  before(async () => {
    good = await startHttpTarget(metricsHandler(exposition(20)))
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-status-token-'))
    writeFileSync(path.join(dir, 'token'), TOKEN)
    gw = await startGateway(`
scrape_configs:
  - job_name: node
    bearer_token_file: ${path.join(dir, 'token')}
    static_configs: [{ targets: ['${good.host}'] }]
  - job_name: nowhere
  - job_name: many
    static_configs: [{ targets: [${Array.from({ length: 12 }, (_, i) => `'127.0.0.1:${i + 1}'`).join(', ')}] }]
`)
  })
  after(async () => {
    await gw.close()
    await good.close()
  })

  it('serves the page with a policy that runs nothing, and refuses other methods with 405', async () => {
    const page = await text(`${gw.url}/`)
    assert.equal(page.status, 200)
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.match(page.headers.get('content-security-policy') ?? '', /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; /)
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff')
    assert.match(page.body, /<title>scrape-gateway \d+\.\d+\.\d+ \(/)
    assert.ok(!page.body.includes('<script'), 'no script at all')
    assert.match(page.body, /<code>127\.0\.0\.1:10<\/code><br><span class="muted">and 2 more \(<a href="config">\/config<\/a> has them all\)/, 'a long list is cut')
    assert.ok(!page.body.includes('127.0.0.1:11<'))
    assert.match(page.body, /<li>job &quot;nowhere&quot; has neither static_configs nor allowed_targets: every target is refused/, 'the load\'s warnings')
    const head = await fetch(`${gw.url}/`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await text(`${gw.url}/`, { method })
      assert.equal(res.status, 405, method)
      assert.equal(res.headers.get('allow'), 'GET, HEAD')
      assert.equal(res.body, `SG_METHOD_NOT_ALLOWED: ${method} is not allowed on /; use GET or HEAD\n`)
    }
  })

  it('a report link serves the probe\'s debug report, without the job\'s token; an evicted one is 404', async () => {
    assert.equal((await gw.probe('node', good.host)).status, 200)
    let first = ''
    await eventually(async () => {
      const links = reportLinks((await text(`${gw.url}/`)).body)
      assert.equal(links.length, 1)
      first = links[0] as string
    })
    const report = await text(`${gw.url}/reports/${first}`)
    assert.equal(report.status, 200)
    assert.equal(report.headers.get('content-type'), 'text/plain; charset=utf-8')
    assert.match(report.headers.get('content-security-policy') ?? '', /^default-src 'none'/)
    assert.match(report.body, /^scrape-gateway debug report: job "node", target "127\.0\.0\.1:\d+"\nOutcome: success/)
    assert.match(report.body, /^ {2}Authorization: Bearer <secret>$/m)
    assert.ok(!report.body.includes(TOKEN), report.body)
    assert.ok(!(await text(`${gw.url}/`)).body.includes(TOKEN))

    // A debug probe is a probe too: listed, marked, its report the one its caller got.
    const debug = await text(`${gw.url}/probe?job=node&target=${good.host}&debug=true`)
    assert.equal(debug.status, 200)
    await eventually(async () => {
      const page = (await text(`${gw.url}/`)).body
      assert.equal(reportLinks(page).length, 2)
      assert.match(page, /<tbody>\s*<tr class="success">(?:(?!<\/tr>)[\s\S])*<span class="tag">debug<\/span>/, 'the newest row is marked debug')
    })
    const stored = await text(`${gw.url}/reports/${reportLinks((await text(`${gw.url}/`)).body)[0] ?? ''}`)
    assert.equal(stored.body.split('\nTimings')[0], debug.body.split('\nTimings')[0], 'the same report, up to the timings')

    // 100 more: the first falls out of the ring.
    for (let i = 0; i < 100; i++) await (await gw.probe('node', good.host)).arrayBuffer()
    let links: string[] = []
    await eventually(async () => {
      links = reportLinks((await text(`${gw.url}/`)).body)
      assert.equal(links.length, 100)
      assert.ok(!links.includes(first))
    })
    const gone = await text(`${gw.url}/reports/${first}`)
    assert.equal(gone.status, 404)
    assert.match(gone.body, /^SG_NOT_FOUND: no report "[0-9a-f]+-1": the status page keeps the reports of the last 100 probes/)
    assert.equal((await text(`${gw.url}/reports/${links[0] ?? ''}`)).status, 200, 'the newest is there')
    assert.equal((await text(`${gw.url}/reports/nothing`)).status, 404)
    assert.match((await text(`${gw.url}/no-such-route`)).body, /^SG_NOT_FOUND: no route GET \/no-such-route; try \/probe/)
  })

  it('shows a failed reload, with the config error, until a reload succeeds', async () => {
    const loaded = (await text(`${gw.url}/`)).body
    assert.match(loaded, /Configuration: <span class="ok">loaded<\/span>/)
    const before = readFileSync(gw.configFile, 'utf8')
    writeFileSync(gw.configFile, 'scrape_configs:\n  - job_name: node\n    scrape_timeout: 5x\n    static_configs: [{ targets: [\'127.0.0.1:1\'] }]\n')
    assert.equal((await fetch(`${gw.url}/-/reload`, { method: 'POST' })).status, 500)
    const failed = (await text(`${gw.url}/`)).body
    assert.match(failed, /the last reload failed<\/span> at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/)
    assert.ok(failed.includes(`${escapeHtml(gw.configFile)}:3:`), 'the error names file:line')
    assert.match(failed, /The previous configuration still serves/)
    writeFileSync(gw.configFile, before)
    assert.equal((await fetch(`${gw.url}/-/reload`, { method: 'POST' })).status, 200)
    assert.match((await text(`${gw.url}/`)).body, /Configuration: <span class="ok">loaded<\/span>/)
  })
})

describe('the status page in a real browser', { skip: MISSING ? SKIP : false, timeout: 60_000 }, () => {
  let good: Target
  let broken: Target
  let refused: number
  let gw: Gateway
  let browser: Browser
  let dir: string

  before(async () => {
    good = await startHttpTarget(metricsHandler(exposition(50)))
    // A target whose reason phrase is markup: it reaches the page through the probe's error.
    broken = await startHttpTarget((_req, res) => {
      res.statusCode = 500
      res.statusMessage = SCRIPT_REASON
      res.end('oops\n')
    })
    refused = await refusedPort()
    gw = await startGateway(`
scrape_configs:
  - job_name: node
    static_configs: [{ targets: ['${good.host}', '127.0.0.1:${refused}'] }]
    allowed_targets: ['10.0.0.0/8:9100']
    max_concurrent_probes: 8
  - job_name: '${SCRIPT_JOB}'
    scheme: http
    metrics_path: /probe-me
    basic_auth: { username: u, password: p }
    static_configs: [{ targets: ['${broken.host}'] }]
`)
    dir = mkdtempSync(path.join(os.tmpdir(), 'sg-status-page-'))
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
        '--disable-quic', '--disable-component-update', '--disable-sync'],
    })
  })
  after(async () => {
    await browser?.close()
    await gw?.close()
    await good?.close()
    await broken?.close()
  })

  it('shows the jobs and the probes newest first, failures marked, markup as text; a report link explains the failure', async (t) => {
    assert.equal((await gw.probe('node', good.host)).status, 200)
    assert.equal((await gw.probe(SCRIPT_JOB, broken.host)).status, 502)
    assert.equal((await gw.probe('node', `127.0.0.1:${refused}`)).status, 502)
    await eventually(async () => { assert.equal(reportLinks((await text(`${gw.url}/`)).body).length, 3) })

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    let dialogs = 0
    page.on('dialog', (d) => { dialogs++; void d.dismiss() })
    const problems: string[] = []
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()) })
    page.on('pageerror', (e) => { problems.push(e.message) })
    const res = await page.goto(`${gw.url}/`)
    assert.equal(res?.status(), 200)

    // Jobs, in config order, with what the table says of each.
    const jobs = await page.$$eval('#jobs tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')))
    assert.equal(jobs.length, 2)
    assert.deepEqual(jobs[0]?.slice(0, 8), ['node', 'http', '/metrics', 'none', '10s', `${good.host}127.0.0.1:${refused}`, '10.0.0.0/8:9100', '8'])
    assert.match(jobs[0]?.[8] ?? '', /^1 ok, 1 failed$/)
    assert.deepEqual(jobs[1]?.slice(0, 8), [SCRIPT_JOB, 'http', '/probe-me', 'basic_auth', '10s', broken.host, 'none', 'default'])

    // Probes, newest first: the refused port, the 500, the good one.
    const rows = await page.$$eval('#probes tbody tr', (trs) => trs.map((r) => ({
      cls: r.className,
      cells: [...r.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? ''),
      // Runs in the page, whose global is the window (the tests' types have no DOM).
      codeColor: (globalThis as unknown as { getComputedStyle: (e: unknown) => { color: string } }).getComputedStyle(r.querySelector('td:nth-child(4) span')).color,
    })))
    assert.equal(rows.length, 3)
    const [refusedRow, brokenRow, goodRow] = rows
    assert.equal(refusedRow?.cls, 'failed')
    assert.deepEqual(refusedRow?.cells.slice(1, 3), ['node', `127.0.0.1:${refused}`])
    assert.match(refusedRow?.cells[3] ?? '', /^SG_UPSTREAM_CONNECT.*ECONNREFUSED/)
    assert.equal(refusedRow?.cells[4], '502')
    assert.equal(brokenRow?.cls, 'failed')
    assert.deepEqual(brokenRow?.cells.slice(1, 3), [SCRIPT_JOB, broken.host])
    assert.equal(brokenRow?.cells[3], `SG_UPSTREAM_STATUSupstream returned 500 ${SCRIPT_REASON}`)
    assert.equal(goodRow?.cls, 'success')
    assert.deepEqual(goodRow?.cells.slice(1, 5), ['node', good.host, 'success', '200'])
    assert.notEqual(goodRow?.cells[6], '0 B')
    // The page's own style applies under its policy: failures are red, success green.
    assert.equal(refusedRow?.codeColor, 'rgb(207, 34, 46)')
    assert.equal(goodRow?.codeColor, 'rgb(26, 127, 55)')

    // The markup is text: nothing ran, no element was made of it, and the policy refused nothing.
    const body = await page.textContent('body') ?? ''
    assert.ok(body.includes(SCRIPT_JOB) && body.includes(SCRIPT_REASON))
    assert.equal(await page.locator('script').count(), 0)
    assert.equal(dialogs, 0)
    assert.deepEqual(problems, [])

    const shot = path.join(dir, 'status-page.png')
    await page.screenshot({ path: shot, fullPage: true })
    t.diagnostic(`screenshot: ${shot}`)

    // The failing probe's report, one click away.
    await page.click('#probes tbody tr:first-child a')
    assert.match(page.url(), /\/reports\/[0-9a-f]+-3$/)
    const report = await page.textContent('body') ?? ''
    assert.match(report, /^scrape-gateway debug report: job "node", target "127\.0\.0\.1:\d+"\nOutcome: SG_UPSTREAM_CONNECT \(a probe without debug answers 502\)\nReason: .*ECONNREFUSED/)
    assert.ok(report.includes(`Failed in: connecting to 127.0.0.1:${refused}`), report)
    const reportShot = path.join(dir, 'report.png')
    await page.screenshot({ path: reportShot, fullPage: true })
    t.diagnostic(`report screenshot: ${reportShot}`)
    await page.close()
  })

  it('a failed reload stands out above everything, with its file:line, while the old config serves', async (t) => {
    writeFileSync(gw.configFile, `${readFileSync(gw.configFile, 'utf8')}    scrape_interval: 1x\n`)
    assert.equal((await fetch(`${gw.url}/-/reload`, { method: 'POST' })).status, 500)
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${gw.url}/`)
    const banner = await page.$eval('main > section:first-child', (s) => ({
      id: s.id,
      cls: s.className,
      text: s.textContent?.replace(/\s+/g, ' ').trim() ?? '',
      background: (globalThis as unknown as { getComputedStyle: (e: unknown) => { backgroundColor: string } }).getComputedStyle(s).backgroundColor,
    }))
    assert.equal(banner.id, 'config')
    assert.equal(banner.cls, 'banner failed')
    assert.equal(banner.background, 'rgb(255, 235, 233)')
    assert.match(banner.text, /^Configuration: the last reload failed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d+s ago\) /)
    assert.ok(banner.text.includes(`${gw.configFile}:`), banner.text)
    assert.match(banner.text, /The previous configuration still serves: .*, 2 jobs, loaded /)
    assert.equal(await page.locator('#jobs tbody tr').count(), 2, 'the jobs that serve')
    const shot = path.join(dir, 'status-page-failed-reload.png')
    await page.screenshot({ path: shot, fullPage: true })
    t.diagnostic(`screenshot: ${shot}`)
    await page.close()
  })
})

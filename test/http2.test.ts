// enable_http2 (Prometheus's default: true): HTTP/2 over TLS when the target
// offers it by ALPN, HTTP/1.1 otherwise or when disabled; and the probe's
// relay, gzip decoding, body limit, status handling and deadline over h2.
// Targets are node:http2 TLS servers on 127.0.0.1:0 (HTTP/1.1 allowed too).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Http2ServerRequest, Http2ServerResponse, SecureServerOptions } from 'node:http2'
import { get, type Seen } from './helpers/client.js'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { createCa, type Ca, type CertPair } from './helpers/pki.js'
import { exposition, metricsHandler, startHttp2Target, type Http2Handler, type Target } from './helpers/targets.js'

const BODY = exposition(3000)
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

function probe (gw: Gateway, job: string, target: string): Promise<Seen> {
  return get(`${gw.url}/probe?job=${encodeURIComponent(job)}&target=${encodeURIComponent(target)}`)
}

function assertOk (seen: Seen): void {
  assert.equal(seen.status, 200, seen.body.toString())
  assert.equal(seen.complete, true)
  assert.ok(seen.body.equals(Buffer.from(BODY)), 'the body is the target\'s, unchanged')
}

function assertCoded (seen: Seen, status: number, line: RegExp): void {
  assert.equal(seen.status, status, seen.body.toString())
  assert.match(seen.body.toString(), line)
}

describe('HTTP/2', () => {
  let ca: Ca
  let serverCert: CertPair

  before(() => {
    ca = createCa('http2 test CA')
    serverCert = ca.issue({ cn: 'h2 target' })
  })

  const job = (name: string, extra = ''): string =>
    `  - job_name: ${name}\n    scheme: https\n    tls_config: { ca_file: ${ca.certFile} }\n    allowed_targets: ['127.0.0.1:*']\n${extra}`

  describe('negotiation', () => {
    let target: Target
    let gw: Gateway

    /** The HTTP/2 sessions that served /multi. */
    const sessions = new Set<unknown>()

    before(async () => {
      const serve = metricsHandler(BODY, { contentType: OPENMETRICS })
      target = await startHttp2Target(serverCert, (req, res) => {
        if (req.url === '/multi') sessions.add(req.stream.session)
        serve(req, res)
      })
      gw = await startGateway(`
scrape_configs:
${job('default')}${job('on', '    enable_http2: true\n')}${job('off', '    enable_http2: false\n')}${job('multi', '    metrics_path: /multi\n')}`)
    })
    after(async () => {
      await target.close()
      await gw.close()
    })

    it('speaks HTTP/2 by default and with enable_http2: true, HTTP/1.1 with false', async () => {
      for (const [name, version] of [['default', '2.0'], ['on', '2.0'], ['off', '1.1']] as const) {
        const seen = await probe(gw, name, target.host)
        assertOk(seen)
        assert.equal(seen.headers['content-type'], OPENMETRICS, name)
        assert.equal(target.requests.at(-1)?.httpVersion, version, name)
      }
    })

    it('sends the same request over HTTP/2: path, Accept, Accept-Encoding, User-Agent, timeout header, authority', async () => {
      await probe(gw, 'on', target.host)
      const h2 = target.requests.at(-1)
      await probe(gw, 'off', target.host)
      const h1 = target.requests.at(-1)
      assert.ok(h1 !== undefined && h2 !== undefined)
      assert.equal(h2.url, h1.url)
      for (const name of ['accept', 'accept-encoding', 'user-agent', 'x-prometheus-scrape-timeout-seconds']) {
        assert.equal(h2.headers[name], h1.headers[name], name)
      }
      assert.equal(h2.headers[':authority'], target.host)
      assert.equal(h1.headers.host, target.host)
    })

    it('serves concurrent probes over HTTP/2, and reuses the connections after', async () => {
      const burst = async (): Promise<void> => {
        const seen = await Promise.all(Array.from({ length: 8 }, async () => await probe(gw, 'multi', target.host)))
        for (const s of seen) assertOk(s)
      }
      // undici gives a connection one request at a time (its pipelining is 1,
      // which also keeps HTTP/1.1 free of pipelining): a burst opens up to one
      // HTTP/2 connection per concurrent probe, kept alive for the next ones.
      await burst()
      await burst()
      assert.ok(sessions.size >= 1 && sessions.size <= 8, `16 probes, 8 at a time, over ${sessions.size} connections`)
      const multi = target.requests.filter((r) => r.url === '/multi')
      assert.equal(multi.length, 16)
      assert.ok(multi.every((r) => r.httpVersion === '2.0'))
    })
  })

  it('decodes gzip, applies body_size_limit and relays non-200 statuses over HTTP/2', async (t) => {
    const routes: Record<string, Http2Handler> = {
      '/gzip': metricsHandler(BODY, { contentType: OPENMETRICS, gzip: true }),
      '/big': metricsHandler(BODY),
      '/missing': metricsHandler('no such page\n', { status: 404 }),
    }
    const target = await startHttp2Target(serverCert, (req, res) => { (routes[req.url] ?? routes['/missing'] as Http2Handler)(req, res) })
    const gw = await startGateway(`
scrape_configs:
${job('gzip', '    metrics_path: /gzip\n')}${job('big', '    metrics_path: /big\n    body_size_limit: 1KB\n')}${job('missing', '    metrics_path: /missing\n')}`)
    t.after(async () => { await target.close(); await gw.close() })

    const gz = await probe(gw, 'gzip', target.host)
    assertOk(gz)
    assert.equal(gz.headers['content-encoding'], undefined)
    assert.equal(gz.headers['content-type'], OPENMETRICS)
    assertCoded(await probe(gw, 'big', target.host), 502, /^SG_BODY_SIZE_LIMIT: body size limit exceeded/)
    // HTTP/2 has no reason phrase: the standard one is used, as Go's resp.Status does.
    assertCoded(await probe(gw, 'missing', target.host), 502, /^SG_UPSTREAM_STATUS: upstream returned 404 Not Found /)
    assert.ok(target.requests.every((r) => r.httpVersion === '2.0'))
  })

  it('keeps the deadline over HTTP/2: no head in time is a 504, a body that stalls is cut', async (t) => {
    const stalls = (req: Http2ServerRequest, res: Http2ServerResponse): void => {
      if (req.url === '/silent') return
      res.setHeader('content-type', 'text/plain; version=0.0.4')
      res.write(BODY.slice(0, 1000))
    }
    const target = await startHttp2Target(serverCert, stalls)
    const gw = await startGateway(`
scrape_configs:
${job('silent', '    metrics_path: /silent\n    scrape_timeout: 300ms\n')}${job('stall', '    metrics_path: /stall\n    scrape_timeout: 300ms\n')}`)
    t.after(async () => { await target.close(); await gw.close() })

    const silent = await probe(gw, 'silent', target.host)
    assertCoded(silent, 504, /^SG_UPSTREAM_TIMEOUT: scrape timed out after 0\.3s/)
    assert.ok(silent.ms < 2000, `${silent.ms}ms`)
    const stalled = await probe(gw, 'stall', target.host)
    assert.equal(stalled.status, 200)
    assert.equal(stalled.complete, false, 'a cut body never looks complete')
    assert.ok(stalled.body.length <= 1000)
    assert.ok(target.requests.every((r) => r.httpVersion === '2.0'))
  })

  it('does mTLS over HTTP/2', async (t) => {
    const client = ca.issue({ cn: 'h2 scraper', client: true })
    const opts = { ...serverCert, ca: ca.cert, requestCert: true } as SecureServerOptions as CertPair
    const target = await startHttp2Target(opts, metricsHandler(BODY))
    const gw = await startGateway(`
scrape_configs:
  - job_name: mtls
    scheme: https
    tls_config: { ca_file: ${ca.certFile}, cert_file: ${client.certFile}, key_file: ${client.keyFile} }
    allowed_targets: ['127.0.0.1:*']
`)
    t.after(async () => { await target.close(); await gw.close() })
    assertOk(await probe(gw, 'mtls', target.host))
    assertOk(await probe(gw, 'mtls', target.host))
    assert.deepEqual(target.requests.map((r) => r.httpVersion), ['2.0', '2.0'])
  })
})

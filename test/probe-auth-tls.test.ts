// /probe end to end for authenticated TLS scrapes: real targets on 127.0.0.1
// port 0 with certificates made by the test, a real gateway, and assertions on
// what the target saw as well as on what the caller got back.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import type { TLSSocket } from 'node:tls'
import { createCa, tmpDir } from './helpers/pki.js'
import type { Ca, CertPair } from './helpers/pki.js'
import { exposition, metricsHandler, startHttpTarget, startHttpsTarget } from './helpers/targets.js'
import type { Handler, Target } from './helpers/targets.js'
import { startGateway } from './helpers/gateway.js'
import type { Gateway } from './helpers/gateway.js'

// Read here rather than imported from src/version.ts, so a wrong VERSION fails the test.
const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

const PROMETHEUS_DEFAULT_ACCEPT = 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,' +
  'application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,' +
  'text/plain;version=0.0.4;q=0.3,*/*;q=0.2'
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8'
const BODY = exposition(2000)

interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  text: string
}

/**
 * GET gw.url + pathAndQuery with exactly `headers` (fetch would add its own
 * `Accept: *\/*`, and may refuse Cookie), on a fresh connection.
 */
async function get (gw: Gateway, pathAndQuery: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${gw.url}${pathAndQuery}`, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') })
      })
    })
    req.on('error', reject)
  })
}

/** GET /probe?job=J&target=T, both URL-encoded as Prometheus does (`:` is `%3A`). */
async function probe (gw: Gateway, job: string, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return get(gw, `/probe?job=${encodeURIComponent(job)}&target=${encodeURIComponent(target)}`, headers)
}

/** Serves `body` only to requests whose Authorization equals `expected()`; 401 otherwise. */
function requireAuthorization (expected: () => string, serve: Handler): Handler {
  return (req, res) => {
    if (req.headers.authorization !== expected()) {
      res.statusCode = 401
      res.end('unauthorized\n')
      return
    }
    serve(req, res)
  }
}

/** A header value as a Go server reads it: its bytes (latin1 to Node) taken as UTF-8. */
function utf8 (value: string | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value, 'latin1').toString('utf8')
}

function basic (user: string, pass: string): string {
  return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64')
}

function assertCodedError (res: RawResponse, status: number, code: string): void {
  assert.equal(res.status, status, `status; body: ${res.text}`)
  assert.ok(res.text.startsWith(`${code}:`), `body should start with ${code}: but is ${JSON.stringify(res.text)}`)
}

describe('probe: authentication and TLS', () => {
  let ca: Ca
  let otherCa: Ca
  let serverCert: CertPair
  let files: string

  before(() => {
    ca = createCa('probe-auth-tls CA')
    otherCa = createCa('some other CA')
    serverCert = ca.issue({ cn: 'target' })
    files = tmpDir('sg-probe-auth-')
  })
  after(() => {
    fs.rmSync(files, { recursive: true, force: true })
  })

  it('scrapes an https target with a bearer_token_file and ca_file, relaying bytes and Content-Type, and follows token rotation', async (t) => {
    let token = 'first-token'
    const target = await startHttpsTarget(serverCert, requireAuthorization(() => `Bearer ${token}`, metricsHandler(BODY, { contentType: OPENMETRICS })))
    t.after(() => target.close())
    const tokenFile = path.join(files, 'rotating-token')
    fs.writeFileSync(tokenFile, 'first-token\n')
    const gw = await startGateway(`
scrape_configs:
  - job_name: secure
    scheme: https
    bearer_token_file: ${tokenFile}
    tls_config:
      ca_file: ${ca.certFile}
    static_configs: [{ targets: ['${target.host}'] }]
`)
    t.after(() => gw.close())

    const first = await probe(gw, 'secure', target.host)
    assert.equal(first.status, 200, first.text)
    assert.equal(first.headers['content-type'], OPENMETRICS)
    assert.ok(first.body.equals(Buffer.from(BODY)), 'the body is the target\'s bytes, unchanged')
    assert.equal(first.headers['content-encoding'], undefined)
    assert.equal(target.requests.length, 1)
    assert.equal(target.requests[0]?.headers.authorization, 'Bearer first-token')

    // The target now wants a new token, which the file does not hold yet: the
    // check is real, and the gateway reports the 401.
    token = 'second-token'
    const stale = await probe(gw, 'secure', target.host)
    assertCodedError(stale, 502, 'SG_UPSTREAM_STATUS')
    assert.match(stale.text, /401 Unauthorized/)

    // Rotated on disk, no reload: the next probe reads the new token.
    fs.writeFileSync(tokenFile, '  second-token \n')
    const rotated = await probe(gw, 'secure', target.host)
    assert.equal(rotated.status, 200, rotated.text)
    assert.ok(rotated.body.equals(Buffer.from(BODY)))
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer second-token')
  })

  it('resolves a relative bearer_token_file against the config file\'s directory', async (t) => {
    const target = await startHttpsTarget(serverCert, requireAuthorization(() => 'Bearer relative-token', metricsHandler(BODY, { contentType: OPENMETRICS })))
    t.after(() => target.close())
    const gw = await startGateway(`
scrape_configs:
  - job_name: relative
    scheme: https
    bearer_token_file: token
    tls_config: { ca_file: ${ca.certFile} }
    static_configs: [{ targets: ['${target.host}'] }]
`)
    t.after(() => gw.close())
    // Read per request, so writing it after load is fine; cwd holds no `token`.
    assert.equal(fs.existsSync(path.resolve('token')), false)
    fs.writeFileSync(path.join(gw.dir, 'token'), 'relative-token\n')

    const res = await probe(gw, 'relative', target.host)
    assert.equal(res.status, 200, res.text)
    assert.ok(res.body.equals(Buffer.from(BODY)))
    assert.equal(target.requests[0]?.headers.authorization, 'Bearer relative-token')
  })

  it('fails with SG_UPSTREAM_TLS when the target\'s certificate is from another CA, and succeeds with insecure_skip_verify', async (t) => {
    const foreign = otherCa.issue({ cn: 'foreign target' })
    const target = await startHttpsTarget(foreign, metricsHandler(BODY, { contentType: OPENMETRICS }))
    t.after(() => target.close())
    const gw = await startGateway(`
scrape_configs:
  - job_name: wrong-ca
    scheme: https
    tls_config: { ca_file: ${ca.certFile} }
    static_configs: [{ targets: ['${target.host}'] }]
  - job_name: skip-verify
    scheme: https
    tls_config: { ca_file: ${ca.certFile}, insecure_skip_verify: true }
    static_configs: [{ targets: ['${target.host}'] }]
`)
    t.after(() => gw.close())

    const bad = await probe(gw, 'wrong-ca', target.host)
    assertCodedError(bad, 502, 'SG_UPSTREAM_TLS')
    assert.ok(bad.text.includes('"wrong-ca"'), `names the job: ${bad.text}`)
    assert.ok(bad.text.includes(target.host), `names the target: ${bad.text}`)
    assert.equal(target.requests.length, 0, 'no HTTP request over an unverified connection')

    const ok = await probe(gw, 'skip-verify', target.host)
    assert.equal(ok.status, 200, ok.text)
    assert.ok(ok.body.equals(Buffer.from(BODY)))
    assert.equal(ok.headers['content-type'], OPENMETRICS)
  })

  it('uses server_name for SNI and verification', async (t) => {
    const named = ca.issue({ cn: 'metrics.example', sans: ['DNS:metrics.example'] })
    const servernames: Array<TLSSocket['servername']> = []
    const serve = metricsHandler(BODY, { contentType: OPENMETRICS })
    const target = await startHttpsTarget(named, (req: IncomingMessage, res: ServerResponse) => {
      servernames.push((req.socket as TLSSocket).servername)
      serve(req, res)
    })
    t.after(() => target.close())
    const gw = await startGateway(`
scrape_configs:
  - job_name: sni
    scheme: https
    tls_config: { ca_file: ${ca.certFile}, server_name: metrics.example }
    static_configs: [{ targets: ['${target.host}'] }]
  - job_name: no-sni
    scheme: https
    tls_config: { ca_file: ${ca.certFile} }
    static_configs: [{ targets: ['${target.host}'] }]
`)
    t.after(() => gw.close())

    const ok = await probe(gw, 'sni', target.host)
    assert.equal(ok.status, 200, ok.text)
    assert.ok(ok.body.equals(Buffer.from(BODY)))
    assert.deepEqual(servernames, ['metrics.example'])
    // Host stays the address, as in Prometheus; only SNI and verification change.
    assert.equal(target.requests[0]?.headers.host, target.host)

    const bad = await probe(gw, 'no-sni', target.host)
    assertCodedError(bad, 502, 'SG_UPSTREAM_TLS')
    assert.ok(bad.text.includes('"no-sni"') && bad.text.includes(target.host), bad.text)
    assert.equal(target.requests.length, 1)
  })

  it('sends basic_auth, authorization and bearer_token exactly as Prometheus does', async (t) => {
    const expected = new Map<string, string>()
    // The target checks each job's header by its metrics_path, reading the
    // header's bytes as UTF-8 like a Go server (Node hands them over as latin1).
    const checking = await startHttpTarget((req, res) => {
      const want = expected.get(req.url ?? '')
      if (want === undefined || utf8(req.headers.authorization) !== want) {
        res.statusCode = 401
        res.end('unauthorized\n')
        return
      }
      metricsHandler(BODY)(req, res)
    })
    t.after(() => checking.close())

    const passwordFile = path.join(files, 'basic-password')
    fs.writeFileSync(passwordFile, 'pw-one\n')
    const credentialsFile = path.join(files, 'authorization-credentials')
    fs.writeFileSync(credentialsFile, '  tok-from-file \n')
    const job = (name: string, extra: string): string => `
  - job_name: ${name}
    metrics_path: /${name}
${extra}
    static_configs: [{ targets: ['${checking.host}'] }]`
    const gw = await startGateway(`
scrape_configs:${job('basic', '    basic_auth: { username: alice, password: "s3cr:t é" }')}${job('basic-file', `    basic_auth: { username: bob, password_file: ${passwordFile} }`)}${job('token-type', '    authorization: { type: Token, credentials: abc }')}${job('credentials-file', `    authorization: { credentials_file: ${credentialsFile} }`)}${job('inline-bearer', '    bearer_token: inline-tok')}${job('non-ascii', '    bearer_token: "tök-€"')}
`)
    t.after(() => gw.close())

    const cases: Array<[string, string]> = [
      // Written out, not computed: base64("alice:s3cr:t é") in UTF-8.
      ['basic', 'Basic YWxpY2U6czNjcjp0IMOp'],
      ['basic-file', basic('bob', 'pw-one')],
      ['token-type', 'Token abc'],
      ['credentials-file', 'Bearer tok-from-file'],
      ['inline-bearer', 'Bearer inline-tok'],
      // Prometheus sends the token's UTF-8 bytes as they are.
      ['non-ascii', 'Bearer tök-€'],
    ]
    assert.equal(cases[0]?.[1], basic('alice', 's3cr:t é'))
    for (const [name, header] of cases) {
      expected.set(`/${name}`, header)
      const res = await probe(gw, name, checking.host)
      assert.equal(res.status, 200, `${name}: ${res.text}`)
      assert.ok(res.body.equals(Buffer.from(BODY)), name)
      assert.equal(utf8(checking.requests.at(-1)?.headers.authorization), header, name)
    }

    // password_file is re-read on every probe.
    fs.writeFileSync(passwordFile, 'pw-two')
    expected.set('/basic-file', basic('bob', 'pw-two'))
    const rotated = await probe(gw, 'basic-file', checking.host)
    assert.equal(rotated.status, 200, rotated.text)
    assert.equal(utf8(checking.requests.at(-1)?.headers.authorization), basic('bob', 'pw-two'))
  })

  it('never forwards the caller\'s Authorization or Cookie', async (t) => {
    const target = await startHttpTarget(metricsHandler(BODY))
    t.after(() => target.close())
    const gw = await startGateway(`
scrape_configs:
  - job_name: open
    static_configs: [{ targets: ['${target.host}'] }]
  - job_name: with-token
    bearer_token: job-token
    static_configs: [{ targets: ['${target.host}'] }]
`)
    t.after(() => gw.close())
    const callerHeaders = { Authorization: 'Bearer caller', Cookie: 'a=b', 'Proxy-Authorization': 'Basic Y2FsbGVyOng=' }

    const open = await probe(gw, 'open', target.host, callerHeaders)
    assert.equal(open.status, 200, open.text)
    const seen = target.requests.at(-1)?.headers
    assert.ok(seen !== undefined)
    assert.equal(seen.authorization, undefined)
    assert.equal(seen.cookie, undefined)
    assert.equal(seen['proxy-authorization'], undefined)

    const withToken = await probe(gw, 'with-token', target.host, callerHeaders)
    assert.equal(withToken.status, 200, withToken.text)
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer job-token')
    assert.equal(target.requests.at(-1)?.headers.cookie, undefined)
    assert.equal(target.requests.length, 2)
  })

  it('shapes the request as Prometheus does: path, params, Accept, Accept-Encoding, User-Agent, timeout header', async (t) => {
    // gzip on the wire: the gateway asked for it, so it must decode it.
    const target = await startHttpTarget(metricsHandler(BODY, { contentType: OPENMETRICS, gzip: true }))
    t.after(() => target.close())
    const gw = await startGateway(`
scrape_configs:
  - job_name: shape
    metrics_path: /custom/path
    params:
      b: ['2']
      a: ['x y', 'z']
    scrape_timeout: 7s
    static_configs: [{ targets: ['${target.host}'] }]
  - job_name: text-only
    scrape_protocols: [PrometheusText0.0.4]
    enable_compression: false
    static_configs: [{ targets: ['${target.host}'] }]
`)
    t.after(() => gw.close())

    const plain = await probe(gw, 'shape', target.host)
    assert.equal(plain.status, 200, plain.text)
    assert.ok(plain.body.equals(Buffer.from(BODY)), 'gunzipped by the gateway')
    assert.equal(plain.headers['content-encoding'], undefined)
    assert.equal(plain.headers['content-type'], OPENMETRICS)
    const r1 = target.requests.at(-1)
    assert.ok(r1 !== undefined)
    assert.equal(r1.method, 'GET')
    assert.equal(r1.url, '/custom/path?a=x+y&a=z&b=2')
    assert.equal(r1.headers.host, target.host)
    assert.equal(r1.headers.accept, PROMETHEUS_DEFAULT_ACCEPT)
    assert.equal(r1.headers['accept-encoding'], 'gzip')
    assert.equal(r1.headers['user-agent'], `scrape-gateway/${PACKAGE_VERSION}`)
    assert.equal(r1.headers['x-prometheus-scrape-timeout-seconds'], '7')

    const callerAccept = 'text/plain;version=0.0.4;q=0.9, application/openmetrics-text;version=1.0.0'
    const withHeaders = await probe(gw, 'shape', target.host, {
      Accept: callerAccept,
      'X-Prometheus-Scrape-Timeout-Seconds': '3',
    })
    assert.equal(withHeaders.status, 200, withHeaders.text)
    const r2 = target.requests.at(-1)
    assert.equal(r2?.headers.accept, callerAccept)
    assert.equal(r2?.headers['x-prometheus-scrape-timeout-seconds'], '2.5')

    // A caller with more time than the job gets the job's scrape_timeout.
    const generous = await probe(gw, 'shape', target.host, { 'X-Prometheus-Scrape-Timeout-Seconds': '30' })
    assert.equal(generous.status, 200, generous.text)
    assert.equal(target.requests.at(-1)?.headers['x-prometheus-scrape-timeout-seconds'], '7')

    const textOnly = await probe(gw, 'text-only', target.host)
    assert.equal(textOnly.status, 200, textOnly.text)
    const r3 = target.requests.at(-1)
    assert.equal(r3?.url, '/metrics')
    assert.equal(r3?.headers.accept, 'text/plain;version=0.0.4;q=0.6,*/*;q=0.5')
    assert.equal(r3?.headers['accept-encoding'], 'identity')
    assert.equal(r3?.headers['x-prometheus-scrape-timeout-seconds'], '10')
    // Prometheus gunzips a gzip body even when it asked for identity.
    assert.ok(textOnly.body.equals(Buffer.from(BODY)))
    assert.equal(target.requests.length, 4)
  })

  it('answers 500 SG_CREDENTIALS when the bearer_token_file cannot be read at scrape time, without leaking the token', async (t) => {
    const target = await startHttpsTarget(serverCert, requireAuthorization(() => 'Bearer leak-me-not', metricsHandler(BODY)))
    t.after(() => target.close())
    const tokenFile = path.join(files, 'vanishing-token')
    fs.writeFileSync(tokenFile, 'leak-me-not\n')
    const twoLines = path.join(files, 'two-lines')
    fs.writeFileSync(twoLines, 'first-line\nsecond-line\n')
    const gw = await startGateway(`
scrape_configs:
  - job_name: vanishing
    scheme: https
    bearer_token_file: ${tokenFile}
    tls_config: { ca_file: ${ca.certFile} }
    static_configs: [{ targets: ['${target.host}'] }]
  - job_name: two-lines
    scheme: https
    authorization: { credentials_file: ${twoLines} }
    tls_config: { ca_file: ${ca.certFile} }
    static_configs: [{ targets: ['${target.host}'] }]
`)
    t.after(() => gw.close())
    const ok = await probe(gw, 'vanishing', target.host)
    assert.equal(ok.status, 200, ok.text)

    fs.rmSync(tokenFile)
    const res = await probe(gw, 'vanishing', target.host)
    assertCodedError(res, 500, 'SG_CREDENTIALS')
    assert.ok(res.text.includes('bearer_token_file'), res.text)
    assert.ok(res.text.includes(tokenFile), res.text)
    assert.ok(res.text.includes('no such file or directory'), res.text)
    assert.ok(!res.text.includes('leak-me-not'), res.text)
    assert.equal(target.requests.length, 1, 'no request without credentials')

    // Credentials that cannot be a header value (Go's transport refuses them
    // too) are the gateway's misconfiguration, not a connection failure.
    const bad = await probe(gw, 'two-lines', target.host)
    assertCodedError(bad, 500, 'SG_CREDENTIALS')
    assert.ok(bad.text.includes('authorization.credentials_file') && bad.text.includes(twoLines), bad.text)
    assert.ok(!bad.text.includes('first-line') && !bad.text.includes('second-line'), bad.text)
    assert.equal(target.requests.length, 1)
  })

  describe('query handling', () => {
    let gw: Gateway
    let target: Target
    let stranger: Target

    before(async () => {
      target = await startHttpTarget(metricsHandler(BODY))
      stranger = await startHttpTarget(metricsHandler(BODY))
      gw = await startGateway(`
scrape_configs:
  - job_name: listed
    static_configs: [{ targets: ['${target.host}'] }]
`)
    })
    after(async () => {
      await gw.close()
      await target.close()
      await stranger.close()
    })

    it('accepts a URL-encoded target, as Prometheus sends it', async () => {
      const res = await get(gw, `/probe?job=listed&target=127.0.0.1%3A${target.port}`)
      assert.equal(res.status, 200, res.text)
      assert.ok(res.body.equals(Buffer.from(BODY)))
    })

    it('refuses a missing or empty target or job with 400 SG_BAD_PARAM', async () => {
      const before = target.requests.length
      for (const query of ['job=listed', 'job=listed&target=', `target=${target.host}`, `job=&target=${target.host}`, '']) {
        const res = await get(gw, `/probe?${query}`)
        assertCodedError(res, 400, 'SG_BAD_PARAM')
      }
      assert.equal(target.requests.length, before)
    })

    it('refuses an unknown job with 400 SG_UNKNOWN_JOB', async () => {
      const res = await probe(gw, 'nope', target.host)
      assertCodedError(res, 400, 'SG_UNKNOWN_JOB')
      assert.ok(res.text.includes('"nope"'), res.text)
    })

    it('refuses a target outside static_configs with 403 SG_TARGET_FORBIDDEN, without contacting it', async () => {
      const res = await probe(gw, 'listed', stranger.host)
      assertCodedError(res, 403, 'SG_TARGET_FORBIDDEN')
      assert.ok(res.text.includes(stranger.host), res.text)
      assert.equal(stranger.requests.length, 0)
    })

    it('refuses a target with a path with 400 SG_BAD_TARGET', async () => {
      const before = target.requests.length
      const res = await probe(gw, 'listed', `${target.host}/evil`)
      assertCodedError(res, 400, 'SG_BAD_TARGET')
      assert.equal(target.requests.length, before)
    })
  })
})

// /probe?...&debug=true: the probe runs as without debug (same checks, client,
// policy and limits), relays nothing, and answers 200 text/plain with the
// report of what happened (README "Debug report"). Real targets on 127.0.0.1
// with certificates made by the test; each report is checked for the facts
// its scenario must show, and for the secrets it must not.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, X509Certificate } from 'node:crypto'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import zlib from 'node:zlib'
import { Probe } from '../src/scrape/probe.js'
import { get } from './helpers/client.js'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { createCa, type Ca, type CertPair } from './helpers/pki.js'
import { exposition, metricsHandler, refusedPort, startHttp2Target, startHttpsTarget, startHttpTarget, type Target } from './helpers/targets.js'
import { basicCredentials, json, startTokenEndpoint, type TokenEndpoint } from './helpers/token-endpoint.js'

const BODY = exposition(300)
const GZIPPED = zlib.gzipSync(BODY)
const tag = randomBytes(6).toString('hex')
const TOKEN = `SGDEBUG-bearer-${tag}`
const CLIENT_SECRET = `SGDEBUG-client-secret-${tag}`
const TOKEN_URL_QUERY = `SGDEBUG-token-url-${tag}`

interface Report {
  status: number
  contentType: string | undefined
  text: string
}

/** Every form a secret could take in a report. */
function forms (secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(`:${secret}`).toString('base64')]
}

function assertNoSecret (text: string, ...secrets: string[]): void {
  for (const s of secrets) for (const f of forms(s)) assert.ok(!text.includes(f), `the report shows a secret (${f}):\n${text}`)
}

/** A line of the report, trimmed, that starts with `start`; fails when there is none. */
function line (text: string, start: string): string {
  const found = text.split('\n').map((l) => l.trim()).find((l) => l.startsWith(start))
  assert.ok(found !== undefined, `no line "${start}…" in:\n${text}`)
  return found
}

/** Accepts TCP connections and never sends a byte: a TLS handshake with it never finishes. */
async function startSilentTcp (): Promise<{ host: string, close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('debug=true: the report of one probe', () => {
  let ca: Ca
  let h2Cert: CertPair
  let impostorCert: CertPair
  let gw: Gateway
  let h2: Target
  let untrusted: Target
  let plain: Target
  let gzipped: Target
  let hanging: Target
  let first: Target
  let final: Target
  let silent: Awaited<ReturnType<typeof startSilentTcp>>
  let refusing: TokenEndpoint
  let down: number

  before(async () => {
    ca = createCa()
    const stranger = createCa('a CA nobody trusts')
    h2Cert = ca.issue({ cn: 'h2 target' })
    impostorCert = stranger.issue({ cn: 'impostor' })
    h2 = await startHttp2Target(h2Cert, metricsHandler(BODY))
    untrusted = await startHttpsTarget(impostorCert, metricsHandler(BODY))
    plain = await startHttpTarget(metricsHandler(BODY))
    gzipped = await startHttpTarget(metricsHandler(BODY, { gzip: true }))
    hanging = await startHttpTarget(() => {})
    final = await startHttpTarget(metricsHandler(BODY))
    first = await startHttpTarget((req, res) => {
      const to: Record<string, string> = {
        '/metrics': '/step',
        '/step': `http://localhost:${final.port}/final`,
        '/astray': 'http://127.0.0.2:9/elsewhere',
      }
      const location = to[req.url ?? '']
      res.writeHead(location === undefined ? 404 : req.url === '/step' ? 307 : 302, location === undefined ? {} : { location })
      res.end()
    })
    silent = await startSilentTcp()
    // Refuses and echoes what it was sent, the client secret included, as its error.
    refusing = await startTokenEndpoint((call, res) => {
      json(res, 401, { error: 'invalid_client', error_description: `${call.body} ${JSON.stringify(basicCredentials(call.headers.authorization))}` })
    })
    down = await refusedPort()
    gw = await startGateway(`
scrape_configs:
  - job_name: secure
    scheme: https
    bearer_token: ${TOKEN}
    tls_config: { ca_file: ${ca.certFile} }
    static_configs: [{ targets: ['localhost:${h2.port}', '${untrusted.host}', '127.0.0.1:${down}'] }]
  - job_name: plain
    static_configs: [{ targets: ['${plain.host}', '${gzipped.host}', '127.0.0.1:${down}'] }]
  - job_name: proxied
    proxy_url: http://scraper:SGDEBUG-proxy-${tag}@127.0.0.1:${down}/
    static_configs: [{ targets: ['${plain.host}'] }]
  - job_name: bypassed
    proxy_url: http://scraper:SGDEBUG-proxy-${tag}@127.0.0.1:${down}/
    no_proxy: example.com
    static_configs: [{ targets: ['${plain.host}'] }]
  - job_name: limited
    body_size_limit: 1KiB
    static_configs: [{ targets: ['${plain.host}'] }]
  - job_name: redirected
    bearer_token: ${TOKEN}
    static_configs: [{ targets: ['${first.host}'] }]
    allowed_targets: ['localhost:${final.port}']
  - job_name: astray
    metrics_path: /astray
    static_configs: [{ targets: ['${first.host}'] }]
  - job_name: slow
    scrape_timeout: 300ms
    static_configs: [{ targets: ['${hanging.host}'] }]
  - job_name: slow-tls
    scheme: https
    scrape_timeout: 300ms
    tls_config: { insecure_skip_verify: true }
    static_configs: [{ targets: ['${silent.host}'] }]
  - job_name: oauth2
    oauth2:
      client_id: scraper
      client_secret: ${CLIENT_SECRET}
      token_url: ${refusing.url}?tenant=${TOKEN_URL_QUERY}
    static_configs: [{ targets: ['${plain.host}'] }]
`)
  })
  after(async () => {
    // Targets first: the gateway's close waits for the connection still trying the silent one.
    await Promise.all([h2, untrusted, plain, gzipped, hanging, first, final, silent, refusing].map(async (s) => { await s?.close() }))
    await gw?.close()
  })

  async function report (job: string, target: string, headers: Record<string, string> = {}): Promise<Report> {
    const seen = await get(`${gw.url}/probe?job=${encodeURIComponent(job)}&target=${encodeURIComponent(target)}&debug=true`, headers)
    const text = seen.body.toString('utf8')
    assert.equal(seen.status, 200, text)
    assert.equal(seen.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(seen.headers['content-encoding'], undefined)
    return { status: seen.status, contentType: seen.headers['content-type'], text }
  }

  it('https with a bearer token: TLS version, cipher, ALPN, server name and the chain with days left; the token masked', async () => {
    const before = h2.requests.length
    const { text } = await report('secure', `localhost:${h2.port}`)
    assert.equal(line(text, 'Outcome:'), 'Outcome: success (a probe without debug answers 200 with the body; this one relayed nothing)')
    assert.equal(line(text, 'URL:'), `URL: https://localhost:${h2.port}/metrics`)
    assert.match(line(text, 'Timeout:'), /^Timeout: 10s \(the job's scrape_timeout is 10s/)
    assert.equal(line(text, 'Target policy:'), `Target policy: "localhost:${h2.port}" is allowed for job "secure"; dialled as localhost:${h2.port}, at an address the policy checked`)
    assert.equal(line(text, 'Authorization:'), 'Authorization: Bearer <secret>')
    assert.match(line(text, 'Resolved:'), /^Resolved: localhost to .*127\.0\.0\.1/)
    assert.equal(line(text, 'Connected to:'), `Connected to: 127.0.0.1:${h2.port}`)
    assert.match(line(text, 'Version:'), /^Version: TLSv1\.[23]$/)
    assert.match(line(text, 'Cipher:'), /^Cipher: TLS_\w+$/)
    assert.equal(line(text, 'ALPN:'), 'ALPN: h2')
    assert.equal(line(text, 'Server name sent (SNI):'), 'Server name sent (SNI): localhost')
    assert.equal(line(text, 'Certificate checked against:'), 'Certificate checked against: localhost (from the target address)')
    assert.equal(line(text, '[0] Subject:'), '[0] Subject: CN=h2 target')
    assert.equal(line(text, 'Issuer:'), 'Issuer: CN=scrape-gateway test CA')
    assert.equal(line(text, 'SANs:'), 'SANs: IP Address:127.0.0.1, DNS:localhost')
    // pki.ts issues for 30 days from an hour ago.
    assert.match(line(text, 'Not after:'), /^Not after: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(29 days left\)$/)
    for (const step of ['Resolve:', 'Connect:', 'TLS handshake:', 'First byte (response head):', 'Total:']) {
      assert.match(line(text, step), / ms$/, `${step} timed`)
    }
    assert.equal(line(text, 'Response:'), 'Response: 200 OK')
    assert.equal(line(text, 'Bytes decoded:'), `Bytes decoded: ${Buffer.byteLength(BODY)}`)
    assert.equal(line(text, 'Bytes relayed:'), 'Bytes relayed: none (debug)')
    assertNoSecret(text, TOKEN)
    // It really scraped, with the token.
    assert.equal(h2.requests.length, before + 1)
    assert.equal(h2.requests.at(-1)?.headers.authorization, `Bearer ${TOKEN}`)
    assert.equal(h2.requests.at(-1)?.httpVersion, '2.0')
  })

  it('says which rule set the deadline: the caller\'s header minus the offset, its whole budget when the offset would eat it, or the job\'s', async () => {
    const timeout = async (header: string): Promise<string> =>
      line((await report('plain', plain.host, { 'X-Prometheus-Scrape-Timeout-Seconds': header })).text, 'Timeout:')
    assert.equal(await timeout('3'), 'Timeout: 2.5s (the caller\'s X-Prometheus-Scrape-Timeout-Seconds 3 minus --timeout-offset 0.5s; the job\'s scrape_timeout is 10s)')
    assert.equal(await timeout('0.4'), 'Timeout: 0.4s (the caller\'s X-Prometheus-Scrape-Timeout-Seconds 0.4, whole: --timeout-offset 0.5s would leave nothing of it; the job\'s scrape_timeout is 10s)')
    assert.equal(await timeout('30'), 'Timeout: 10s (the job\'s scrape_timeout is 10s; the caller\'s X-Prometheus-Scrape-Timeout-Seconds 30 minus --timeout-offset 0.5s is no lower)')
  })

  it('a keep-alive connection says it was reused, instead of timing what did not happen', async () => {
    await report('plain', plain.host)
    const { text } = await report('plain', plain.host)
    assert.match(line(text, 'Reused:'), /^Reused: yes, a keep-alive connection opened [\d.]+ ms before this probe$/)
    assert.equal(line(text, 'Resolve, connect, TLS:'), 'Resolve, connect, TLS: connection reused (none of them happened in this probe)')
    assert.ok(!/^\s*Connect:/m.test(text), text)
  })

  it('a refused port: the address dialled and the error, in the connect phase', async () => {
    const { text } = await report('plain', `127.0.0.1:${down}`)
    assert.equal(line(text, 'Outcome:'), 'Outcome: SG_UPSTREAM_CONNECT (a probe without debug answers 502)')
    assert.match(line(text, 'Reason:'), /ECONNREFUSED/)
    assert.equal(line(text, 'Failed in:'), `Failed in: connecting to 127.0.0.1:${down}`)
    assert.equal(line(text, 'Dialled:'), `Dialled: 127.0.0.1:${down}`)
    assert.equal(line(text, 'Connect:'), 'Connect: did not finish')
    assert.equal(line(text, 'Response:'), 'Response: none')
  })

  it('a refused port on an https job: no TLS section beyond saying no handshake began', async () => {
    const { text } = await report('secure', `127.0.0.1:${down}`)
    assert.equal(line(text, 'Failed in:'), `Failed in: connecting to 127.0.0.1:${down}`)
    assert.equal(line(text, 'TLS:'), 'TLS: not started (no TCP connection)')
    assert.ok(!/^\s*(Version|Certificate chain):/m.test(text), text)
  })

  it('a wrong CA: the chain the target presented, and the verification failure named', async () => {
    const { text } = await report('secure', untrusted.host)
    assert.equal(line(text, 'Outcome:'), 'Outcome: SG_UPSTREAM_TLS (a probe without debug answers 502)')
    assert.equal(line(text, 'Reason:'),
      `Reason: TLS handshake failed: certificate signed by unknown authority: the target's certificate "CN=impostor" was issued by "CN=a CA nobody trusts", which is not in tls_config.ca_file ${ca.certFile}`)
    assert.equal(line(text, 'Failed in:'), `Failed in: the TLS handshake with ${untrusted.host}`)
    assert.equal(line(text, 'Version:'), 'Version: none (the handshake did not finish)')
    assert.equal(line(text, 'Server name sent (SNI):'), 'Server name sent (SNI): none (127.0.0.1 is an IP address)')
    assert.ok(text.includes('Certificate chain the target presented (leaf first), seen before the handshake failed:'), text)
    assert.equal(line(text, '[0] Subject:'), '[0] Subject: CN=impostor')
    assert.equal(line(text, 'Issuer:'), 'Issuer: CN=a CA nobody trusts')
    assert.match(line(text, 'Not after:'), /\(29 days left\)$/)
    assert.equal(line(text, 'TLS handshake:'), 'TLS handshake: did not finish')
    assertNoSecret(text, TOKEN)
  })

  it('a redirect chain: each request, its answer and what the redirect layer decided', async () => {
    const { text } = await report('redirected', first.host)
    assert.equal(line(text, 'Outcome:'), 'Outcome: success (a probe without debug answers 200 with the body; this one relayed nothing)')
    const hops = text.split('\n\n').filter((s) => s.startsWith('Request'))
    assert.equal(hops.length, 3, text)
    const [one, two, three] = hops as [string, string, string]
    assert.match(line(one, 'Request'), new RegExp(`^Request 1 of 3 \\(sent at [\\d.]+ ms\\): GET http://${first.host}/metrics$`))
    assert.equal(line(one, 'Authorization:'), 'Authorization: Bearer <secret>')
    assert.equal(line(one, 'Answer:'), 'Answer: 302 Found, Location: /step')
    assert.equal(line(one, 'Redirect:'), `Redirect: followed to http://${first.host}/step (allowed by the job's target policy; the same host and port: credentials kept)`)
    assert.match(line(two, 'Request'), new RegExp(`^Request 2 of 3 \\(sent at [\\d.]+ ms\\): GET http://${first.host}/step$`))
    assert.equal(line(two, 'Authorization:'), 'Authorization: Bearer <secret>')
    assert.equal(line(two, 'Answer:'), `Answer: 307 Temporary Redirect, Location: http://localhost:${final.port}/final`)
    assert.equal(line(two, 'Redirect:'),
      `Redirect: followed to http://localhost:${final.port}/final (allowed by the job's target policy; another host or port: no credentials from here on)`)
    assert.match(line(three, 'Request'), new RegExp(`^Request 3 of 3 \\(sent at [\\d.]+ ms\\): GET http://localhost:${final.port}/final$`))
    assert.ok(!three.includes('Authorization'), `no credentials on the cross-host hop:\n${three}`)
    assert.equal(line(text, 'URL:'), `URL: http://${first.host}/metrics (last request: http://localhost:${final.port}/final)`)
    assert.equal(line(text, 'Response:'), 'Response: 200 OK')
    assert.equal(final.requests.at(-1)?.headers.authorization, undefined)
    assertNoSecret(text, TOKEN)
  })

  it('a redirect the target policy refuses: the hop is named, and not made', async () => {
    const { text } = await report('astray', first.host)
    assert.equal(line(text, 'Outcome:'), 'Outcome: SG_REDIRECT_FORBIDDEN (a probe without debug answers 502)')
    assert.equal(line(text, 'Answer:'), 'Answer: 302 Found, Location: http://127.0.0.2:9/elsewhere')
    assert.match(line(text, 'Redirect:'), /^Redirect: not followed: redirect to "127\.0\.0\.2:9" is not allowed for job "astray"/)
    assert.equal(text.split('\n').filter((l) => l.startsWith('Request')).length, 1, text)
  })

  it('a timeout says which phase it came in: waiting for the response head', async () => {
    const { text } = await report('slow', hanging.host)
    assert.equal(line(text, 'Outcome:'), 'Outcome: SG_UPSTREAM_TIMEOUT (a probe without debug answers 504)')
    assert.equal(line(text, 'Reason:'), 'Reason: scrape timed out after 0.3s (waiting for the response)')
    assert.equal(line(text, 'Failed in:'), 'Failed in: waiting for the response head (the request was sent)')
    assert.equal(line(text, 'Connected to:'), `Connected to: ${hanging.host}`)
    assert.equal(line(text, 'First byte (response head):'), 'First byte (response head): none')
  })

  it('a timeout says which phase it came in: a TLS handshake that never finishes', async () => {
    const { text } = await report('slow-tls', silent.host)
    assert.equal(line(text, 'Outcome:'), 'Outcome: SG_UPSTREAM_TIMEOUT (a probe without debug answers 504)')
    assert.equal(line(text, 'Failed in:'), `Failed in: the TLS handshake with ${silent.host}`)
    assert.match(line(text, 'Connect:'), / ms$/, 'TCP was up')
    assert.equal(line(text, 'TLS handshake:'), 'TLS handshake: did not finish')
    assert.equal(line(text, 'Certificate chain:'), 'Certificate chain: none seen')
  })

  it('an oauth2 token endpoint that refuses: named, with its URL masked, and no client secret', async () => {
    const before = plain.requests.length
    const { text } = await report('oauth2', plain.host)
    const url = `${refusing.url}?tenant=<secret>`
    assert.equal(line(text, 'Outcome:'), 'Outcome: SG_OAUTH2_TOKEN (a probe without debug answers 502)')
    assert.match(line(text, 'Reason:'), /^Reason: oauth2: cannot fetch token: 401 Unauthorized: "invalid_client"/)
    assert.equal(line(text, 'Failed in:'), `Failed in: waiting for the oauth2 token from ${url}`)
    assert.equal(line(text, 'Auth:'), `Auth: oauth2, token from ${url}`)
    assert.equal(line(text, 'oauth2 token:'), 'oauth2 token: not ready')
    assert.equal(line(text, 'Request:'), 'Request: none was sent')
    assert.ok(refusing.calls.some((c) => c.body.includes(CLIENT_SECRET) || basicCredentials(c.headers.authorization)?.[1] === CLIENT_SECRET),
      'the secret was sent, and echoed back')
    assertNoSecret(text, CLIENT_SECRET, TOKEN_URL_QUERY)
    assert.equal(plain.requests.length, before, 'no scrape without a token')
  })

  it('plain http with gzip: bytes on the wire and decoded (wire < decoded), whatever the caller accepts', async () => {
    const { text } = await report('plain', gzipped.host, { 'accept-encoding': 'gzip' })
    assert.equal(line(text, 'Outcome:'), 'Outcome: success (a probe without debug answers 200 with the body; this one relayed nothing)')
    assert.equal(line(text, 'Bytes on the wire:'), `Bytes on the wire: ${GZIPPED.length} (Content-Encoding: gzip)`)
    assert.equal(line(text, 'Bytes decoded:'), `Bytes decoded: ${Buffer.byteLength(BODY)}`)
    assert.ok(GZIPPED.length < Buffer.byteLength(BODY))
    assert.equal(line(text, 'Content-Encoding:'), 'Content-Encoding: gzip')
    assert.ok(!text.includes('TLS:'), 'no TLS section for plain http')
  })

  it('relays nothing of the body: the answer is the report alone', async () => {
    const before = plain.requests.length
    const { text } = await report('plain', plain.host)
    assert.equal(plain.requests.length, before + 1, 'the target was scraped')
    assert.ok(!text.includes('container_cpu_usage_seconds_total{'), 'no sample of the body')
    assert.ok(!text.includes('# HELP'), 'no line of the body')
    assert.ok(text.startsWith(`scrape-gateway debug report: job "plain", target "${plain.host}"\n`), text)
  })

  it('a proxy that cannot be reached: named as it prints, password hidden, and the connection to it', async () => {
    const { text } = await report('proxied', plain.host)
    const proxy = `http://scraper:xxxxx@127.0.0.1:${down}/`
    assert.equal(line(text, 'Outcome:'), 'Outcome: SG_PROXY (a probe without debug answers 502)')
    const reason = line(text, 'Reason:')
    assert.ok(reason.startsWith(`Reason: cannot reach proxy ${proxy}: `) && reason.includes('ECONNREFUSED'), reason)
    assert.equal(line(text, 'Failed in:'), `Failed in: connecting to 127.0.0.1:${down}`)
    assert.equal(line(text, 'Proxy:'), `Proxy: ${proxy}, forwarded (an absolute-URI request to the proxy)`)
    assert.equal(line(text, 'Proxy-Authorization:'), 'Proxy-Authorization: Basic <secret>')
    assert.equal(line(text, 'To the proxy:'), `To the proxy: ${proxy}`)
    assert.equal(line(text, 'Resolve:'), 'Resolve: none (the proxy resolves the name)')
    assertNoSecret(text, `SGDEBUG-proxy-${tag}`)
  })

  it('a proxy that no_proxy (with it, loopback) passes by is named too', async () => {
    const { text } = await report('bypassed', plain.host)
    assert.equal(line(text, 'Outcome:'), 'Outcome: success (a probe without debug answers 200 with the body; this one relayed nothing)')
    assert.equal(line(text, 'Proxy:'), `Proxy: not used: no_proxy (or loopback) sends this target direct, past http://scraper:xxxxx@127.0.0.1:${down}/`)
    assert.equal(line(text, 'Connected to:'), `Connected to: ${plain.host}`)
    assertNoSecret(text, `SGDEBUG-proxy-${tag}`)
  })

  it('reads the body through the same limits: body_size_limit fails the debug probe too', async () => {
    const { text } = await report('limited', plain.host)
    assert.equal(line(text, 'Outcome:'), 'Outcome: SG_BODY_SIZE_LIMIT (a probe without debug answers 502)')
    assert.equal(line(text, 'Failed in:'), 'Failed in: reading the body')
    assert.equal(line(text, 'Response:'), 'Response: 200 OK')
  })

  it('debug takes true or false; what is refused before a probe keeps its status and line', async () => {
    const url = (rest: string): string => `${gw.url}/probe?${rest}`
    for (const [query, status, code] of [
      [`job=plain&target=${plain.host}&debug=yes`, 400, 'SG_BAD_PARAM: debug parameter must be true or false, got "yes"'],
      [`job=plain&target=${plain.host}&debug=true&debug=true`, 400, 'SG_BAD_PARAM: debug parameter must be given once'],
      [`job=nope&target=${plain.host}&debug=true`, 400, 'SG_UNKNOWN_JOB: unknown job "nope"'],
      ['job=plain&target=127.0.0.1:1&debug=true', 403, 'SG_TARGET_FORBIDDEN: target "127.0.0.1:1" is not allowed for job "plain"'],
    ] as const) {
      const seen = await get(url(query))
      assert.equal(seen.status, status, query)
      assert.ok(seen.body.toString().startsWith(code), seen.body.toString())
    }
    const normal = await get(url(`job=plain&target=${plain.host}&debug=false`))
    assert.equal(normal.status, 200)
    assert.equal(normal.body.toString(), BODY, 'debug=false is a normal probe')
  })

  it('every probe fills a record, debug or not: the summary a status page keeps, and the leaf certificate\'s notAfter', async () => {
    const job = gw.app.gateway.job('secure')
    assert.ok(job !== undefined)
    const notAfter = (pem: string): number => Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000)

    const started = Date.now()
    const ok = new Probe(job, `localhost:${h2.port}`, 5000)
    const relayed: Buffer[] = []
    await ok.start(undefined, false)
    ok.relay(new Writable({ write (chunk: Buffer, _encoding, callback) { relayed.push(chunk); callback() } }))
    const done = await ok.done
    assert.equal(done.record, ok.record)
    const summary = done.record.summary
    assert.ok(summary !== undefined)
    assert.deepEqual({ ...summary, time: 0, durationMs: 0 }, {
      time: 0, job: 'secure', target: `localhost:${h2.port}`, status: 200, code: 'success', durationMs: 0, bytes: Buffer.byteLength(BODY),
    })
    assert.ok(summary.time >= started && summary.time <= Date.now())
    assert.ok(summary.durationMs > 0)
    assert.equal(Buffer.concat(relayed).toString(), BODY, 'relayed as a probe without debug')
    assert.equal(done.record.certNotAfter, notAfter(h2Cert.cert))
    assert.equal(done.record.debug, false)

    const failed = new Probe(job, untrusted.host, 5000)
    await assert.rejects(failed.start(undefined, false), { code: 'SG_UPSTREAM_TLS' })
    const { record } = await failed.done
    assert.deepEqual({ ...record.summary, time: 0, durationMs: 0 }, {
      time: 0, job: 'secure', target: untrusted.host, status: 502, code: 'SG_UPSTREAM_TLS', durationMs: 0, bytes: 0,
    })
    assert.equal(record.failedIn, 'tls')
    assert.equal(record.certNotAfter, notAfter(impostorCert.cert), 'the certificate the failed handshake saw')
    // Printed as data (a status page's JSON), the record shows the masked headers only.
    const printed = JSON.stringify(record.requests)
    assert.ok(printed.includes('Authorization: Bearer <secret>'), printed)
    assertNoSecret(printed, TOKEN)
  })
})

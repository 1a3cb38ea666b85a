// The inbound web config (`--web.config.file`, exporter-toolkit's format)
// against the real listener on 127.0.0.1 port 0, with certificates from a
// test PKI: TLS (versions, cipher suites, curves), every client_auth_type
// with no certificate, one from the right CA and one from another CA,
// client_allowed_sans, basic auth, the /-/healthy exception, response
// headers, the rate limit, rotation of the server certificate without a
// restart, and bad files refused with file:line:col and the key path.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import tls from 'node:tls'
import path from 'node:path'
import bcrypt from 'bcryptjs'
import { buildServer } from '../src/server.js'
import { ConfigError } from '../src/config/load.js'
import { writeConfig } from './helpers/gateway.js'
import { createCa, tmpDir, type Ca, type CertPair } from './helpers/pki.js'
import { metricsHandler, startHttpTarget, type Target } from './helpers/targets.js'
import { call, handshake, startWebGateway, type Seen, type WebGateway } from './helpers/web.js'

const BODY = 'web_config_test_up 1\n'
// Cost 4 (bcrypt's least) keeps the suite fast; the cost does not change what is tested.
const ALICE = bcrypt.hashSync('alice-pw', 4)
// htpasswd writes $2y$ hashes: the same algorithm under another name.
const BOB = bcrypt.hashSync('bob-pw', 4).replace(/^\$2b\$/, '$2y$')

let ca: Ca
let otherCa: Ca
let server: CertPair
let client: CertPair
let otherClient: CertPair
let stranger: CertPair
let target: Target
let gatewayYaml: string

before(async () => {
  ca = createCa('web-config CA')
  otherCa = createCa('web-config other CA')
  server = ca.issue({ cn: 'gateway' })
  client = ca.issue({ cn: 'prometheus', client: true, sans: ['DNS:prometheus.example', 'URI:spiffe://example/prometheus'] })
  otherClient = ca.issue({ cn: 'grafana', client: true, sans: ['DNS:grafana.example', 'IP:0:0:0:0:0:0:0:1'] })
  // The right SAN, the wrong issuer.
  stranger = otherCa.issue({ cn: 'stranger', client: true, sans: ['DNS:prometheus.example'] })
  target = await startHttpTarget(metricsHandler(BODY))
  gatewayYaml = `scrape_configs:\n  - job_name: plain\n    static_configs: [{ targets: ['${target.host}'] }]\n`
})

after(async () => {
  await target?.close()
  for (const c of [ca, otherCa]) if (c !== undefined) fs.rmSync(path.dirname(c.certFile), { recursive: true, force: true })
})

/** The gateway with `webYaml`, closed after the test. */
async function gateway (t: { after: (fn: () => Promise<void>) => void }, webYaml: string): Promise<WebGateway> {
  const gw = await startWebGateway(gatewayYaml, webYaml)
  t.after(async () => { await gw.close() })
  return gw
}

const tlsBlock = (extra = ''): string => `tls_server_config:\n  cert_file: ${server.certFile}\n  key_file: ${server.keyFile}\n${extra}`

function assertCoded (seen: Seen, status: number, line: string): void {
  assert.equal(seen.status, status, seen.error ?? seen.body)
  assert.equal(seen.body, `${line}\n`)
}

describe('TLS', () => {
  it('serves every endpoint over https with the configured certificate, and nothing over plain http', async (t) => {
    const gw = await gateway(t, tlsBlock())
    assert.match(gw.url, /^https:/)
    const probe = await call(`${gw.url}/probe?job=plain&target=${target.host}`, { ca: ca.cert })
    assert.equal(probe.status, 200, probe.body)
    assert.equal(probe.body, BODY)
    assert.equal(probe.serverCert, new X509Certificate(server.cert).fingerprint256)
    // TLS 1.2 to 1.3 by default, as in exporter-toolkit.
    assert.equal(probe.protocol, 'TLSv1.3')
    assert.equal((await call(`${gw.url}/-/ready`, { ca: ca.cert, maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2')
    const old = await call(`${gw.url}/-/ready`, { ca: ca.cert, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })
    assert.equal(old.status, 0)
    const plain = await call(gw.url.replace('https:', 'http:') + '/-/ready')
    assert.equal(plain.status, 0, 'no HTTP answer on the TLS port')
  })

  it('min_version TLS10 lets a legacy client in (OpenSSL security level 0, as for tls_config)', async (t) => {
    const gw = await gateway(t, tlsBlock('  min_version: TLS10\n'))
    const old = await call(`${gw.url}/-/ready`, { ca: ca.cert, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })
    assert.equal(old.status, 200, old.error)
    assert.equal(old.protocol, 'TLSv1.1')
  })

  it('min_version and max_version bound the protocol', async (t) => {
    const gw13 = await gateway(t, tlsBlock('  min_version: TLS13\n'))
    assert.equal((await call(`${gw13.url}/-/ready`, { ca: ca.cert, maxVersion: 'TLSv1.2' })).status, 0)
    assert.equal((await call(`${gw13.url}/-/ready`, { ca: ca.cert })).protocol, 'TLSv1.3')
    const gw12 = await gateway(t, tlsBlock('  max_version: TLS12\n'))
    assert.equal((await call(`${gw12.url}/-/ready`, { ca: ca.cert, minVersion: 'TLSv1.3' })).status, 0)
    assert.equal((await call(`${gw12.url}/-/ready`, { ca: ca.cert })).protocol, 'TLSv1.2')
  })

  it('cipher_suites: Go names pick the TLS 1.2 suites; TLS 1.3 names load and change nothing, as in Go', async (t) => {
    const gw = await gateway(t, tlsBlock('  cipher_suites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n'))
    const tls12 = await call(`${gw.url}/-/ready`, { ca: ca.cert, maxVersion: 'TLSv1.2' })
    assert.equal(tls12.cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256')
    const other = await call(`${gw.url}/-/ready`, { ca: ca.cert, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' })
    assert.equal(other.status, 0, 'no suite in common')
    // node's client prefers AES-256 in TLS 1.3; TLS_AES_128_GCM_SHA256 in the list did not restrict the server to it.
    assert.equal((await call(`${gw.url}/-/ready`, { ca: ca.cert })).cipher, 'TLS_AES_256_GCM_SHA384')
  })

  it('curve_preferences: Go names pick the key exchange groups', async (t) => {
    const gw = await gateway(t, tlsBlock('  curve_preferences: [CurveP384]\n'))
    assert.equal((await call(`${gw.url}/-/ready`, { ca: ca.cert, ecdhCurve: 'P-384' })).status, 200)
    assert.equal((await call(`${gw.url}/-/ready`, { ca: ca.cert, ecdhCurve: 'X25519' })).status, 0)
  })

  it('inline cert, key and client_ca work like the files', async (t) => {
    const indent = (pem: string): string => pem.trim().split('\n').map((l) => `    ${l}`).join('\n')
    const gw = await gateway(t, `tls_server_config:\n  cert: |\n${indent(server.cert)}\n  key: |\n${indent(server.key)}\n` +
      `  client_auth_type: RequireAndVerifyClientCert\n  client_ca: |\n${indent(ca.cert)}\n`)
    assert.equal((await call(`${gw.url}/-/ready`, { ca: ca.cert, cert: client.cert, key: client.key })).status, 200)
    assert.equal((await call(`${gw.url}/-/ready`, { ca: ca.cert })).status, 0)
  })
})

type Outcome = 200 | 403 | 'handshake'

describe('a body cut after the first byte, over TLS', () => {
  it('resets the TCP connection under the TLS session: the caller reads ECONNRESET, not a clean end', async (t) => {
    const cutting = await startHttpTarget((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      res.write('cut_metric 1\n'.repeat(500))
      setTimeout(() => { res.socket?.destroy() }, 50)
    })
    t.after(async () => { await cutting.close() })
    const gw = await startWebGateway(`scrape_configs:\n  - job_name: cut\n    static_configs: [{ targets: ['${cutting.host}'] }]\n`, tlsBlock())
    t.after(async () => { await gw.close() })
    const { port } = new URL(gw.url)
    const seen = await new Promise<{ bytes: number, end: string }>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: Number(port), ca: fs.readFileSync(ca.certFile), servername: 'localhost' })
      let bytes = 0
      let end = ''
      socket.on('data', (c: Buffer) => { bytes += c.length })
      socket.on('end', () => { end ||= 'fin' })
      socket.on('error', (err: NodeJS.ErrnoException) => { end ||= err.code ?? err.message })
      socket.on('close', () => { resolve({ bytes, end }) })
      socket.write(`GET /probe?job=cut&target=${encodeURIComponent(cutting.host)} HTTP/1.1\r\nHost: gateway\r\n\r\n`)
    })
    assert.ok(seen.bytes > 0, `the reply had started (${seen.end})`)
    assert.equal(seen.end, 'ECONNRESET')
  })
})

describe('client_auth_type', () => {
  // What each policy does with no certificate, one from the right CA, one from another CA.
  const table: Array<[string, Outcome, Outcome, Outcome]> = [
    ['NoClientCert', 200, 200, 200],
    ['RequestClientCert', 200, 200, 200],
    ['RequireAnyClientCert', 403, 200, 200],
    ['VerifyClientCertIfGiven', 200, 200, 403],
    ['RequireAndVerifyClientCert', 'handshake', 200, 'handshake'],
  ]
  for (const [type, none, right, other] of table) {
    it(`${type}: no certificate → ${none}, the right CA's → ${right}, another CA's → ${other}`, async (t) => {
      const gw = await gateway(t, tlsBlock(`  client_auth_type: ${type}\n${type === 'NoClientCert' ? '' : `  client_ca_file: ${ca.certFile}\n`}`))
      const url = `${gw.url}/probe?job=plain&target=${target.host}`
      const cases: Array<[Outcome, CertPair | undefined]> = [[none, undefined], [right, client], [other, stranger]]
      for (const [want, cert] of cases) {
        const seen = await call(url, { ca: ca.cert, cert: cert?.cert, key: cert?.key })
        const who = cert === undefined ? 'no certificate' : cert.certFile
        // A 403 is the request's refusal: the handshake itself went through.
        if (want !== 'handshake') assert.equal(await handshake(url, { ca: ca.cert, cert: cert?.cert, key: cert?.key }), 'accepted', who)
        if (want === 200) {
          assert.equal(seen.status, 200, `${who}: ${seen.error ?? seen.body}`)
          assert.equal(seen.body, BODY)
        } else if (want === 403) {
          assert.equal(seen.status, 403, `${who}: ${seen.error ?? seen.body}`)
          assert.match(seen.body, /^SG_CLIENT_CERT: /)
        } else {
          assert.equal(seen.status, 0, `${who}: the handshake must fail, got ${seen.status}`)
          // OpenSSL refuses a missing certificate with its alert; node refuses one that does not
          // verify right after the handshake, closing the connection before anything else is sent.
          const outcome = cert === undefined ? 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' : 'closed without a session ticket'
          assert.equal(await handshake(url, { ca: ca.cert, cert: cert?.cert, key: cert?.key }), outcome, who)
        }
      }
    })
  }

  it('the refusals name the policy and the certificate', async (t) => {
    // RequireClientCert: exporter-toolkit's old name of RequireAnyClientCert.
    const any = await gateway(t, tlsBlock(`  client_auth_type: RequireClientCert\n  client_ca_file: ${ca.certFile}\n`))
    assertCoded(await call(`${any.url}/-/ready`, { ca: ca.cert }), 403,
      'SG_CLIENT_CERT: client_auth_type RequireAnyClientCert requires a client certificate, and the client sent none')
    // The policy is the connection's, as in Go's handshake: /-/healthy too.
    assert.equal((await call(`${any.url}/-/healthy`, { ca: ca.cert })).status, 403)
    const ifGiven = await gateway(t, tlsBlock(`  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ${ca.certFile}\n`))
    const seen = await call(`${ifGiven.url}/-/ready`, { ca: ca.cert, cert: stranger.cert, key: stranger.key })
    assert.equal(seen.status, 403)
    assert.match(seen.body, /^SG_CLIENT_CERT: client_auth_type VerifyClientCertIfGiven: the client certificate "CN=stranger" did not verify: [A-Z_]+\n$/)
  })

  it('client_allowed_sans: a certificate needs one of the names, exactly', async (t) => {
    const gw = await gateway(t, tlsBlock(`  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${ca.certFile}\n  client_allowed_sans: [prometheus.example, '::1']\n`))
    const url = `${gw.url}/-/ready`
    assert.equal((await call(url, { ca: ca.cert, cert: client.cert, key: client.key })).status, 200)
    // IP SANs compare in Go's form (`::1`), whatever form the certificate was written in.
    assert.equal((await call(url, { ca: ca.cert, cert: otherClient.cert, key: otherClient.key })).status, 200)
    const onlyDns = await gateway(t, tlsBlock(`  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${ca.certFile}\n  client_allowed_sans: [prometheus.example]\n`))
    assertCoded(await call(`${onlyDns.url}/-/ready`, { ca: ca.cert, cert: otherClient.cert, key: otherClient.key }), 403,
      'SG_CLIENT_CERT: the client certificate "CN=grafana" has no subject alternative name that client_allowed_sans allows (it has grafana.example, ::1)')
    // RequireAnyClientCert checks the names of a certificate it does not verify, as Go does.
    const anyCert = await gateway(t, tlsBlock('  client_auth_type: RequireAnyClientCert\n  client_allowed_sans: [prometheus.example]\n'))
    assert.equal((await call(`${anyCert.url}/-/ready`, { ca: ca.cert, cert: stranger.cert, key: stranger.key })).status, 200)
    assert.equal((await call(`${anyCert.url}/-/ready`, { ca: ca.cert, cert: otherClient.cert, key: otherClient.key })).status, 403)
    const bare = ca.issue({ cn: 'no names', client: true })
    assertCoded(await call(`${anyCert.url}/-/ready`, { ca: ca.cert, cert: bare.cert, key: bare.key }), 403,
      'SG_CLIENT_CERT: the client certificate "CN=no names" has no subject alternative name that client_allowed_sans allows (it has none)')
  })
})

describe('basic auth', () => {
  const users = `basic_auth_users:\n  alice: ${ALICE}\n  bob: ${BOB}\n`

  it('right, wrong, missing and unknown-user credentials, over TLS', async (t) => {
    const gw = await gateway(t, tlsBlock() + users)
    const probe = `${gw.url}/probe?job=plain&target=${target.host}`
    for (const auth of ['alice:alice-pw', 'bob:bob-pw', 'alice:alice-pw']) {
      const seen = await call(probe, { ca: ca.cert, auth })
      assert.equal(seen.status, 200, `${auth}: ${seen.body}`)
      assert.equal(seen.body, BODY)
    }
    const missing = await call(probe, { ca: ca.cert })
    assertCoded(missing, 401, 'SG_UNAUTHORIZED: this endpoint needs basic auth (web config basic_auth_users)')
    assert.equal(missing.headers['www-authenticate'], 'Basic')
    for (const auth of ['alice:wrong', 'alice:wrong', 'mallory:alice-pw', 'bob:alice-pw', 'alice:', 'alice']) {
      const seen = await call(probe, { ca: ca.cert, auth })
      const want = auth === 'alice' ? 'this endpoint needs basic auth (web config basic_auth_users)' : 'wrong username or password'
      assertCoded(seen, 401, `SG_UNAUTHORIZED: ${want}`)
      assert.equal(seen.headers['www-authenticate'], 'Basic')
    }
    // Another scheme, or base64 that does not parse, is no basic auth.
    assert.equal((await call(probe, { ca: ca.cert, headers: { authorization: 'Bearer alice-pw' } })).status, 401)
    assert.equal((await call(probe, { ca: ca.cert, headers: { authorization: 'Basic !!!' } })).status, 401)
    assert.equal((await call(probe, { ca: ca.cert, headers: { authorization: `basic ${Buffer.from('alice:alice-pw').toString('base64')}` } })).status, 200)
  })

  it('covers every endpoint but /-/healthy, unknown routes included', async (t) => {
    const gw = await gateway(t, users)
    assert.match(gw.url, /^http:/, 'basic auth without TLS, as exporter-toolkit allows')
    for (const method of ['GET', 'HEAD']) {
      const seen = await call(`${gw.url}/-/healthy`, { method })
      assert.equal(seen.status, 200, method)
    }
    for (const url of ['/', '/reports/0-1', '/-/ready', '/metrics', '/config', '/sd', '/probe?job=plain&target=x', '/no-such-route', '/-/healthy/', '/-/healthyx']) {
      assert.equal((await call(`${gw.url}${url}`)).status, 401, url)
    }
    assert.equal((await call(`${gw.url}/-/reload`, { method: 'POST' })).status, 401)
    assert.equal((await call(`${gw.url}/no-such-route`, { auth: 'alice:alice-pw' })).status, 404)
    assert.equal((await call(`${gw.url}/config`, { auth: 'alice:alice-pw' })).status, 200)
  })

  it('a password past bcrypt\'s 72 bytes is refused, not truncated', async (t) => {
    const long = 'x'.repeat(72)
    const gw = await gateway(t, `basic_auth_users:\n  carol: ${bcrypt.hashSync(long, 4)}\n`)
    assert.equal((await call(`${gw.url}/-/ready`, { auth: `carol:${long}` })).status, 200)
    assert.equal((await call(`${gw.url}/-/ready`, { auth: `carol:${long}y` })).status, 401)
  })

  it('more refused pairs than the cache holds: still refused, the right pair still passes', async (t) => {
    const gw = await gateway(t, users)
    assert.equal((await call(`${gw.url}/-/ready`, { auth: 'alice:alice-pw' })).status, 200)
    for (let i = 0; i < 120; i++) assert.equal((await call(`${gw.url}/-/ready`, { auth: `alice:guess-${i}` })).status, 401)
    assert.equal((await call(`${gw.url}/-/ready`, { auth: 'alice:guess-0' })).status, 401)
    assert.equal((await call(`${gw.url}/-/ready`, { auth: 'alice:alice-pw' })).status, 200)
  })

  it('concurrent first requests with one pair all pass', async (t) => {
    const gw = await gateway(t, users)
    const seen = await Promise.all(Array.from({ length: 20 }, async () => call(`${gw.url}/-/ready`, { auth: 'bob:bob-pw' })))
    assert.deepEqual(seen.map((s) => s.status), Array(20).fill(200))
  })
})

describe('http_server_config.headers', () => {
  it('are on every response: routes, the relayed probe, errors, 401s and /-/healthy', async (t) => {
    const gw = await gateway(t, `${tlsBlock()}http_server_config:
  headers:
    Strict-Transport-Security: max-age=31536000
    X-Frame-Options: deny
    X-Content-Type-Options: nosniff
    Content-Security-Policy: ""
basic_auth_users:
  alice: ${ALICE}
`)
    const urls: Array<[string, string | undefined, number]> = [
      [`/probe?job=plain&target=${target.host}`, 'alice:alice-pw', 200],
      ['/probe?job=nope&target=x', 'alice:alice-pw', 400],
      ['/metrics', 'alice:alice-pw', 200],
      ['/metrics', undefined, 401],
      ['/-/healthy', undefined, 200],
      ['/nowhere', 'alice:alice-pw', 404],
    ]
    for (const [url, auth, status] of urls) {
      const seen = await call(`${gw.url}${url}`, { ca: ca.cert, auth })
      assert.equal(seen.status, status, url)
      assert.equal(seen.headers['strict-transport-security'], 'max-age=31536000', url)
      assert.equal(seen.headers['x-frame-options'], 'deny', url)
      assert.equal(seen.headers['x-content-type-options'], 'nosniff', url)
      assert.equal(seen.headers['content-security-policy'], undefined, `${url}: a blank value is not sent`)
    }
  })
})

describe('rate_limit', () => {
  it('refuses with 429 past the burst; /-/healthy is not counted', async (t) => {
    const gw = await gateway(t, 'rate_limit:\n  interval: 1h\n  burst: 2\n')
    assert.equal((await call(`${gw.url}/-/ready`)).status, 200)
    assert.equal((await call(`${gw.url}/metrics`)).status, 200)
    const third = await call(`${gw.url}/-/ready`)
    assertCoded(third, 429, 'SG_RATE_LIMITED: too many requests (web config rate_limit), retry later')
    assert.equal(third.headers['retry-after'], '3600')
    assert.equal((await call(`${gw.url}/-/healthy`)).status, 200)
    // yaml.v2 reads an integer time.Duration as nanoseconds.
    const ns = await gateway(t, 'rate_limit:\n  interval: 3600000000000\n  burst: 1\n')
    assert.equal((await call(`${ns.url}/-/ready`)).status, 200)
    assert.equal((await call(`${ns.url}/-/ready`)).status, 429)
  })
})

describe('rotation of the server certificate', () => {
  it('new connections get the rewritten certificate, with no restart; a half-written pair keeps the old one', async (t) => {
    const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256
    const dir = tmpDir('sg-web-rotation-')
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
    const certFile = path.join(dir, 'server.crt')
    const keyFile = path.join(dir, 'server.key')
    const install = (pair: CertPair): void => {
      fs.writeFileSync(keyFile, pair.key)
      fs.writeFileSync(certFile, pair.cert)
    }
    const first = ca.issue({ cn: 'gateway one' })
    const second = ca.issue({ cn: 'gateway two' })
    const third = ca.issue({ cn: 'gateway three' })
    install(first)
    // Relative paths resolve against the web config's directory, as in exporter-toolkit.
    fs.writeFileSync(path.join(dir, 'web.yml'), 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n')
    const app = await buildServer({ configFile: writeConfig(gatewayYaml), webConfigFile: path.join(dir, 'web.yml'), logLevel: false })
    t.after(async () => { await app.close() })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const url = `https://127.0.0.1:${(app.server.address() as { port: number }).port}/-/ready`

    assert.equal((await call(url, { ca: ca.cert })).serverCert, fingerprint(first.cert))
    install(second)
    assert.equal((await call(url, { ca: ca.cert })).serverCert, fingerprint(second.cert))
    assert.equal((await call(url, { ca: ca.cert })).serverCert, fingerprint(second.cert))
    // The key of the next pair, its certificate not yet written: the pair does not match, the old one serves.
    fs.writeFileSync(keyFile, third.key)
    const between = await call(url, { ca: ca.cert })
    assert.equal(between.status, 200)
    assert.equal(between.serverCert, fingerprint(second.cert))
    fs.writeFileSync(certFile, third.cert)
    assert.equal((await call(url, { ca: ca.cert })).serverCert, fingerprint(third.cert))
    // A file gone during a swap: the certificate in use stays.
    fs.rmSync(certFile)
    assert.equal((await call(url, { ca: ca.cert })).serverCert, fingerprint(third.cert))
    install(first)
    assert.equal((await call(url, { ca: ca.cert })).serverCert, fingerprint(first.cert))
  })
})

describe('a bad web config is refused at start, at file:line:col with the key path', () => {
  /** Builds the server with `webYaml` and returns the ConfigError's message, `F` standing for the web config's path. */
  async function refused (webYaml: string, files: Record<string, string> = {}): Promise<string> {
    const configFile = writeConfig(gatewayYaml)
    const dir = path.dirname(configFile)
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
    const webConfigFile = path.join(dir, 'web.yml')
    fs.writeFileSync(webConfigFile, webYaml)
    const err: unknown = await buildServer({ configFile, webConfigFile, logLevel: false }).then(
      async (app) => { await app.close(); return undefined },
      (e: unknown) => e
    )
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`)
    return err.message.replaceAll(webConfigFile, 'F').replaceAll(dir, 'D')
  }

  const cases: Array<[string, string, string, Record<string, string>?]> = [
    ['unknown top-level key', 'tls_server_confg: {}\n', 'F:1:1: tls_server_confg: field tls_server_confg not found in type web.Config'],
    ['unknown TLS key', 'tls_server_config:\n  cert_fil: x\n', 'F:2:3: tls_server_config.cert_fil: field cert_fil not found in type web.TLSConfig'],
    ['unknown http key', 'http_server_config:\n  http3: true\n', 'F:2:3: http_server_config.http3: field http3 not found in type web.HTTPConfig'],
    ['a wrong type', 'http_server_config:\n  http2: yes please\n', 'F:2:10: http_server_config.http2: cannot unmarshal !!str `yes please` into bool'],
    ['YAML that does not parse', 'tls_server_config:\n  cert_file: [\n', 'F:3:1: yaml: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['a key without a certificate', 'tls_server_config:\n  key_file: server.key\n', 'F:2:3: tls_server_config: missing one of cert or cert_file'],
    ['a certificate without a key', 'tls_server_config:\n  cert_file: server.crt\n', 'F:2:3: tls_server_config: missing one of key or key_file'],
    ['a certificate file that does not exist', 'tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n',
      'F:2:14: tls_server_config.cert_file: failed to read cert_file (D/nope.crt): open D/nope.crt: no such file or directory'],
    ['both cert and cert_file', 'tls_server_config:\n  cert: x\n  cert_file: y\n  key: z\n',
      'F:3:14: tls_server_config.cert_file: at most one of cert and cert_file must be configured'],
    ['an unknown client_auth_type', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireSomeCert\n',
      'F:4:21: tls_server_config.client_auth_type: invalid ClientAuth: RequireSomeCert', { a: '', b: '' }],
    ['an unknown TLS version', 'tls_server_config:\n  min_version: TLS14\n', 'F:2:16: tls_server_config.min_version: unknown TLS version: TLS14'],
    ['an unknown cipher', 'tls_server_config:\n  cipher_suites:\n    - TLS_RSA_WITH_RC4_128_SHA\n',
      'F:3:7: tls_server_config.cipher_suites[0]: unknown cipher: TLS_RSA_WITH_RC4_128_SHA'],
    ['an unknown curve', 'tls_server_config:\n  curve_preferences: [CurveP224]\n', 'F:2:23: tls_server_config.curve_preferences[0]: unknown curve: CurveP224'],
    ['a header that cannot be set', 'http_server_config:\n  headers:\n    Server: nginx\n',
      'F:3:5: http_server_config.headers.Server: HTTP header "Server" can not be configured'],
    ['a header value out of its list', 'http_server_config:\n  headers:\n    X-Frame-Options: DENY\n',
      'F:3:22: http_server_config.headers.X-Frame-Options: invalid value for X-Frame-Options. Expected one of: ["deny" "sameorigin"], but got: "DENY"'],
    ['a password that is not a bcrypt hash', 'basic_auth_users:\n  alice: alice-pw\n',
      'F:2:10: basic_auth_users.alice: crypto/bcrypt: hashedSecret too short to be a bcrypted password'],
    ['a bcrypt cost out of range', `basic_auth_users:\n  alice: "${ALICE.replace('$04$', '$03$')}"\n`,
      'F:2:10: basic_auth_users.alice: crypto/bcrypt: cost 3 is outside allowed range (4,31)'],
    ['a rate_limit interval that does not parse', 'rate_limit:\n  interval: 1d\n  burst: 1\n',
      'F:2:13: rate_limit.interval: time: unknown unit "d" in duration "1d"'],
    ['a rate_limit without a burst', 'rate_limit:\n  interval: 1s\n',
      'F:2:3: rate_limit.burst: rate_limit.burst must be at least 1 when rate_limit.interval is set'],
    ['a rate_limit interval without a unit', 'rate_limit:\n  interval: "1.5"\n  burst: 1\n',
      'F:2:13: rate_limit.interval: time: missing unit in duration "1.5"'],
    ['a negative rate_limit interval', 'rate_limit:\n  interval: -1.5s\n  burst: 1\n',
      'F:2:13: rate_limit.interval: rate_limit.interval must not be negative (0 turns the rate limit off)'],
    ['an unknown rate_limit key', 'rate_limit:\n  period: 1s\n', 'F:2:3: rate_limit.period: field period not found in type web.RateLimiterConfig'],
    ['a header value with a control character', 'http_server_config:\n  headers:\n    Content-Security-Policy: "a\\x01b"\n',
      'F:3:30: http_server_config.headers.Content-Security-Policy: Invalid character in header content ["Content-Security-Policy"]'],
    ['a bcrypt hash without its $', `basic_auth_users:\n  alice: "${ALICE.slice(1)}x"\n`,
      'F:2:10: basic_auth_users.alice: crypto/bcrypt: bcrypt hashes must start with \'$\', but hashedSecret started with \'2\''],
    ['a bcrypt version from the future', `basic_auth_users:\n  alice: "${ALICE.replace('$2b$', '$3b$')}"\n`,
      'F:2:10: basic_auth_users.alice: crypto/bcrypt: bcrypt algorithm version \'3\' requested is newer than current version \'2\''],
    ['a bcrypt cost that is not a number', `basic_auth_users:\n  alice: "${ALICE.replace('$04$', '$x4$')}"\n`,
      'F:2:10: basic_auth_users.alice: strconv.Atoi: parsing "x4": invalid syntax'],
    ['a bcrypt hash bcryptjs cannot check', `basic_auth_users:\n  alice: "${ALICE.replace('$2b$', '$2x$')}"\n`,
      'F:2:10: basic_auth_users.alice: not a bcrypt hash scrape-gateway can check: want $2a$, $2b$ or $2y$, a two-digit cost, and 53 characters of salt and hash'],
  ]
  for (const [what, yaml, want, files] of cases) {
    it(what, async () => {
      assert.equal(await refused(yaml, files), want)
    })
  }

  it('certificate material: a key that does not match, a client CA without a policy, SANs without a required certificate, a cipher list Go\'s HTTP/2 refuses', async () => {
    const tls = `tls_server_config:\n  cert_file: ${server.certFile}\n`
    assert.equal(await refused(`${tls}  key_file: ${client.keyFile}\n`),
      'F:2:14: tls_server_config.cert_file: failed to load X509KeyPair: tls: private key does not match public key')
    assert.equal(await refused(`${tls}  key_file: ${server.keyFile}\n  client_ca_file: ${ca.certFile}\n`),
      'F:4:19: tls_server_config.client_ca_file: client CA\'s have been configured without a Client Auth Policy')
    assert.equal(await refused(`${tls}  key_file: ${server.keyFile}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${server.keyFile}\n`),
      'F:5:19: tls_server_config.client_ca_file: the client CA contains no PEM certificate that parses')
    assert.equal(await refused(`${tls}  key_file: ${server.keyFile}\n  client_auth_type: VerifyClientCertIfGiven\n  client_allowed_sans: [a]\n`),
      'F:5:24: tls_server_config.client_allowed_sans: client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert')
    assert.equal(await refused(`${tls}  key_file: ${server.keyFile}\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n`),
      'F:4:18: tls_server_config.cipher_suites: http2: TLSConfig.CipherSuites is missing an HTTP/2-required AES_128_GCM_SHA256 cipher ' +
      '(need at least one of TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)')
    assert.equal(await refused(`${tls}  key_file: ${server.keyFile}\n  min_version: TLS13\n  max_version: TLS12\n`),
      'F:5:16: tls_server_config.max_version: max_version must be greater than or equal to min_version')
  })

  it('a web config file that cannot be read', async () => {
    const configFile = writeConfig(gatewayYaml)
    const missing = path.join(path.dirname(configFile), 'missing.yml')
    await assert.rejects(buildServer({ configFile, webConfigFile: missing, logLevel: false }),
      { name: 'ConfigError', message: `${missing}: cannot read web config file: open ${missing}: no such file or directory` })
  })

  it('an empty web config is no TLS and no auth, as in exporter-toolkit', async (t) => {
    const gw = await gateway(t, '')
    assert.match(gw.url, /^http:/)
    assert.equal((await call(`${gw.url}/-/ready`)).status, 200)
  })
})

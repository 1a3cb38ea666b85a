// tls_config end to end: what loads and what is refused (with Prometheus's
// messages, file:line:col and key path), then real TLS targets on 127.0.0.1:0
// with certificates made by a test CA: custom CAs, mTLS, server_name,
// min/max_version, and every handshake failure with its cause in words.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parse as parseYaml } from 'yaml'
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import type { TLSSocket } from 'node:tls'
import { Agent } from 'undici'
import { buildServer } from '../src/server.js'
import { describeTlsError } from '../plugins/tls/errors.js'
import { get, type Seen } from './helpers/client.js'
import { loadError } from './helpers/config-errors.js'
import { startForwardProxy } from './helpers/forward-proxy.js'
import { startGateway, writeConfig, type Gateway } from './helpers/gateway.js'
import { createCa, tmpDir, type Ca, type CertPair } from './helpers/pki.js'
import { exposition, metricsHandler, startHttpsTarget, startHttpTarget, type HttpsTargetOptions, type Target } from './helpers/targets.js'

const BODY = exposition(200)
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

/** What a target saw of each TLS connection it served a request on. */
interface TlsSeen {
  protocol: string | null
  /** The CN of the client certificate, if one was sent. */
  clientCert: string | undefined
  servername: string | false | null
}

async function tlsTarget (opts: HttpsTargetOptions): Promise<Target & { seen: TlsSeen[] }> {
  const seen: TlsSeen[] = []
  const serve = metricsHandler(BODY, { contentType: OPENMETRICS })
  const target = await startHttpsTarget(opts, (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket
    const cn = socket.getPeerCertificate().subject?.CN
    seen.push({ protocol: socket.getProtocol(), clientCert: typeof cn === 'string' ? cn : undefined, servername: socket.servername })
    serve(req, res)
  })
  return Object.assign(target, { seen })
}

function probe (gw: Gateway, job: string, target: string): Promise<Seen> {
  return get(`${gw.url}/probe?job=${encodeURIComponent(job)}&target=${encodeURIComponent(target)}`)
}

function assertOk (seen: Seen): void {
  assert.equal(seen.status, 200, seen.body.toString())
  assert.equal(seen.body.toString(), BODY)
  assert.equal(seen.headers['content-type'], OPENMETRICS)
}

/** Asserts a one-line coded error and returns its reason (between `CODE: ` and ` [job=…]`). */
function reason (seen: Seen, status: number, code: string): string {
  const text = seen.body.toString()
  assert.equal(seen.status, status, text)
  assert.ok(text.startsWith(`${code}: `), `expected ${code}: ${text}`)
  const end = text.lastIndexOf(' [job=')
  assert.ok(end > 0, text)
  return text.slice(code.length + 2, end)
}

/** The reason of a 502 SG_UPSTREAM_TLS; asserts it starts with `TLS handshake failed: ` + `words`. */
function tlsReason (seen: Seen, words: string): string {
  const r = reason(seen, 502, 'SG_UPSTREAM_TLS')
  assert.ok(r.startsWith(`TLS handshake failed: ${words}`), `expected "${words}" in: ${r}`)
  return r
}

/** A self-signed server certificate for 127.0.0.1 (the test PKI only issues from a CA). */
function selfSignedCert (dir: string, cn: string): CertPair {
  const cnf = path.join(dir, 'self-signed.cnf')
  const certFile = path.join(dir, 'self-signed.crt')
  const keyFile = path.join(dir, 'self-signed.key')
  fs.writeFileSync(cnf, `[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = ${cn}\n[leaf]\nbasicConstraints = critical, CA:FALSE\n` +
    'keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n')
  execFileSync('openssl', ['req', '-config', cnf, '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-extensions', 'leaf'], { stdio: ['ignore', 'pipe', 'pipe'] })
  return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8'), certFile, keyFile }
}

function iso (date: string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function job (name: string, tls: string, extra = ''): string {
  return `  - job_name: ${name}\n    scheme: https\n    tls_config: { ${tls} }\n    allowed_targets: ['127.0.0.1:*']\n${extra}`
}

describe('tls_config at load', () => {
  let ca: Ca
  let client: CertPair
  let other: CertPair
  let dir: string

  before(() => {
    ca = createCa('tls load CA')
    client = ca.issue({ cn: 'scraper', client: true })
    other = ca.issue({ cn: 'someone else', client: true })
    dir = tmpDir('sg-tls-load-')
  })
  after(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  /** Loads a job whose tls_config block is `lines` and expects `message` at line:col and `key`. */
  async function refused (lines: string[], at: [number, number], key: string, message: string): Promise<void> {
    const { file, err } = await loadError(['scrape_configs:', '  - job_name: a', '    scheme: https', '    tls_config:', ...lines.map((l) => `      ${l}`), ''].join('\n'), fs.mkdtempSync(path.join(dir, 'cfg-')))
    assert.equal(err.message, `${file}:${at[0]}:${at[1]}: scrape_configs[0].tls_config.${key}: ${message}`)
  }

  it('refuses an unknown TLS version, and max_version below min_version', async () => {
    await refused(['min_version: TLS14'], [5, 20], 'min_version', 'unknown TLS version: TLS14')
    await refused(['max_version: tls12'], [5, 20], 'max_version', 'unknown TLS version: tls12')
    await refused(['min_version: ""'], [5, 20], 'min_version', 'unknown TLS version: ')
    await refused(['min_version: TLS13', 'max_version: TLS12'], [6, 20], 'max_version',
      'tls_config.max_version must be greater than or equal to tls_config.min_version if both are specified')
  })

  it('applies TLSConfig.Validate: one source each, cert and key in pairs', async () => {
    await refused([`cert_file: ${client.certFile}`], [5, 18], 'cert_file',
      'exactly one of key or key_file must be configured when a client certificate is configured')
    await refused([`key_file: ${client.keyFile}`], [5, 17], 'key_file',
      'exactly one of cert or cert_file must be configured when a client key is configured')
    await refused(['cert: x', `cert_file: ${client.certFile}`, `key_file: ${client.keyFile}`], [6, 18], 'cert_file',
      'at most one of cert, cert_file & cert_ref must be configured')
    await refused([`cert_file: ${client.certFile}`, 'key: x', `key_file: ${client.keyFile}`], [7, 17], 'key_file',
      'at most one of key and key_file must be configured')
    await refused(['cert_ref: c', 'key_ref: k'], [5, 17], 'cert_ref',
      'cert_ref needs a secret manager, which scrape-gateway (like Prometheus) does not have; use cert or cert_file')
  })

  it('refuses client cert and key files that cannot be read or used, naming the files', async () => {
    const missing = path.join(dir, 'missing.crt')
    await refused([`cert_file: ${missing}`, `key_file: ${client.keyFile}`], [5, 18], 'cert_file',
      `unable to read specified client cert: unable to read file ${missing}: open ${missing}: no such file or directory`)
    await refused([`cert_file: ${client.certFile}`, `key_file: ${missing}`], [6, 17], 'key_file',
      `unable to read specified client key: unable to read file ${missing}: open ${missing}: no such file or directory`)

    const pair = (c: string, k: string): string => `unable to use specified client cert (file ${c}) & key (file ${k}): `
    await refused([`cert_file: ${client.certFile}`, `key_file: ${other.keyFile}`], [5, 18], 'cert_file',
      pair(client.certFile, other.keyFile) + 'tls: private key does not match public key')
    const notPem = path.join(dir, 'not-pem.crt')
    fs.writeFileSync(notPem, 'not a certificate\n')
    await refused([`cert_file: ${notPem}`, `key_file: ${client.keyFile}`], [5, 18], 'cert_file',
      pair(notPem, client.keyFile) + 'tls: failed to find any PEM data in certificate input')
    await refused([`cert_file: ${client.keyFile}`, `key_file: ${client.certFile}`], [5, 18], 'cert_file',
      pair(client.keyFile, client.certFile) + 'tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched')
    await refused([`cert_file: ${client.certFile}`, `key_file: ${client.certFile}`], [5, 18], 'cert_file',
      pair(client.certFile, client.certFile) + 'tls: found a certificate rather than a key in the PEM for the private key')
    // Inline material is described as `inline`, as prometheus/common does.
    await refused([`cert: ${JSON.stringify(client.cert)}`, `key: ${JSON.stringify(other.key)}`], [5, 13], 'cert',
      'unable to use specified client cert (inline) & key (inline): tls: private key does not match public key')
  })

  it('refuses a non-boolean enable_http2', async () => {
    const { file, err } = await loadError('scrape_configs:\n  - job_name: a\n    enable_http2: "yes"\n', fs.mkdtempSync(path.join(dir, 'cfg-')))
    assert.equal(err.message, `${file}:3:19: scrape_configs[0].enable_http2: cannot unmarshal !!str \`yes\` into bool`)
  })

  it('loads every key and shows them in /config, never the PEM or the key', async (t) => {
    const file = writeConfig(`
scrape_configs:
  - job_name: files
    scheme: https
    tls_config:
      ca_file: ${ca.certFile}
      cert_file: ${client.certFile}
      key_file: ${client.keyFile}
      server_name: metrics.example
      min_version: TLS12
      max_version: TLS13
  - job_name: inline
    scheme: https
    enable_http2: false
    tls_config:
      ca: ${JSON.stringify(ca.cert)}
      cert: ${JSON.stringify(client.cert)}
      key: ${JSON.stringify(client.key)}
      insecure_skip_verify: true
  - job_name: plain
`, fs.mkdtempSync(path.join(dir, 'cfg-')))
    const app = await buildServer({ configFile: file, logLevel: false })
    t.after(async () => { await app.close() })
    const text = (await app.inject('/config')).body
    const jobs = (parseYaml(text) as { scrape_configs: Array<Record<string, unknown>> }).scrape_configs
    assert.deepEqual(jobs[0]?.tls_config, {
      ca_file: ca.certFile,
      cert_file: client.certFile,
      key_file: client.keyFile,
      server_name: 'metrics.example',
      insecure_skip_verify: false,
      min_version: 'TLS12',
      max_version: 'TLS13',
    })
    assert.equal(jobs[0]?.enable_http2, true)
    assert.deepEqual(jobs[1]?.tls_config, { ca: '<inline PEM>', cert: '<inline PEM>', key: '<secret>', insecure_skip_verify: true })
    assert.equal(jobs[1]?.enable_http2, false)
    assert.equal(jobs[2]?.tls_config, undefined)
    assert.equal(jobs[2]?.enable_http2, true, 'Prometheus\'s default')
    assert.ok(!text.includes('PRIVATE KEY') && !text.includes('BEGIN CERTIFICATE'), text)
  })
})

describe('probes over TLS', () => {
  let ca: Ca
  let otherCa: Ca
  let serverCert: CertPair
  let client: CertPair
  let files: string

  before(() => {
    ca = createCa('tls test CA')
    otherCa = createCa('another CA')
    serverCert = ca.issue({ cn: 'target' })
    client = ca.issue({ cn: 'scraper', client: true })
    files = tmpDir('sg-tls-')
  })
  after(() => { fs.rmSync(files, { recursive: true, force: true }) })

  it('trusts a custom CA from ca_file and inline ca, and by nothing else', async (t) => {
    const target = await tlsTarget(serverCert)
    const gw = await startGateway(`
scrape_configs:
${job('file', `ca_file: ${ca.certFile}`)}${job('inline', `ca: ${JSON.stringify(ca.cert)}`)}${job('bundle', `ca: ${JSON.stringify(otherCa.cert + ca.cert)}`)}  - job_name: system
    scheme: https
    allowed_targets: ['127.0.0.1:*']
`)
    t.after(async () => { await target.close(); await gw.close() })
    assertOk(await probe(gw, 'file', target.host))
    assertOk(await probe(gw, 'inline', target.host))
    assertOk(await probe(gw, 'bundle', target.host))
    const r = tlsReason(await probe(gw, 'system', target.host), 'certificate signed by unknown authority')
    assert.ok(r.includes('"CN=target" was issued by "CN=tls test CA", which is not in Node.js\'s bundled root CAs'), r)
    assert.equal(target.seen.length, 3)
  })

  it('names the unknown authority and the CA file it is not in', async (t) => {
    const foreign = otherCa.issue({ cn: 'foreign target' })
    const target = await tlsTarget(foreign)
    const selfSigned = await tlsTarget(selfSignedCert(files, 'self-signed target'))
    const gw = await startGateway(`scrape_configs:\n${job('mine', `ca_file: ${ca.certFile}`)}`)
    t.after(async () => { await target.close(); await selfSigned.close(); await gw.close() })
    const r = tlsReason(await probe(gw, 'mine', target.host), 'certificate signed by unknown authority: ')
    assert.ok(r.includes(`the target's certificate "CN=foreign target" was issued by "CN=another CA", which is not in tls_config.ca_file ${ca.certFile}`), r)
    const s = tlsReason(await probe(gw, 'mine', selfSigned.host), 'certificate signed by unknown authority: ')
    assert.ok(s.includes(`the target's certificate "CN=self-signed target" is self-signed and not in tls_config.ca_file ${ca.certFile}`), s)
    assert.equal(target.seen.length + selfSigned.seen.length, 0, 'no request over an unverified connection')
  })

  it('sends the client certificate to a target that requires one (TLS 1.3 and 1.2), and says so when there is none', async (t) => {
    const mtls13 = await tlsTarget({ ...serverCert, ca: ca.cert, requestCert: true })
    const mtls12 = await tlsTarget({ ...serverCert, ca: ca.cert, requestCert: true, maxVersion: 'TLSv1.2' })
    const stranger = otherCa.issue({ cn: 'stranger', client: true })
    const gw = await startGateway(`
scrape_configs:
${job('mtls', `ca_file: ${ca.certFile}, cert_file: ${client.certFile}, key_file: ${client.keyFile}`)}\
${job('inline', `ca_file: ${ca.certFile}, cert: ${JSON.stringify(client.cert)}, key: ${JSON.stringify(client.key)}`)}\
${job('none', `ca_file: ${ca.certFile}`)}\
${job('stranger', `ca_file: ${ca.certFile}, cert_file: ${stranger.certFile}, key_file: ${stranger.keyFile}`)}`)
    t.after(async () => { await mtls13.close(); await mtls12.close(); await gw.close() })

    for (const target of [mtls13, mtls12]) {
      assertOk(await probe(gw, 'mtls', target.host))
      assertOk(await probe(gw, 'inline', target.host))
      assert.deepEqual(target.seen.map((s) => s.clientCert), ['scraper', 'scraper'])
      tlsReason(await probe(gw, 'none', target.host),
        'the target requires a client certificate, and tls_config has none (set cert_file and key_file)')
      // A node:tls target checks the certificate after the handshake and closes without an alert (no
      // certificate_required, which would read "did not accept"); the connector waits for that answer.
      const r = reason(await probe(gw, 'stranger', target.host), 502, 'SG_UPSTREAM_TLS')
      assert.equal(r, 'TLS handshake failed: the target closed the connection after asking for a client certificate: it most likely rejected "CN=stranger"')
      assert.equal(target.seen.length, 2)
    }
    assert.deepEqual(mtls13.seen.map((s) => s.protocol), ['TLSv1.3', 'TLSv1.3'])
    assert.deepEqual(mtls12.seen.map((s) => s.protocol), ['TLSv1.2', 'TLSv1.2'])
  })

  it('checks the certificate against server_name (and sends it as SNI), or against the target address', async (t) => {
    const named = ca.issue({ cn: 'metrics.example', sans: ['DNS:metrics.example'] })
    const target = await tlsTarget(named)
    const gw = await startGateway(`
scrape_configs:
${job('right', `ca_file: ${ca.certFile}, server_name: metrics.example`)}\
${job('wrong', `ca_file: ${ca.certFile}, server_name: other.example`)}\
${job('address', `ca_file: ${ca.certFile}`)}`)
    t.after(async () => { await target.close(); await gw.close() })

    assertOk(await probe(gw, 'right', target.host))
    assert.equal(target.seen[0]?.servername, 'metrics.example')
    tlsReason(await probe(gw, 'wrong', target.host),
      'certificate is not valid for the name "other.example" (checked from tls_config.server_name): it is valid for DNS metrics.example')
    tlsReason(await probe(gw, 'address', target.host),
      'certificate is not valid for the IP address "127.0.0.1" (checked from the target address): it is valid for DNS metrics.example')
    assert.equal(target.seen.length, 1)
  })

  it('checks names against subject alternative names only, never the Common Name (as Go does)', async (t) => {
    const cnOnly = ca.issue({ cn: 'cn-only.example', sans: [] })
    const target = await tlsTarget(cnOnly)
    const gw = await startGateway(`scrape_configs:\n${job('cn', `ca_file: ${ca.certFile}, server_name: cn-only.example`)}`)
    t.after(async () => { await target.close(); await gw.close() })
    tlsReason(await probe(gw, 'cn', target.host), 'certificate is not valid for the name "cn-only.example" (checked from tls_config.server_name): ' +
      'it is valid for no DNS or IP subject alternative names (its Common Name "cn-only.example" is not used, as in Go)')
    assert.equal(target.seen.length, 0)
  })

  it('says when the target\'s certificate expired or is not yet valid, with the date; insecure_skip_verify takes it', async (t) => {
    const expired = ca.issue({ cn: 'expired target', notBefore: 'past' })
    const future = ca.issue({ cn: 'future target', notBefore: 'future' })
    const old = await tlsTarget(expired)
    const early = await tlsTarget(future)
    const gw = await startGateway(`
scrape_configs:
${job('verify', `ca_file: ${ca.certFile}`)}${job('skip', `ca_file: ${ca.certFile}, insecure_skip_verify: true`)}`)
    t.after(async () => { await old.close(); await early.close(); await gw.close() })

    const e = tlsReason(await probe(gw, 'verify', old.host), 'certificate has expired: ')
    assert.ok(e.includes(`the target's certificate "CN=expired target" was valid until ${iso(new X509Certificate(expired.cert).validTo)}; it is now `), e)
    const f = tlsReason(await probe(gw, 'verify', early.host), 'certificate is not yet valid: ')
    assert.ok(f.includes(`the target's certificate "CN=future target" is valid from ${iso(new X509Certificate(future.cert).validFrom)}; it is now `), f)
    assertOk(await probe(gw, 'skip', old.host))
    assertOk(await probe(gw, 'skip', early.host))
  })

  it('negotiates within min_version/max_version, and says when the target supports none of them', async (t) => {
    const only12 = await tlsTarget({ ...serverCert, maxVersion: 'TLSv1.2' })
    const only13 = await tlsTarget({ ...serverCert, minVersion: 'TLSv1.3' })
    const gw = await startGateway(`
scrape_configs:
${job('min13', `ca_file: ${ca.certFile}, min_version: TLS13`)}\
${job('max12', `ca_file: ${ca.certFile}, max_version: TLS12`)}\
${job('max11', `ca_file: ${ca.certFile}, max_version: TLS11`)}\
${job('range', `ca_file: ${ca.certFile}, min_version: TLS12, max_version: TLS13`)}`)
    t.after(async () => { await only12.close(); await only13.close(); await gw.close() })

    assertOk(await probe(gw, 'min13', only13.host))
    assertOk(await probe(gw, 'max12', only12.host))
    assertOk(await probe(gw, 'range', only12.host))
    assertOk(await probe(gw, 'range', only13.host))
    assert.deepEqual(only12.seen.map((s) => s.protocol), ['TLSv1.2', 'TLSv1.2'])
    assert.deepEqual(only13.seen.map((s) => s.protocol), ['TLSv1.3', 'TLSv1.3'])

    tlsReason(await probe(gw, 'min13', only12.host),
      'no common TLS version: the gateway offers TLS 1.3 only (tls_config min_version TLS13), and the target supports none of them')
    tlsReason(await probe(gw, 'max12', only13.host),
      'no common TLS version: the gateway offers TLS 1.2 only (tls_config max_version TLS12), and the target supports none of them')
    // Loads, as in Prometheus (which checks max >= min only when both are set), but can never connect.
    tlsReason(await probe(gw, 'max11', only12.host),
      'no common TLS version: tls_config max_version TLS11 is below TLS 1.2, the minimum when min_version is not set')
  })

  it('speaks TLS 1.0 to a target that has nothing newer when min_version allows it', async (t) => {
    // The target needs OpenSSL's security level 0 for TLS 1.0 too.
    const legacy = await tlsTarget({ ...serverCert, minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' } as HttpsTargetOptions)
    const gw = await startGateway(`
scrape_configs:
${job('legacy', `ca_file: ${ca.certFile}, min_version: TLS10`)}${job('default', `ca_file: ${ca.certFile}`)}`)
    t.after(async () => { await legacy.close(); await gw.close() })
    assertOk(await probe(gw, 'legacy', legacy.host))
    assert.equal(legacy.seen[0]?.protocol, 'TLSv1')
    tlsReason(await probe(gw, 'default', legacy.host),
      'no common TLS version: the gateway offers TLS 1.2 to TLS 1.3, and the target supports none of them')
  })

  it('says when an https target does not speak TLS at all', async (t) => {
    const plain = await startHttpTarget(metricsHandler(BODY))
    const gw = await startGateway(`scrape_configs:\n${job('https', `ca_file: ${ca.certFile}`)}`)
    t.after(async () => { await plain.close(); await gw.close() })
    tlsReason(await probe(gw, 'https', plain.host), 'the target did not answer with TLS (wrong version number): does it serve plain HTTP? (scheme: http)')
  })

  it('words a handshake failure exactly, without node\'s error code', async (t) => {
    const expired = ca.issue({ cn: 'expired target', notBefore: 'past' })
    const target = await tlsTarget(expired)
    const gw = await startGateway(`scrape_configs:\n${job('verify', `ca_file: ${ca.certFile}`)}`)
    t.after(async () => { await target.close(); await gw.close() })
    const r = reason(await probe(gw, 'verify', target.host), 502, 'SG_UPSTREAM_TLS')
    assert.match(r, /^TLS handshake failed: certificate has expired: the target's certificate "CN=expired target" was valid until \S+Z; it is now \S+Z$/)
  })

  it('says when the target\'s certificate is not meant for a server', async (t) => {
    // A CA certificate (keyCertSign only) served as a server certificate.
    const target = await tlsTarget(ca)
    const gw = await startGateway(`scrape_configs:\n${job('verify', `ca_file: ${ca.certFile}`)}`)
    t.after(async () => { await target.close(); await gw.close() })
    tlsReason(await probe(gw, 'verify', target.host),
      'the target\'s certificate "CN=tls test CA" is not meant for a TLS server (its key usage or extended key usage rules that out)')
  })

  it('never resumes a TLS session, as Go\'s client without a session cache (undici\'s buildConnector would)', async (t) => {
    const resumed: boolean[] = []
    const serve = metricsHandler(BODY, { contentType: OPENMETRICS })
    // Every answer closes its connection, so each request makes a new handshake.
    const target = await startHttpsTarget(serverCert, (req, res) => {
      resumed.push((req.socket as TLSSocket).isSessionReused())
      res.setHeader('connection', 'close')
      serve(req, res)
    })
    const agent = new Agent({ connect: { ca: ca.cert } })
    const gw = await startGateway(`scrape_configs:\n${job('fresh', `ca_file: ${ca.certFile}`)}`)
    t.after(async () => { await agent.close(); await target.close(); await gw.close() })

    // The target lets a client resume: undici's own connector does, on its second connection.
    for (let i = 0; i < 2; i++) await (await agent.request({ origin: target.url, path: '/metrics', method: 'GET' })).body.text()
    assert.deepEqual(resumed, [false, true])

    resumed.length = 0
    for (let i = 0; i < 3; i++) assertOk(await probe(gw, 'fresh', target.host))
    assert.deepEqual(resumed, [false, false, false])
  })

  it('words failures inside a proxy\'s CONNECT tunnel too', async (t) => {
    const foreign = otherCa.issue({ cn: 'foreign target' })
    const target = await tlsTarget(foreign)
    const proxy = await startForwardProxy()
    const gw = await startGateway(`scrape_configs:\n${job('proxied', `ca_file: ${ca.certFile}`, `    proxy_url: ${proxy.url}\n`)}`)
    t.after(async () => { await target.close(); await proxy.close(); await gw.close() })
    const r = reason(await probe(gw, 'proxied', target.host), 502, 'SG_UPSTREAM_TLS')
    assert.ok(r.startsWith('TLS handshake failed: certificate signed by unknown authority'), r)
    assert.equal(proxy.connects.length, 1)
  })
  it('words failures inside a tunnel as precisely as direct ones: the tunnel uses the TLS connector', async (t) => {
    const expired = ca.issue({ cn: 'expired tunnelled target', notBefore: 'past' })
    const target = await tlsTarget(expired)
    const proxy = await startForwardProxy()
    const gw = await startGateway(`scrape_configs:\n${job('tunnelled', `ca_file: ${ca.certFile}`, `    proxy_url: ${proxy.url}\n`)}`)
    t.after(async () => { await target.close(); await proxy.close(); await gw.close() })
    const r = reason(await probe(gw, 'tunnelled', target.host), 502, 'SG_UPSTREAM_TLS')
    assert.ok(r.includes(`"CN=expired tunnelled target" was valid until ${iso(new X509Certificate(expired.cert).validTo)}`), r)
    assert.equal(proxy.connects.length, 1)
  })
})

describe('describeTlsError', () => {
  it('words TLS errors from any connector, and leaves other errors alone', () => {
    const err = (code: string, message: string): Error => Object.assign(new Error(message), { code })
    assert.equal(describeTlsError(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')), undefined)
    assert.equal(describeTlsError(new Error('plain')), undefined)
    assert.equal(describeTlsError(err('CERT_HAS_EXPIRED', 'certificate has expired')), 'TLS handshake failed: certificate has expired')
    assert.equal(describeTlsError(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate')),
      'TLS handshake failed: certificate signed by unknown authority: unable to verify the first certificate; the target\'s chain does not lead to a CA in the trusted CAs')
    assert.equal(describeTlsError(Object.assign(err('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match certificate\'s altnames'), {
      host: 'a.example', cert: { subjectaltname: 'DNS:b.example, IP Address:10.0.0.1' },
    })), 'TLS handshake failed: certificate is not valid for the name "a.example": it is valid for DNS b.example, IP 10.0.0.1')
    assert.equal(describeTlsError(err('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required')),
      'TLS handshake failed: the target requires a client certificate (TLS alert certificate_required)')
    assert.equal(describeTlsError(err('ERR_SSL_WRONG_VERSION_NUMBER', 'x')), 'TLS handshake failed: the target did not answer with TLS (x): does it serve plain HTTP? (scheme: http)')
  })
})

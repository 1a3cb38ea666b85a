// Rotation of tls_config files while the gateway runs, as Prometheus does it:
// a changed ca_file, cert_file or key_file is used from the next probe on (no
// reload), a bad new file fails probes with 500 SG_CREDENTIALS until a good
// one replaces it, and requests already in flight finish on the old
// connections. Real TLS targets, certificates from test CAs.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import type { TLSSocket } from 'node:tls'
import { TlsFileReloader } from '../plugins/tls/reload.js'
import type { TlsSettings } from '../plugins/tls/types.js'
import { Secret } from '../src/client/secret.js'
import { get, type Seen } from './helpers/client.js'
import { startForwardProxy } from './helpers/forward-proxy.js'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { createCa, tmpDir, type Ca, type CertPair } from './helpers/pki.js'
import { exposition, metricsHandler, startHttpsTarget, type HttpsTargetOptions, type Target } from './helpers/targets.js'

const BODY = exposition(500)

function probe (gw: Gateway, job: string, target: string): Promise<Seen> {
  return get(`${gw.url}/probe?job=${encodeURIComponent(job)}&target=${encodeURIComponent(target)}`)
}

function assertOk (seen: Seen): void {
  assert.equal(seen.status, 200, seen.body.toString())
  assert.equal(seen.body.toString(), BODY)
}

function assertError (seen: Seen, status: number, code: string, words: string): void {
  const text = seen.body.toString()
  assert.equal(seen.status, status, text)
  assert.ok(text.startsWith(`${code}: `) && text.includes(words), `expected ${code} with "${words}": ${text}`)
}

/** A target that records the CN of each client certificate it was shown. */
async function target (opts: HttpsTargetOptions, delayMs = 0): Promise<Target & { clients: Array<string | undefined> }> {
  const clients: Array<string | undefined> = []
  const serve = metricsHandler(BODY)
  const t = await startHttpsTarget(opts, (req: IncomingMessage, res: ServerResponse) => {
    const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN
    clients.push(typeof cn === 'string' ? cn : undefined)
    if (delayMs === 0) serve(req, res)
    else setTimeout(() => { serve(req, res) }, delayMs)
  })
  return Object.assign(t, { clients })
}

describe('tls_config file rotation', () => {
  let ca1: Ca
  let ca2: Ca
  let dir: string

  before(() => {
    ca1 = createCa('rotation CA one')
    ca2 = createCa('rotation CA two')
    dir = tmpDir('sg-tls-rotation-')
  })
  after(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('follows a replaced ca_file on the next probe; a bad one fails until a good one is back', async (t) => {
    const one = await target(ca1.issue({ cn: 'target one' }))
    const two = await target(ca2.issue({ cn: 'target two' }))
    const caFile = path.join(dir, 'rotating-ca.crt')
    fs.writeFileSync(caFile, ca1.cert)
    const gw = await startGateway(`
scrape_configs:
  - job_name: rotating
    scheme: https
    allowed_targets: ['127.0.0.1:*']
    tls_config: { ca_file: ${caFile} }
`)
    t.after(async () => { await one.close(); await two.close(); await gw.close() })

    assertOk(await probe(gw, 'rotating', one.host))
    assertError(await probe(gw, 'rotating', two.host), 502, 'SG_UPSTREAM_TLS', 'certificate signed by unknown authority')

    fs.writeFileSync(caFile, ca2.cert)
    assertOk(await probe(gw, 'rotating', two.host))
    assertError(await probe(gw, 'rotating', one.host), 502, 'SG_UPSTREAM_TLS', 'certificate signed by unknown authority')

    // A bad CA is the gateway's own misconfiguration: 500, naming the file, and no connection.
    fs.writeFileSync(caFile, 'not a certificate\n')
    for (let i = 0; i < 2; i++) {
      assertError(await probe(gw, 'rotating', two.host), 500, 'SG_CREDENTIALS',
        `tls_config.ca_file: unable to use specified CA cert file ${caFile}`)
    }
    assert.equal(two.clients.length, 1)

    fs.writeFileSync(caFile, ca1.cert + ca2.cert)
    assertOk(await probe(gw, 'rotating', one.host))
    assertOk(await probe(gw, 'rotating', two.host))

    fs.rmSync(caFile)
    assertError(await probe(gw, 'rotating', one.host), 500, 'SG_CREDENTIALS',
      `tls_config.ca_file: unable to read CA cert: unable to read file ${caFile}: open ${caFile}: no such file or directory`)
    fs.writeFileSync(caFile, ca1.cert)
    assertOk(await probe(gw, 'rotating', one.host))
  })

  it('follows a replaced client cert and key; a cert without its key yet is refused until the key follows', async (t) => {
    const mtls = await target({ ...ca1.issue({ cn: 'mtls target' }), ca: ca1.cert, requestCert: true })
    const alpha = ca1.issue({ cn: 'alpha', client: true })
    const beta = ca1.issue({ cn: 'beta', client: true })
    const stranger = ca2.issue({ cn: 'stranger', client: true })
    const certFile = path.join(dir, 'client.crt')
    const keyFile = path.join(dir, 'client.key')
    fs.writeFileSync(certFile, alpha.cert)
    fs.writeFileSync(keyFile, alpha.key)
    const gw = await startGateway(`
scrape_configs:
  - job_name: mtls
    scheme: https
    allowed_targets: ['127.0.0.1:*']
    tls_config: { ca: ${JSON.stringify(ca1.cert)}, cert_file: ${certFile}, key_file: ${keyFile} }
`)
    t.after(async () => { await mtls.close(); await gw.close() })

    assertOk(await probe(gw, 'mtls', mtls.host))
    assertOk(await probe(gw, 'mtls', mtls.host))
    assert.deepEqual(mtls.clients, ['alpha', 'alpha'])

    fs.writeFileSync(certFile, beta.cert)
    assertError(await probe(gw, 'mtls', mtls.host), 500, 'SG_CREDENTIALS',
      `tls_config.cert_file: unable to use specified client cert (file ${certFile}) & key (file ${keyFile}): tls: private key does not match public key`)
    fs.writeFileSync(keyFile, beta.key)
    assertOk(await probe(gw, 'mtls', mtls.host))
    assert.deepEqual(mtls.clients, ['alpha', 'alpha', 'beta'])

    // A certificate the target does not trust: the target's refusal, in words.
    fs.writeFileSync(certFile, stranger.cert)
    fs.writeFileSync(keyFile, stranger.key)
    assertError(await probe(gw, 'mtls', mtls.host), 502, 'SG_UPSTREAM_TLS', '"CN=stranger"')
    fs.writeFileSync(certFile, alpha.cert)
    fs.writeFileSync(keyFile, alpha.key)
    assertOk(await probe(gw, 'mtls', mtls.host))
    assert.deepEqual(mtls.clients, ['alpha', 'alpha', 'beta', 'alpha'])
  })

  it('follows a Kubernetes-style secret volume, where ..data is swapped to a new directory', async (t) => {
    const mtls = await target({ ...ca1.issue({ cn: 'mtls target' }), ca: ca1.cert, requestCert: true })
    const volume = fs.mkdtempSync(path.join(dir, 'volume-'))
    const publish = (version: string, pair: CertPair): void => {
      fs.mkdirSync(path.join(volume, version))
      fs.writeFileSync(path.join(volume, version, 'tls.crt'), pair.cert)
      fs.writeFileSync(path.join(volume, version, 'tls.key'), pair.key)
      fs.writeFileSync(path.join(volume, version, 'ca.crt'), ca1.cert)
      fs.symlinkSync(version, path.join(volume, '..data_tmp'))
      fs.renameSync(path.join(volume, '..data_tmp'), path.join(volume, '..data'))
    }
    publish('v1', ca1.issue({ cn: 'first', client: true }))
    for (const name of ['tls.crt', 'tls.key', 'ca.crt']) fs.symlinkSync(path.join('..data', name), path.join(volume, name))
    const gw = await startGateway(`
scrape_configs:
  - job_name: k8s
    scheme: https
    allowed_targets: ['127.0.0.1:*']
    tls_config:
      ca_file: ${path.join(volume, 'ca.crt')}
      cert_file: ${path.join(volume, 'tls.crt')}
      key_file: ${path.join(volume, 'tls.key')}
`)
    t.after(async () => { await mtls.close(); await gw.close() })

    assertOk(await probe(gw, 'k8s', mtls.host))
    publish('v2', ca1.issue({ cn: 'second', client: true }))
    assertOk(await probe(gw, 'k8s', mtls.host))
    assert.deepEqual(mtls.clients, ['first', 'second'])
  })

  it('lets a request in flight finish on the old connection while the next one uses the new CA', async (t) => {
    const slow = await target(ca1.issue({ cn: 'slow target' }), 400)
    const caFile = path.join(dir, 'in-flight-ca.crt')
    fs.writeFileSync(caFile, ca1.cert)
    const gw = await startGateway(`
scrape_configs:
  - job_name: slow
    scheme: https
    allowed_targets: ['127.0.0.1:*']
    tls_config: { ca_file: ${caFile} }
`)
    t.after(async () => { await slow.close(); await gw.close() })

    const first = probe(gw, 'slow', slow.host)
    while (slow.clients.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    fs.writeFileSync(caFile, ca2.cert + ca1.cert)
    const second = probe(gw, 'slow', slow.host)
    assertOk(await first)
    assertOk(await second)
    fs.writeFileSync(caFile, ca2.cert)
    assertError(await probe(gw, 'slow', slow.host), 502, 'SG_UPSTREAM_TLS', 'certificate signed by unknown authority')
  })

  it('rebuilds a proxied job\'s connections too', async (t) => {
    const two = await target(ca2.issue({ cn: 'target two' }))
    const proxy = await startForwardProxy()
    const caFile = path.join(dir, 'proxied-ca.crt')
    fs.writeFileSync(caFile, ca1.cert)
    const gw = await startGateway(`
scrape_configs:
  - job_name: proxied
    scheme: https
    allowed_targets: ['127.0.0.1:*']
    proxy_url: ${proxy.url}
    tls_config: { ca_file: ${caFile} }
`)
    t.after(async () => { await two.close(); await proxy.close(); await gw.close() })

    assertError(await probe(gw, 'proxied', two.host), 502, 'SG_UPSTREAM_TLS', '')
    fs.writeFileSync(caFile, ca2.cert)
    assertOk(await probe(gw, 'proxied', two.host))
    assert.equal(proxy.connects.length, 2, 'both probes went through the proxy')
  })
})

describe('TlsFileReloader', () => {
  let ca: Ca
  let dir: string

  before(() => {
    ca = createCa('reloader CA')
    dir = tmpDir('sg-tls-reloader-')
  })
  after(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  function settings (over: Partial<TlsSettings>): TlsSettings {
    return {
      configured: true,
      ca: undefined,
      cert: undefined,
      key: undefined,
      serverName: undefined,
      insecureSkipVerify: false,
      minVersion: undefined,
      maxVersion: undefined,
      enableHttp2: true,
      ...over,
    }
  }

  it('does not watch inline-only settings', () => {
    const client = ca.issue({ cn: 'inline', client: true })
    const inline = settings({
      ca: { source: { from: 'inline' }, pem: ca.cert },
      cert: { source: { from: 'inline' }, pem: client.cert },
      key: { source: { from: 'inline' }, pem: new Secret(client.key) },
    })
    assert.equal(new TlsFileReloader(inline).watching, false)
    assert.equal(new TlsFileReloader(settings({ ca: { source: { from: 'file', path: ca.certFile }, pem: ca.cert } })).watching, true)
  })

  it('notices a same-size rewrite right after a read, when the stat may not change', async () => {
    const file = path.join(dir, 'same-size.crt')
    fs.writeFileSync(file, `${ca.cert}# a\n`)
    const reloader = new TlsFileReloader(settings({ ca: { source: { from: 'file', path: file }, pem: `${ca.cert}# a\n` } }))
    assert.equal(await reloader.check(), undefined, 'unchanged since load')
    fs.writeFileSync(file, `${ca.cert}# b\n`)
    // Files are checked once per event-loop turn (src/client/fresh-file.ts).
    await new Promise((resolve) => setImmediate(resolve))
    assert.notEqual(await reloader.check(), undefined, 'the rewrite is seen')
    assert.equal(await reloader.check(), undefined)
  })
})

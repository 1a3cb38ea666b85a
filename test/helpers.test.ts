import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import tls from 'node:tls'
import zlib from 'node:zlib'
import { Agent, request } from 'undici'
import { createCa } from './helpers/pki.js'
import type { Ca, CertPair } from './helpers/pki.js'
import {
  exposition, metricsHandler, refusedPort, startHttp2Target, startHttpTarget, startHttpsTarget,
} from './helpers/targets.js'
import type { Target } from './helpers/targets.js'

const BODY = exposition(50)

describe('test helpers', () => {
  let ca: Ca
  let server: CertPair
  const closers: Array<() => Promise<void>> = []
  const track = <T extends Target | Agent>(x: T): T => {
    closers.push(() => x.close())
    return x
  }
  const get = async (url: string, dispatcher: Agent) => {
    const res = await request(url, { dispatcher })
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
  }
  const failureCode = async (url: string, dispatcher: Agent): Promise<unknown> => {
    const err: unknown = await get(url, dispatcher).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof Error, 'request should fail')
    return (err as NodeJS.ErrnoException).code
  }
  /** The code a TLS client that writes nothing after its handshake fails with ('closed' for a close without an alert). */
  const handshakeFailureCode = (port: number): Promise<string | undefined> => new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.cert })
    const timer = setTimeout(() => { socket.destroy(); resolve('no answer') }, 5000)
    socket.once('error', (err: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(err.code) })
    socket.once('close', () => { clearTimeout(timer); resolve('closed') })
  })

  before(() => {
    ca = createCa()
    server = ca.issue({ cn: 'target' })
  })
  after(async () => {
    await Promise.all(closers.map((close) => close()))
  })

  it('exposition has exactly the requested number of samples', () => {
    for (const n of [0, 1, 7, 50, 1000]) {
      const samples = exposition(n).split('\n').filter((l) => l !== '' && !l.startsWith('#'))
      assert.equal(samples.length, n)
      assert.equal(new Set(samples.map((l) => l.slice(0, l.lastIndexOf(' ')))).size, n)
    }
    assert.equal(exposition(300), exposition(300))
  })

  it('serves https with a cert from createCa and records the request', async () => {
    const target = track(await startHttpsTarget(server, metricsHandler(BODY)))
    const agent = track(new Agent({ connect: { ca: ca.cert } }))
    const res = await get(`${target.url}/metrics`, agent)
    assert.equal(res.status, 200)
    assert.equal(res.body.toString(), BODY)
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
    assert.equal(target.requests.length, 1)
    assert.equal(target.requests[0]?.url, '/metrics')
    assert.equal(target.requests[0]?.httpVersion, '1.1')
  })

  it('expired cert fails with CERT_HAS_EXPIRED', async () => {
    const target = track(await startHttpsTarget(ca.issue({ cn: 'expired', notBefore: 'past' }), metricsHandler(BODY)))
    const agent = track(new Agent({ connect: { ca: ca.cert } }))
    assert.equal(await failureCode(target.url, agent), 'CERT_HAS_EXPIRED')
    assert.equal(target.requests.length, 0)
  })

  it('not-yet-valid cert fails with CERT_NOT_YET_VALID', async () => {
    const target = track(await startHttpsTarget(ca.issue({ cn: 'future', notBefore: 'future' }), metricsHandler(BODY)))
    const agent = track(new Agent({ connect: { ca: ca.cert } }))
    assert.equal(await failureCode(target.url, agent), 'CERT_NOT_YET_VALID')
  })

  it('cert from another CA fails verification', async () => {
    const other = createCa('other CA')
    const target = track(await startHttpsTarget(other.issue({ cn: 'stranger' }), metricsHandler(BODY)))
    const agent = track(new Agent({ connect: { ca: ca.cert } }))
    // The server sends only its leaf, so the chain cannot be built to a trusted root.
    assert.equal(await failureCode(target.url, agent), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  })

  it('mTLS target rejects a client without cert and accepts a client cert from the CA', async () => {
    const target = track(await startHttpsTarget(
      { ...server, ca: ca.cert, requestCert: true }, metricsHandler(BODY)))
    const anonymous = track(new Agent({ connect: { ca: ca.cert } }))
    // TLS 1.3: the client's handshake finishes before the server rejects it, so the certificate_required
    // alert comes after secureConnect. A client that writes nothing reads it; undici would write its
    // request at once, and then the dropped socket ("other side closed") may beat the alert.
    assert.equal(await handshakeFailureCode(target.port), 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')
    assert.equal(target.requests.length, 0)

    // TLS 1.2 fails inside the handshake, deterministically.
    const tls12 = track(await startHttpsTarget(
      { ...server, ca: ca.cert, requestCert: true, maxVersion: 'TLSv1.2' }, metricsHandler(BODY)))
    // Node 22's OpenSSL spells the alert "ssl/tls alert", Node 20's "sslv3 alert".
    assert.match(String(await failureCode(tls12.url, anonymous)), /^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/)

    const client = ca.issue({ cn: 'scraper', client: true })
    const authed = track(new Agent({ connect: { ca: ca.cert, cert: client.cert, key: client.key } }))
    const res = await get(target.url, authed)
    assert.equal(res.status, 200)
    assert.equal(res.body.toString(), BODY)
    assert.equal(target.requests.length, 1)
  })

  it('gzip handler returns gzip over plain http', async () => {
    const target = track(await startHttpTarget(metricsHandler(BODY, { gzip: true, status: 203, contentType: 'text/x' })))
    const agent = track(new Agent())
    const res = await get(`${target.url}/metrics`, agent)
    assert.equal(res.status, 203)
    assert.equal(res.headers['content-encoding'], 'gzip')
    assert.equal(res.headers['content-type'], 'text/x')
    assert.equal(zlib.gunzipSync(res.body).toString(), BODY)
    assert.equal(target.host, `127.0.0.1:${target.port}`)
  })

  it('http2 target negotiates h2 with allowH2 and falls back to HTTP/1.1', async () => {
    const target = track(await startHttp2Target(server, metricsHandler(BODY)))
    const h2 = track(new Agent({ allowH2: true, connect: { ca: ca.cert } }))
    const res = await get(`${target.url}/metrics`, h2)
    assert.equal(res.body.toString(), BODY)
    assert.equal(target.requests[0]?.httpVersion, '2.0')

    const h1 = track(new Agent({ connect: { ca: ca.cert } }))
    await get(target.url, h1)
    assert.equal(target.requests[1]?.httpVersion, '1.1')
  })

  it('refusedPort gives ECONNREFUSED', async () => {
    const port = await refusedPort()
    const agent = track(new Agent())
    assert.equal(await failureCode(`http://127.0.0.1:${port}/metrics`, agent), 'ECONNREFUSED')
  })

  it('close() ends open keep-alive connections', async () => {
    const target = await startHttpTarget(metricsHandler(BODY))
    const agent = track(new Agent({ keepAliveTimeout: 60_000 }))
    await get(target.url, agent)
    await target.close() // would hang if the idle keep-alive socket were left open
    assert.equal(await failureCode(target.url, agent), 'ECONNREFUSED')
  })
})

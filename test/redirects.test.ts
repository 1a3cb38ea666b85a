// follow_redirects: Go's redirect rules, every hop inside the job's target
// policy, and credentials that never cross hosts (or ports). Two origins on
// 127.0.0.1 and `localhost` (different hosts for the cross-host rule), real
// sockets, a real gateway; each target records what it received, so the
// assertions are on what the second origin actually saw.
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Agent, interceptors, type Dispatcher } from 'undici'
import { startGateway } from './helpers/gateway.js'
import { createCa } from './helpers/pki.js'
import { exposition, metricsHandler, startHttpsTarget, startHttpTarget, type Target } from './helpers/targets.js'
import { redirectInterceptor } from '../plugins/redirects/interceptor.js'
import { refererFor, sameHostOrSubdomain } from '../plugins/redirects/hosts.js'
import { TargetPolicy } from '../src/policy/target-policy.js'
import { parseTargetRule } from '../src/config/allowed-targets.js'
import type { ProbeDispatchOptions } from '../src/client/feature.js'

const BODY = exposition(50)
const serve = metricsHandler(BODY)

function redirect (res: ServerResponse, location: string | undefined, status = 302, body = ''): void {
  res.writeHead(status, location === undefined ? { 'content-length': Buffer.byteLength(body) } : { location, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** Routes by path: each entry answers one path; anything else is 404. */
function routes (table: Record<string, (req: IncomingMessage, res: ServerResponse) => void>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const route = table[(req.url ?? '').split('?')[0] as string]
    if (route !== undefined) route(req, res)
    else redirect(res, undefined, 404)
  }
}

function paths (t: Target): string[] {
  return t.requests.map((r) => r.url)
}

describe('redirects between two hosts', () => {
  let a: Target // 127.0.0.1
  let b: Target // probed and redirected to as `localhost`
  let c: Target // 127.0.0.1, another port
  let bUrl: string

  before(async () => {
    b = await startHttpTarget((req, res) => routes({
      '/metrics': serve,
      '/hop-back': (_q, r) => redirect(r, `${a.url}/final`),
    })(req, res))
    bUrl = `http://localhost:${b.port}`
    c = await startHttpTarget(serve)
    a = await startHttpTarget(routes({
      '/same': (_q, r) => redirect(r, '/metrics'),
      '/metrics': serve,
      '/other-port': (_q, r) => redirect(r, `${c.url}/metrics`),
      '/mapped': (_q, r) => redirect(r, `http://[::ffff:127.0.0.1]:${c.port}/metrics`),
      '/double-slash': (_q, r) => redirect(r, `${a.url}//localhost:${b.port}/metrics`),
      '/cross': (_q, r) => redirect(r, `${bUrl}/metrics`),
      '/cross-and-back': (_q, r) => redirect(r, `${bUrl}/hop-back`),
      '/final': serve,
      '/no-location': (_q, r) => redirect(r, undefined, 302),
      '/multiple-choices': (_q, r) => redirect(r, '/metrics', 300),
      '/bad-location': (_q, r) => redirect(r, 'http://[bad'),
      '/ftp': (_q, r) => redirect(r, 'ftp://127.0.0.1/metrics'),
      '/big-3xx-body': (_q, r) => redirect(r, '/metrics', 302, 'x'.repeat(256 * 1024)),
      '/see-other': (_q, r) => redirect(r, '/temporary', 303),
      '/temporary': (_q, r) => redirect(r, '/permanent', 307),
      '/permanent': (_q, r) => redirect(r, '/metrics', 308),
      '/to-hang': (_q, r) => redirect(r, '/hang'),
      '/hang': () => {}, // never answers
    }))
  })
  after(async () => { await Promise.all([a.close(), b.close(), c.close()]) })

  /** A job probed at a; by default it may go to any port of 127.0.0.1 and localhost. */
  const job = (name: string, metricsPath: string, extra = '', allowed = "['127.0.0.1:*', 'localhost:*']"): string => `
  - job_name: ${name}
    metrics_path: ${metricsPath}
    authorization: { credentials: s3cret }
    allowed_targets: ${allowed}
    ${extra}`

  it('a same-host redirect keeps Authorization and the original headers, and sets Referer', async (t) => {
    const gw = await startGateway(`scrape_configs:${job('same', '/same')}`)
    t.after(() => gw.close())
    const res = await gw.probe('same', a.host)
    assert.equal(res.status, 200)
    assert.equal(await res.text(), BODY)
    const [first, second] = a.requests.slice(-2)
    assert.deepEqual([first?.url, second?.url], ['/same', '/metrics'])
    assert.equal(second?.headers.authorization, 'Bearer s3cret')
    assert.equal(second?.headers.referer, `${a.url}/same`)
    for (const h of ['accept', 'accept-encoding', 'user-agent', 'x-prometheus-scrape-timeout-seconds']) {
      assert.equal(second?.headers[h], first?.headers[h], h)
    }
    assert.equal(second?.headers.host, a.host)
  })

  describe('secret headers and the target policy', () => {
    let files: string
    before(() => {
      files = mkdtempSync(path.join(os.tmpdir(), 'sg-redirect-'))
      writeFileSync(path.join(files, 'token'), 'file-token\n')
    })

    /** A job with every kind of credential: authorization, http_headers secrets and files, and plain values. */
    const credentialed = (name: string, metricsPath: string, allowed: string): string => job(name, metricsPath, `http_headers:
      X-Api-Key: { secrets: [api-s3cret] }
      X-Token: { files: [${path.join(files, 'token')}] }
      X-Tenant: { values: [blue] }
      X-Mixed: { values: [plain], secrets: [mixed-s3cret] }`, allowed)

    const SECRET_HEADERS = ['authorization', 'x-api-key', 'x-token']

    function assertAllCredentials (seen: Target['requests'][number] | undefined): void {
      assert.equal(seen?.headers.authorization, 'Bearer s3cret')
      assert.equal(seen?.headers['x-api-key'], 'api-s3cret')
      assert.equal(seen?.headers['x-token'], 'file-token')
      assert.equal(seen?.headers['x-tenant'], 'blue')
      assert.equal(seen?.headers['x-mixed'], 'plain, mixed-s3cret')
    }

    function assertNoSecrets (seen: Target['requests'][number] | undefined): void {
      for (const h of SECRET_HEADERS) assert.equal(seen?.headers[h], undefined, h)
      assert.equal(seen?.headers['x-tenant'], 'blue', 'plain values are kept, as in Prometheus')
      assert.equal(seen?.headers['x-mixed'], 'plain', 'only the plain value of a header that also has secrets')
    }

    it('a redirect to a host the job does not allow fails with 502 SG_REDIRECT_FORBIDDEN; the second server sees nothing', async (t) => {
      const gw = await startGateway(`scrape_configs:${credentialed('host', '/cross', `['${a.host}']`)}${credentialed('port', '/other-port', `['${a.host}']`)}`)
      t.after(() => gw.close())
      const [bSaw, cSaw] = [b.requests.length, c.requests.length]
      const host = await gw.probe('host', a.host)
      assert.equal(host.status, 502)
      assert.equal(await host.text(),
        `SG_REDIRECT_FORBIDDEN: redirect to "localhost:${b.port}" is not allowed for job "host": not in its static_configs or allowed_targets [job="host" target="${a.host}"]\n`)
      const port = await gw.probe('port', a.host)
      assert.equal(port.status, 502)
      assert.match(await port.text(), new RegExp(`^SG_REDIRECT_FORBIDDEN: redirect to "127\\.0\\.0\\.1:${c.port}" is not allowed for job "port"`))
      assert.equal(b.requests.length, bSaw, 'b was never asked')
      assert.equal(c.requests.length, cSaw, 'c was never asked')
      assertAllCredentials(a.requests.at(-1))
    })

    it('a redirect to another port of the same host (allowed) is followed without Authorization and without secret or file headers', async (t) => {
      const gw = await startGateway(`scrape_configs:${credentialed('port', '/other-port', `['${a.host}', '${c.host}']`)}`)
      t.after(() => gw.close())
      const res = await gw.probe('port', a.host)
      assert.equal(res.status, 200)
      assert.equal(await res.text(), BODY)
      assertAllCredentials(a.requests.at(-1))
      const seen = c.requests.at(-1)
      assert.equal(seen?.url, '/metrics')
      assert.equal(seen?.headers.host, c.host)
      assertNoSecrets(seen)
    })

    it('a redirect to another allowed host is followed without secrets; plain values are kept', async (t) => {
      const gw = await startGateway(`scrape_configs:${credentialed('host', '/cross', `['${a.host}', 'localhost:${b.port}']`)}`)
      t.after(() => gw.close())
      const res = await gw.probe('host', a.host)
      assert.equal(res.status, 200)
      assert.equal(await res.text(), BODY)
      assertAllCredentials(a.requests.at(-1))
      const seen = b.requests.at(-1)
      assert.equal(seen?.headers.host, `localhost:${b.port}`)
      assertNoSecrets(seen)
    })

    it('a hop whose name a range allows is checked by the address it resolves to', async (t) => {
      const gw = await startGateway(`scrape_configs:${job('inside', '/cross', '', `['${a.host}', '127.0.0.0/8:${b.port}']`)}${job('outside', '/cross', '', `['${a.host}', '10.0.0.0/8:${b.port}']`)}`)
      t.after(() => gw.close())
      const inside = await gw.probe('inside', a.host)
      assert.equal(inside.status, 200, 'localhost resolves into 127.0.0.0/8')
      await inside.arrayBuffer()
      const bSaw = b.requests.length
      const outside = await gw.probe('outside', a.host)
      assert.equal(outside.status, 502)
      assert.match(await outside.text(), new RegExp(`^SG_REDIRECT_FORBIDDEN: redirect to "localhost:${b.port}": target "localhost:${b.port}" resolved to .*127\\.0\\.0\\.1.*, which is not allowed for job "outside": `))
      assert.equal(b.requests.length, bSaw, 'no connection was made to the address it resolved to')
    })

    it('a Location in an odd spelling is refused, and a path that looks like an authority stays a path', async (t) => {
      const gw = await startGateway(`scrape_configs:${job('mapped', '/mapped')}${job('slashes', '/double-slash', '', `['${a.host}']`)}`)
      t.after(() => gw.close())
      const [bSaw, cSaw] = [b.requests.length, c.requests.length]
      const mapped = await gw.probe('mapped', a.host)
      assert.equal(mapped.status, 502)
      assert.match(await mapped.text(), /^SG_REDIRECT_FORBIDDEN: redirect to "\[::ffff:7f00:1\]:\d+" is not allowed for job "mapped": .*IPv4-mapped/)
      const slashes = await gw.probe('slashes', a.host)
      assert.equal(slashes.status, 502)
      assert.match(await slashes.text(), /^SG_UPSTREAM_STATUS: upstream returned 404 Not Found /)
      assert.equal(a.requests.at(-1)?.url, `//localhost:${b.port}/metrics`, 'asked of a, as a path')
      assert.deepEqual([b.requests.length, c.requests.length], [bSaw, cSaw])
    })
  })

  it('a cross-host redirect drops Authorization, and later hops back never get it again', async (t) => {
    const gw = await startGateway(`scrape_configs:${job('cross', '/cross')}${job('back', '/cross-and-back')}`)
    t.after(() => gw.close())
    const res = await gw.probe('cross', a.host)
    assert.equal(res.status, 200)
    assert.equal(await res.text(), BODY)
    const seen = b.requests.at(-1)
    assert.equal(seen?.url, '/metrics')
    assert.equal(seen?.headers.host, `localhost:${b.port}`)
    assert.equal(seen?.headers.authorization, undefined)
    assert.equal(seen?.headers.referer, `${a.url}/cross`)
    assert.equal(a.requests.at(-1)?.headers.authorization, 'Bearer s3cret')

    const back = await gw.probe('back', a.host)
    assert.equal(back.status, 200)
    assert.deepEqual(paths(a).slice(-2), ['/cross-and-back', '/final'])
    assert.equal(a.requests.at(-2)?.headers.authorization, 'Bearer s3cret')
    assert.equal(b.requests.at(-1)?.headers.authorization, undefined)
    assert.equal(a.requests.at(-1)?.headers.authorization, undefined, 'sticky: the hop back to the original host is still stripped')
  })

  it('every credential header is dropped on a cross-host hop, other headers are kept', async (t) => {
    const secrets = {
      authorization: 'Bearer s3cret',
      cookie: 'session=1',
      cookie2: '$Version=1',
      'www-authenticate': 'Basic',
      'proxy-authorization': 'Basic cHJveHk6cHc=',
      'proxy-authenticate': 'Basic',
    }
    // What an outer layer (auth, http_headers) put on the request, and what it says may cross hosts of its own.
    const addHeaders = (dispatch: Dispatcher['dispatch']): Dispatcher['dispatch'] => (opts, handler) =>
      dispatch({
        ...opts,
        headers: { ...(opts.headers as Record<string, string>), ...secrets, 'x-tenant': 'blue', 'x-api-key': 'k3y', 'x-mixed': ['plain', 'k3y'] },
        crossHostHeaders: { 'x-api-key': undefined, 'x-mixed': 'plain' },
      } as ProbeDispatchOptions, handler)
    const agent = new Agent()
    t.after(() => agent.close())
    const policy = new TargetPolicy({ name: 'unit', scheme: 'http', targets: [], allowedTargets: [parseTargetRule('127.0.0.1:*'), parseTargetRule('localhost:*')] })
    const client = agent.compose(redirectInterceptor(policy), addHeaders)

    const same = await client.request({ origin: a.url, path: '/same', method: 'GET' })
    assert.equal(same.statusCode, 200)
    await same.body.text()
    const sameSeen = a.requests.at(-1)
    for (const [name, value] of Object.entries(secrets)) assert.equal(sameSeen?.headers[name], value, name)
    assert.equal(sameSeen?.headers['x-api-key'], 'k3y')
    assert.equal(sameSeen?.headers['x-mixed'], 'plain, k3y')

    const cross = await client.request({ origin: a.url, path: '/cross', method: 'GET' })
    assert.equal(cross.statusCode, 200)
    await cross.body.text()
    const crossSeen = b.requests.at(-1)
    for (const name of Object.keys(secrets)) assert.equal(crossSeen?.headers[name], undefined, name)
    assert.equal(crossSeen?.headers['x-tenant'], 'blue')
    assert.equal(crossSeen?.headers['x-api-key'], undefined)
    assert.equal(crossSeen?.headers['x-mixed'], 'plain')
  })

  it('a 3xx without Location, or a status Go does not follow, is the answer', async (t) => {
    const gw = await startGateway(`scrape_configs:${job('none', '/no-location')}${job('choices', '/multiple-choices')}`)
    t.after(() => gw.close())
    const none = await gw.probe('none', a.host)
    assert.equal(none.status, 502)
    assert.match(await none.text(), /^SG_UPSTREAM_STATUS: upstream returned 302 Found /)
    const choices = await gw.probe('choices', a.host)
    assert.equal(choices.status, 502)
    assert.match(await choices.text(), /^SG_UPSTREAM_STATUS: upstream returned 300 Multiple Choices /)
    assert.equal(paths(a).at(-1), '/multiple-choices')
  })

  it('follow_redirects: false makes the 3xx a failure naming the status', async (t) => {
    const gw = await startGateway(`scrape_configs:${job('off', '/same', 'follow_redirects: false')}`)
    t.after(() => gw.close())
    const before = a.requests.length
    const res = await gw.probe('off', a.host)
    assert.equal(res.status, 502)
    assert.match(await res.text(), /^SG_UPSTREAM_STATUS: upstream returned 302 Found \[job="off"/)
    assert.equal(a.requests.length, before + 1)
  })

  it('a Location that does not parse, or leads off http(s), is SG_UPSTREAM_REDIRECT', async (t) => {
    const gw = await startGateway(`scrape_configs:${job('bad', '/bad-location')}${job('ftp', '/ftp')}`)
    t.after(() => gw.close())
    const bad = await gw.probe('bad', a.host)
    assert.equal(bad.status, 502)
    assert.match(await bad.text(), /^SG_UPSTREAM_REDIRECT: failed to parse Location header "http:\/\/\[bad" /)
    const ftp = await gw.probe('ftp', a.host)
    assert.equal(ftp.status, 502)
    assert.match(await ftp.text(), /^SG_UPSTREAM_REDIRECT: unsupported protocol scheme "ftp"/)
  })

  it('the scrape deadline covers every hop', async (t) => {
    const gw = await startGateway(`scrape_configs:${job('slow', '/to-hang', 'scrape_timeout: 300ms')}`)
    t.after(() => gw.close())
    const started = Date.now()
    const res = await gw.probe('slow', a.host)
    assert.equal(res.status, 504)
    assert.match(await res.text(), /^SG_UPSTREAM_TIMEOUT: /)
    assert.ok(Date.now() - started < 5000)
    assert.deepEqual(paths(a).slice(-2), ['/to-hang', '/hang'])
  })

  it('303, 307 and 308 are followed and GET stays GET; a 3xx body is read and dropped', async (t) => {
    const gw = await startGateway(`scrape_configs:${job('kinds', '/see-other')}${job('big', '/big-3xx-body')}`)
    t.after(() => gw.close())
    const kinds = await gw.probe('kinds', a.host)
    assert.equal(kinds.status, 200)
    assert.equal(await kinds.text(), BODY)
    assert.deepEqual(paths(a).slice(-4), ['/see-other', '/temporary', '/permanent', '/metrics'])
    assert.deepEqual(a.requests.slice(-4).map((r) => r.method), ['GET', 'GET', 'GET', 'GET'])

    const big = await gw.probe('big', a.host)
    assert.equal(big.status, 200)
    assert.equal(await big.text(), BODY)
  })
})

describe('the number of redirects', () => {
  let chain: Target
  before(async () => {
    // /chainK/N redirects to /chainK/N+1 until N = K, which serves the body: K redirects, K+1 requests.
    chain = await startHttpTarget((req, res) => {
      const m = /^\/chain(\d+)\/(\d+)$/.exec(req.url ?? '')
      if (m === null) return redirect(res, undefined, 404)
      const [k, n] = [Number(m[1]), Number(m[2])]
      if (n < k) redirect(res, `/chain${k}/${n + 1}`)
      else serve(req, res)
    })
  })
  after(() => chain.close())

  it('9 redirects (10 requests) are followed; the 10th redirect (11 hops) fails with "stopped after 10 redirects"', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: nine
    metrics_path: /chain9/0
    allowed_targets: ['${chain.host}']
  - job_name: ten
    metrics_path: /chain10/0
    allowed_targets: ['${chain.host}']
`)
    t.after(() => gw.close())
    const nine = await gw.probe('nine', chain.host)
    assert.equal(nine.status, 200)
    assert.equal(await nine.text(), BODY)
    assert.equal(chain.requests.filter((r) => r.url.startsWith('/chain9/')).length, 10)

    const ten = await gw.probe('ten', chain.host)
    assert.equal(ten.status, 502)
    assert.equal(await ten.text(), `SG_UPSTREAM_REDIRECT: stopped after 10 redirects [job="ten" target="${chain.host}"]\n`)
    const asked = chain.requests.filter((r) => r.url.startsWith('/chain10/')).map((r) => r.url)
    assert.equal(asked.length, 10)
    assert.equal(asked.at(-1), '/chain10/9', 'the 11th URL is never requested')
  })

  it('a loop is followed to the limit, as Go does; undici\'s own interceptor stops at the first URL it has seen', async (t) => {
    const loop = await startHttpTarget((_req, res) => redirect(res, '/loop'))
    const agent = new Agent()
    const gw = await startGateway(`
scrape_configs:
  - job_name: loop
    metrics_path: /loop
    allowed_targets: ['${loop.host}']
`)
    t.after(async () => { await gw.close(); await agent.close(); await loop.close() })

    const undiciOwn = agent.compose(interceptors.redirect({ maxRedirections: 10 }))
    await assert.rejects(undiciOwn.request({ origin: loop.url, path: '/loop', method: 'GET' }), /Redirect loop detected/)
    const before = loop.requests.length

    const res = await gw.probe('loop', loop.host)
    assert.equal(res.status, 502)
    assert.equal(await res.text(), `SG_UPSTREAM_REDIRECT: stopped after 10 redirects [job="loop" target="${loop.host}"]\n`)
    assert.equal(loop.requests.length - before, 10)
  })
})

describe('Referer', () => {
  it('is not sent from https to http', async (t) => {
    const ca = createCa()
    const plain = await startHttpTarget(serve)
    const secure = await startHttpsTarget(ca.issue({ cn: 'target' }), (_req, res) => redirect(res, `${plain.url}/metrics`))
    const gw = await startGateway(`
scrape_configs:
  - job_name: down
    scheme: https
    tls_config: { ca_file: ${ca.certFile} }
    allowed_targets: ['${secure.host}', '${plain.host}']
`)
    t.after(async () => { await gw.close(); await plain.close(); await secure.close() })
    const res = await gw.probe('down', secure.host)
    assert.equal(res.status, 200)
    assert.equal(plain.requests.at(-1)?.headers.referer, undefined)
  })

  it('is the previous URL without userinfo otherwise', () => {
    assert.equal(refererFor(new URL('http://u:p@a.example/x?y=1#f'), new URL('http://b.example/')), 'http://a.example/x?y=1')
    assert.equal(refererFor(new URL('http://a.example/'), new URL('https://b.example/')), 'http://a.example/')
    assert.equal(refererFor(new URL('https://a.example/'), new URL('http://b.example/')), undefined)
  })
})

describe('what counts as the same host', () => {
  it('the host itself or a subdomain, case and port ignored', () => {
    const cases: Array<[string, string, boolean]> = [
      ['example.com', 'example.com', true],
      ['EXAMPLE.com', 'example.COM', true],
      ['metrics.example.com', 'example.com', true],
      ['a.b.example.com', 'example.com', true],
      ['example.com', 'metrics.example.com', false],
      ['badexample.com', 'example.com', false],
      ['localhost', '127.0.0.1', false],
      ['127.0.0.1', 'localhost', false],
      ['[::1]', '::1', true],
      ['[fe80::1%25eth0.example.com]', 'example.com', false],
    ]
    for (const [host, original, same] of cases) assert.equal(sameHostOrSubdomain(host, original), same, `${host} vs ${original}`)
  })
})

describe('config', () => {
  it('follow_redirects defaults to true and shows in /config', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: default
  - job_name: off
    follow_redirects: false
`)
    t.after(() => gw.close())
    const config = await (await fetch(`${gw.url}/config?format=json`)).json() as { scrape_configs: Array<Record<string, unknown>> }
    assert.deepEqual(config.scrape_configs.map((j) => j.follow_redirects), [true, false])
  })

  it('follow_redirects must be a bool', async () => {
    await assert.rejects(startGateway(`
scrape_configs:
  - job_name: j
    follow_redirects: sometimes
`), { message: /:4:23: scrape_configs\[0\]\.follow_redirects: cannot unmarshal !!str `sometimes` into bool$/ })
  })
})

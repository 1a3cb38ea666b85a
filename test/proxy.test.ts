// Scrapes through forward proxies: a real squid (its own access log proves the
// scrape went through it, forwarded or tunnelled), and a small recording proxy
// of the tests for what squid cannot show (the headers of CONNECT, proxy
// authentication, https proxies). Targets, proxies and the gateway all run on
// 127.0.0.1; `0.0.0.0` reaches the same listeners without being loopback under
// Go's proxy rules, and names like `metrics.test` exist only in the proxies'
// own host tables.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parse as parseYaml } from 'yaml'
import { parseConfig } from '../src/config/load.js'
import { ClientFeatures } from '../plugins/client-registry.js'
import { tlsFeature } from '../plugins/tls.js'
import { proxyFeature } from '../plugins/proxy.js'
import { redirectsFeature } from '../plugins/redirects.js'
import { NoProxy } from '../plugins/proxy/no-proxy.js'
import { redactUrl } from '../src/client/secret-url.js'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { createCa, type Ca, type CertPair } from './helpers/pki.js'
import { exposition, metricsHandler, refusedPort, startHttpsTarget, startHttpTarget, type Target } from './helpers/targets.js'
import { SKIP_WITHOUT_SQUID, startSquid, type Squid } from './helpers/squid.js'
import { startForwardProxy } from './helpers/forward-proxy.js'

const BODY = exposition(100)
const serve = metricsHandler(BODY)
const NAMES = { 'metrics.test': '127.0.0.1' }
const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'REQUEST_METHOD']

function escape (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/**
 * Where the jobs here may be probed: the loopback targets, the names the
 * proxies resolve, and 0.0.0.0, named on purpose (a "this host" address the
 * target policy refuses unless a job names it), which reaches the targets on
 * a path that is not loopback by name (for no_proxy).
 */
const ALLOWED = "allowed_targets: ['127.0.0.1:*', 'localhost:*', '0.0.0.0:*', 'metrics.test:*', '*.internal.test:*']"

function basic (user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64')
}

/** Starts a gateway with exactly `env` as the proxy variables while its config loads, then restores them. */
async function gatewayWithEnv (env: Record<string, string>, yaml: string): Promise<Gateway> {
  const saved = Object.fromEntries(PROXY_VARIABLES.map((n) => [n, process.env[n]]))
  for (const n of PROXY_VARIABLES) delete process.env[n]
  Object.assign(process.env, env)
  try {
    return await startGateway(yaml)
  } finally {
    for (const n of PROXY_VARIABLES) {
      const v = saved[n]
      if (v === undefined) delete process.env[n]
      else process.env[n] = v
    }
  }
}

async function probeText (gw: Gateway, job: string, target: string): Promise<[number, string]> {
  const res = await gw.probe(job, target)
  return [res.status, await res.text()]
}

describe('through squid', { skip: SKIP_WITHOUT_SQUID }, () => {
  let squid: Squid
  let ca: Ca
  let plain: Target
  let secure: Target

  before(async () => {
    squid = await startSquid({ hosts: NAMES })
    ca = createCa()
    plain = await startHttpTarget(serve)
    secure = await startHttpsTarget(ca.issue({ cn: 'target', sans: ['IP:127.0.0.1', 'DNS:localhost', 'DNS:metrics.test'] }), serve)
  })
  after(async () => { await Promise.all([squid?.close(), plain?.close(), secure?.close()]) })

  it('forwards an http target: squid logs the GET with the absolute URI', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: forwarded
    ${ALLOWED}
    proxy_url: ${squid.url}
    static_configs: [{ targets: ['${plain.host}'] }]
`)
    t.after(() => gw.close())
    assert.deepEqual(await probeText(gw, 'forwarded', plain.host), [200, BODY])
    assert.match(String(plain.requests.at(-1)?.headers.via), /squid/, 'the target was reached by squid')
    await squid.waitForLog(new RegExp(` TCP_MISS/200 \\d+ GET http://127\\.0\\.0\\.1:${plain.port}/metrics `))
  })

  it('tunnels an https target with CONNECT: squid logs the tunnel', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: tunnelled
    ${ALLOWED}
    scheme: https
    tls_config: { ca_file: ${ca.certFile} }
    proxy_url: ${squid.url}
`)
    t.after(() => gw.close())
    assert.deepEqual(await probeText(gw, 'tunnelled', secure.host), [200, BODY])
    assert.equal(secure.requests.at(-1)?.headers.via, undefined, 'inside a tunnel squid cannot add headers')
    // Squid logs a tunnel when it closes: closing the gateway closes its kept-alive connection.
    await gw.close()
    await squid.waitForLog(new RegExp(` TCP_TUNNEL/200 \\d+ CONNECT 127\\.0\\.0\\.1:${secure.port} `))
  })

  it('proxy_from_environment uses HTTP_PROXY and HTTPS_PROXY as they were when the config loaded', async (t) => {
    const gw = await gatewayWithEnv({ HTTP_PROXY: squid.url, HTTPS_PROXY: squid.url }, `
scrape_configs:
  - job_name: env-http
    ${ALLOWED}
    proxy_from_environment: true
  - job_name: env-https
    ${ALLOWED}
    scheme: https
    tls_config: { ca_file: ${ca.certFile} }
    proxy_from_environment: true
`)
    t.after(() => gw.close())
    // The variables are gone again by now; what counts is what the load read.
    assert.equal(process.env.HTTP_PROXY, undefined)
    assert.deepEqual(await probeText(gw, 'env-http', `metrics.test:${plain.port}`), [200, BODY])
    await squid.waitForLog(new RegExp(` TCP_MISS/200 \\d+ GET http://metrics\\.test:${plain.port}/metrics `))
    assert.deepEqual(await probeText(gw, 'env-https', `metrics.test:${secure.port}`), [200, BODY])
    await gw.close()
    await squid.waitForLog(new RegExp(` TCP_TUNNEL/200 \\d+ CONNECT metrics\\.test:${secure.port} `))
  })

  it('proxy_from_environment: lower-case http_proxy and no_proxy; localhost never goes through the proxy', async (t) => {
    const gw = await gatewayWithEnv({ http_proxy: squid.url, no_proxy: '0.0.0.0' }, `
scrape_configs:
  - job_name: env
    ${ALLOWED}
    proxy_from_environment: true
`)
    t.after(() => gw.close())
    const before = squid.accessLog().length
    assert.deepEqual(await probeText(gw, 'env', `metrics.test:${plain.port}`), [200, BODY])
    await squid.waitForLog(new RegExp(`GET http://metrics\\.test:${plain.port}/metrics `))
    assert.deepEqual(await probeText(gw, 'env', `localhost:${plain.port}`), [200, BODY])
    assert.deepEqual(await probeText(gw, 'env', `0.0.0.0:${plain.port}`), [200, BODY])
    assert.equal(plain.requests.at(-1)?.headers.via, undefined, 'direct, not through squid')
    const lines = squid.accessLog().slice(before)
    assert.equal(lines.length, 1, lines.join('\n'))
  })

  it('/config shows what the environment gave, password hidden', async (t) => {
    const gw = await gatewayWithEnv({ HTTPS_PROXY: 'http://scraper:hunter2@proxy.internal:3128', NO_PROXY: '.svc' }, `
scrape_configs:
  - job_name: env
    ${ALLOWED}
    proxy_from_environment: true
`)
    t.after(() => gw.close())
    const text = await (await fetch(`${gw.url}/config`)).text()
    assert.doesNotMatch(text, /hunter2/)
    const job = (parseYaml(text) as { scrape_configs: Array<Record<string, unknown>> }).scrape_configs[0]
    assert.equal(job?.proxy_from_environment, true)
    assert.deepEqual(job?.proxy_environment, { http_proxy: '', https_proxy: 'http://scraper:xxxxx@proxy.internal:3128', no_proxy: '.svc' })
  })
})

describe('through a recording proxy', () => {
  let ca: Ca
  let targetCert: CertPair
  let plain: Target
  let secure: Target

  before(async () => {
    ca = createCa()
    targetCert = ca.issue({ cn: 'target', sans: ['IP:127.0.0.1', 'DNS:metrics.test'] })
    plain = await startHttpTarget(serve)
    secure = await startHttpsTarget(targetCert, serve)
  })
  after(async () => { await Promise.all([plain?.close(), secure?.close()]) })

  const jobs = (proxyUrl: string, extra = ''): string => `
scrape_configs:
  - job_name: http
    ${ALLOWED}
    # For an https proxy: Go verifies it with the job's TLS settings, whatever the target's scheme.
    tls_config: { ca_file: ${ca.certFile} }
    proxy_url: '${proxyUrl}'
    ${extra}
  - job_name: https
    ${ALLOWED}
    scheme: https
    tls_config: { ca_file: ${ca.certFile} }
    proxy_url: '${proxyUrl}'
    ${extra}
`

  it('userinfo becomes Proxy-Authorization; proxy_connect_header goes on CONNECT only', async (t) => {
    const expected = basic('scrape user', 'p@ss:word')
    const proxy = await startForwardProxy({ requireAuthorization: expected })
    const gw = await startGateway(jobs(`http://scrape%20user:p%40ss%3Aword@127.0.0.1:${proxy.port}`,
      'proxy_connect_header: { X-Tenant: [blue, green], X-Trace: [t1] }'))
    t.after(async () => { await gw.close(); await proxy.close() })

    assert.deepEqual(await probeText(gw, 'http', plain.host), [200, BODY])
    const forwarded = proxy.requests.at(-1)
    assert.equal(forwarded?.url, `http://${plain.host}/metrics`, 'absolute URI, no tunnel')
    assert.equal(forwarded?.headers.host, plain.host)
    assert.equal(forwarded?.headers['proxy-authorization'], expected)
    assert.equal(forwarded?.headers['x-tenant'], undefined, 'CONNECT headers are not sent on forwarded requests')
    assert.equal(plain.requests.at(-1)?.headers['proxy-authorization'], undefined)
    assert.equal(proxy.connects.length, 0)

    assert.deepEqual(await probeText(gw, 'https', secure.host), [200, BODY])
    const connect = proxy.connects.at(-1)
    assert.equal(connect?.url, secure.host)
    assert.equal(connect?.headers.host, secure.host)
    assert.equal(connect?.headers['proxy-authorization'], expected)
    assert.equal(connect?.headers['x-tenant'], 'blue, green')
    assert.equal(connect?.headers['x-trace'], 't1')
    const seen = secure.requests.at(-1)
    assert.equal(seen?.headers['proxy-authorization'], undefined)
    assert.equal(seen?.headers['x-tenant'], undefined)
  })

  it('a proxy that answers 407 is SG_PROXY, named with its password hidden', async (t) => {
    const proxy = await startForwardProxy({ requireAuthorization: basic('other', 'one') })
    const proxyUrl = `http://scraper:hunter2@127.0.0.1:${proxy.port}`
    const gw = await startGateway(jobs(proxyUrl))
    t.after(async () => { await gw.close(); await proxy.close() })
    const shown = escape(`http://scraper:xxxxx@127.0.0.1:${proxy.port}`)
    const reached = plain.requests.length + secure.requests.length

    const [status, text] = await probeText(gw, 'http', plain.host)
    assert.equal(status, 502)
    assert.match(text, new RegExp(`^SG_PROXY: proxy ${shown} answered 407 Proxy Authentication Required \\[job="http"`))
    const [tStatus, tText] = await probeText(gw, 'https', secure.host)
    assert.equal(tStatus, 502)
    assert.match(tText, new RegExp(`^SG_PROXY: proxy ${shown} refused CONNECT to ${escape(secure.host)}: 407 Proxy Authentication Required \\[`))
    assert.doesNotMatch(text + tText, /hunter2/)
    assert.equal(plain.requests.length + secure.requests.length, reached, 'the targets were never reached')
  })

  it('a proxy that is not listening is SG_PROXY', async (t) => {
    const port = await refusedPort()
    const gw = await startGateway(jobs(`http://127.0.0.1:${port}`))
    t.after(() => gw.close())
    for (const [job, target] of [['http', plain.host], ['https', secure.host]] as const) {
      const [status, text] = await probeText(gw, job, target)
      assert.equal(status, 502)
      assert.match(text, new RegExp(`^SG_PROXY: cannot reach proxy http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`), job)
    }
  })

  it('an https proxy is verified with the job\'s tls_config; an untrusted one is SG_PROXY', async (t) => {
    const proxy = await startForwardProxy({ tls: ca.issue({ cn: 'proxy' }) })
    const gw = await startGateway(jobs(`https://127.0.0.1:${proxy.port}`))
    const stranger = createCa('another CA')
    const untrusted = await startForwardProxy({ tls: stranger.issue({ cn: 'proxy' }) })
    const gw2 = await startGateway(jobs(`https://127.0.0.1:${untrusted.port}`))
    t.after(async () => { await gw.close(); await gw2.close(); await proxy.close(); await untrusted.close() })

    assert.deepEqual(await probeText(gw, 'http', plain.host), [200, BODY])
    assert.equal(proxy.requests.at(-1)?.url, `http://${plain.host}/metrics`, 'http target forwarded over TLS, as Go does')
    assert.deepEqual(await probeText(gw, 'https', secure.host), [200, BODY])
    assert.equal(proxy.connects.at(-1)?.url, secure.host)

    for (const [job, target] of [['http', plain.host], ['https', secure.host]] as const) {
      const [status, text] = await probeText(gw2, job, target)
      assert.equal(status, 502)
      assert.match(text, new RegExp(`^SG_PROXY: TLS handshake with proxy https://127\\.0\\.0\\.1:${untrusted.port} failed: `), job)
    }
    assert.equal(untrusted.requests.length + untrusted.connects.length, 0)
  })

  it('without no_proxy every target uses the proxy, loopback included', async (t) => {
    const proxy = await startForwardProxy()
    const gw = await startGateway(jobs(proxy.url))
    t.after(async () => { await gw.close(); await proxy.close() })
    assert.deepEqual(await probeText(gw, 'http', plain.host), [200, BODY])
    assert.deepEqual(await probeText(gw, 'http', `localhost:${plain.port}`), [200, BODY])
    assert.deepEqual(proxy.requests.map((r) => r.url), [`http://${plain.host}/metrics`, `http://localhost:${plain.port}/metrics`])
  })

  it('no_proxy: matching targets, and loopback once no_proxy is set, go direct', async (t) => {
    const proxy = await startForwardProxy({ hosts: NAMES })
    const gw = await startGateway(`
scrape_configs:
  - job_name: range
    ${ALLOWED}
    proxy_url: ${proxy.url}
    no_proxy: 10.0.0.0/8, 0.0.0.0/8
  - job_name: elsewhere
    ${ALLOWED}
    proxy_url: ${proxy.url}
    no_proxy: 10.0.0.0/8,0.0.0.0:1
  - job_name: domain
    ${ALLOWED}
    proxy_url: ${proxy.url}
    no_proxy: internal.test
    scrape_timeout: 5s
  - job_name: domain-https
    ${ALLOWED}
    scheme: https
    tls_config: { ca_file: ${ca.certFile} }
    proxy_url: ${proxy.url}
    no_proxy: '*.internal.test'
`)
    t.after(async () => { await gw.close(); await proxy.close() })
    const direct = `0.0.0.0:${plain.port}`

    assert.deepEqual(await probeText(gw, 'range', direct), [200, BODY])
    assert.deepEqual(await probeText(gw, 'range', plain.host), [200, BODY], 'loopback')
    assert.equal(proxy.requests.length, 0)

    assert.deepEqual(await probeText(gw, 'elsewhere', direct), [200, BODY], 'another port does not match')
    assert.deepEqual(proxy.requests.map((r) => r.url), [`http://${direct}/metrics`])

    assert.deepEqual(await probeText(gw, 'domain', `metrics.test:${plain.port}`), [200, BODY])
    assert.equal(proxy.requests.at(-1)?.url, `http://metrics.test:${plain.port}/metrics`)
    // A subdomain of a no_proxy domain goes direct: the gateway itself looks the name up (and finds nothing).
    const [status, text] = await probeText(gw, 'domain', `scrape.internal.test:${plain.port}`)
    assert.ok(status === 502 || status === 504, text)
    assert.match(text, /^SG_UPSTREAM_(CONNECT: getaddrinfo \w+ scrape\.internal\.test|TIMEOUT)/)
    assert.equal(proxy.requests.length, 2)

    assert.deepEqual(await probeText(gw, 'domain-https', `metrics.test:${secure.port}`), [200, BODY])
    assert.equal(proxy.connects.at(-1)?.url, `metrics.test:${secure.port}`)
  })

  it('each redirect hop is routed by its own origin', async (t) => {
    const proxy = await startForwardProxy({ hosts: NAMES })
    const first = await startHttpTarget((_req, res) => { res.writeHead(302, { location: `http://0.0.0.0:${plain.port}/metrics`, 'content-length': 0 }).end() })
    const gw = await startGateway(`
scrape_configs:
  - job_name: hops
    ${ALLOWED}
    proxy_url: ${proxy.url}
    no_proxy: 0.0.0.0
`)
    t.after(async () => { await gw.close(); await proxy.close(); await first.close() })
    assert.deepEqual(await probeText(gw, 'hops', `metrics.test:${first.port}`), [200, BODY])
    assert.deepEqual(proxy.requests.map((r) => r.url), [`http://metrics.test:${first.port}/metrics`])
    assert.equal(plain.requests.at(-1)?.headers.host, `0.0.0.0:${plain.port}`)
  })

  it('/config shows the proxy with its password hidden and CONNECT header values as <secret>', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: shown
    ${ALLOWED}
    proxy_url: http://scraper:hunter2@proxy.internal:3128
    no_proxy: .svc,10.0.0.0/8
    proxy_connect_header: { X-Token: [tok3n] }
`)
    t.after(() => gw.close())
    const text = await (await fetch(`${gw.url}/config`)).text()
    assert.doesNotMatch(text, /hunter2|tok3n/)
    const job = (parseYaml(text) as { scrape_configs: Array<Record<string, unknown>> }).scrape_configs[0]
    assert.equal(job?.proxy_url, 'http://scraper:xxxxx@proxy.internal:3128')
    assert.equal(job?.no_proxy, '.svc,10.0.0.0/8')
    assert.deepEqual(job?.proxy_connect_header, { 'x-token': ['<secret>'] })
  })
})

describe('proxy config validation', () => {
  const features = new ClientFeatures()
  for (const f of [tlsFeature, proxyFeature, redirectsFeature]) features.add(f)
  const load = (job: string): void => {
    parseConfig(`scrape_configs:\n  - job_name: j\n${job.replace(/^/gm, '    ')}\n`, 'gw.yml', features)
  }
  const refuses = (job: string, where: string, detail: string): void => {
    assert.throws(() => load(job), (err: Error & { detail?: string }) => {
      assert.equal(err.detail, detail)
      assert.match(err.message, new RegExp(`^gw\\.yml:\\d+:\\d+: ${escape(where)}: `))
      return true
    }, job)
  }

  it('uses Prometheus\'s messages, in Prometheus\'s order', () => {
    refuses('proxy_connect_header: { X-A: [b] }', 'scrape_configs[0].proxy_connect_header',
      'if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured')
    refuses('proxy_connect_header: { X-A: [b] }\nno_proxy: x', 'scrape_configs[0].proxy_connect_header',
      'if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured')
    refuses('proxy_from_environment: true\nproxy_url: http://p:3128\nno_proxy: x', 'scrape_configs[0].proxy_url',
      'if proxy_from_environment is configured, proxy_url must not be configured')
    refuses('proxy_from_environment: true\nno_proxy: x', 'scrape_configs[0].no_proxy',
      'if proxy_from_environment is configured, no_proxy must not be configured')
    refuses('no_proxy: example.com', 'scrape_configs[0].no_proxy', 'if no_proxy is configured, proxy_url must also be configured')
    // As in Go, an empty proxy_url is "set" for that last rule, and means no proxy.
    load('proxy_url: ""\nno_proxy: example.com')
    load('proxy_from_environment: true\nproxy_connect_header: { X-A: [b] }')
  })

  it('refuses proxy URLs that cannot be used', () => {
    refuses('proxy_url: 127.0.0.1:3128', 'scrape_configs[0].proxy_url',
      'parse "127.0.0.1:3128": invalid URL: want http://host:port or https://host:port')
    refuses('proxy_url: socks5://u:pw@127.0.0.1:1080', 'scrape_configs[0].proxy_url',
      'proxy scheme "socks5" is not supported yet by scrape-gateway (http and https proxies are): socks5://u:xxxxx@127.0.0.1:1080')
    refuses('proxy_url: ftp://127.0.0.1', 'scrape_configs[0].proxy_url', 'unsupported proxy scheme "ftp" in ftp://127.0.0.1: want http:// or https://')
    refuses('proxy_url: http://proxy:3128\nproxy_connect_header: { "Bad Name": [x] }', 'scrape_configs[0].proxy_connect_header.Bad Name',
      'invalid header name "Bad Name"')
  })
})

describe('printing a URL that carries secrets (README "Secrets")', () => {
  it('shows the password as xxxxx and every query value and a fragment as <secret>, the rest as written', () => {
    const cases: Array<[string, string]> = [
      ['http://scraper:pw@proxy:3128', 'http://scraper:xxxxx@proxy:3128'],
      ['http://scraper@proxy:3128', 'http://scraper@proxy:3128'],
      ['http://:pw@proxy:3128', 'http://:xxxxx@proxy:3128'],
      ['http://u:p@ss@proxy:3128/', 'http://u:xxxxx@proxy:3128/'],
      ['https://idp/token?client_secret=abc&x=1', 'https://idp/token?client_secret=<secret>&x=<secret>'],
      ['https://proxy:3128/?a=1&b=&c&&d=%3D', 'https://proxy:3128/?a=<secret>&b=&<secret>&&d=<secret>'],
      ['http://u:pw@proxy:3128?x=a@b#f', 'http://u:xxxxx@proxy:3128?x=<secret>#<secret>'],
      ['http://proxy:3128/p@th?q=1', 'http://proxy:3128/p@th?q=<secret>'],
      ['proxy:3128', 'proxy:3128'],
    ]
    for (const [written, shown] of cases) assert.equal(redactUrl(written), shown, written)
  })
})

describe('no_proxy matching (Go httpproxy rules)', () => {
  const cases: Array<[string, string, string, boolean]> = [
    // list, host, port, direct?
    ['', 'example.com', '80', false],
    ['', 'localhost', '80', true],
    ['', '127.0.0.2', '80', true],
    ['', '[::1]', '80', true],
    ['*', 'example.com', '443', true],
    ['example.com', 'example.com', '80', true],
    ['example.com', 'api.example.com', '80', true],
    ['example.com', 'badexample.com', '80', false],
    ['.example.com', 'example.com', '80', false],
    ['.example.com', 'api.example.com', '80', true],
    ['*.example.com', 'example.com', '80', false],
    ['*.example.com', 'api.example.com', '80', true],
    ['Example.COM:8080', 'example.com', '8080', true],
    ['example.com:8080', 'example.com', '80', false],
    ['10.0.0.0/8', '10.1.2.3', '80', true],
    ['10.0.0.0/8', '11.1.2.3', '80', false],
    ['10.1.2.3', '10.1.2.3', '9100', true],
    ['10.1.2.3:9100', '10.1.2.3', '9100', true],
    ['10.1.2.3:9100', '10.1.2.3', '9101', false],
    ['fd00::/8', '[fd12::1]', '80', true],
    ['[fd12::1]:9100', '[fd12::1]', '9100', true],
    ['fd12::1', '[fd12::1]', '443', true],
    [' a.test , ,b.test ', 'x.b.test', '80', true],
    ['bücher.example', 'xn--bcher-kva.example', '80', true],
  ]
  it('matches hosts, domains, IPs and CIDRs with optional ports', () => {
    for (const [list, host, port, direct] of cases) {
      assert.equal(new NoProxy(list).bypass(host, port), direct, `no_proxy=${JSON.stringify(list)} ${host}:${port}`)
    }
  })
})

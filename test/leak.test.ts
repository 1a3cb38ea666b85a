// Secret hygiene. First, a Secret (and a URL that carries secrets) prints as
// its placeholder however it is printed. Then the leak test: distinct,
// recognisable secrets of every kind a job can hold go through a real gateway
// (real targets, real token endpoints, real forward proxies) in success and
// failure scenarios, and nothing a caller or an operator sees (every
// response's head and body, the debug report of every scenario
// (`debug=true`), /config, /metrics, the debug log) holds any of them, raw,
// URL-encoded, JSON-escaped or in base64.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { format, inspect } from 'node:util'
import pino from 'pino'
import { Secret } from '../src/client/secret.js'
import { SecretUrl } from '../src/client/secret-url.js'
import { queryEscape } from '../src/go-format.js'
import { parseProxyUrl } from '../plugins/proxy/url.js'
import { get } from './helpers/client.js'
import { startForwardProxy, type ForwardProxy } from './helpers/forward-proxy.js'
import { startGateway } from './helpers/gateway.js'
import { createCa, tmpDir, type Ca } from './helpers/pki.js'
import { exposition, metricsHandler, refusedPort, startHttpsTarget, startHttpTarget, type Target } from './helpers/targets.js'
import { basicCredentials, json, startTokenEndpoint, type TokenEndpoint } from './helpers/token-endpoint.js'

const BODY = exposition(20)

/** Every way a value is printed, joined. */
function printed (value: unknown): string {
  const lines: string[] = []
  const log = pino({ level: 'trace' }, { write (line: string) { lines.push(line) } })
  log.info({ value, nested: { deep: [value] } }, 'logged')
  log.info(format('%s', value))
  log.info({ err: Object.assign(new Error('failed'), { value }) }, 'with an error')
  return [
    String(value), `${String(value)}`, `${value as string}`, '' + (value as string), JSON.stringify(value), JSON.stringify({ value }),
    inspect(value), inspect({ value }, { showHidden: true, depth: Infinity, getters: true }),
    format('%s %o %O %j', value, value, value, value), Buffer.from(value as string).toString(),
    ...lines,
  ].join('\n')
}

describe('a secret prints as its placeholder, however it is printed', () => {
  it('Secret: <secret> in strings, templates, JSON, util.inspect, util.format and pino', () => {
    const text = printed(new Secret('hunter2-Secret'))
    assert.ok(!text.includes('hunter2'), text)
    assert.ok(text.includes('<secret>'))
    assert.equal(new Secret('hunter2').reveal(), 'hunter2')
  })

  it('a URL that carries secrets: the password as xxxxx, query values as <secret>', () => {
    for (const url of [
      new SecretUrl('https://idp.example/token?client_secret=hunter2-q&tenant=hunter2-t'),
      parseProxyUrl('http://scraper:hunter2-pw@proxy.example:3128/?route=hunter2-r'),
    ]) {
      const text = printed(url)
      assert.ok(!text.includes('hunter2'), text)
      assert.ok(text.includes('<secret>'))
    }
    assert.equal(String(new SecretUrl('https://u:p@idp/t?a=1&b=2')), 'https://u:xxxxx@idp/t?a=<secret>&b=<secret>')
    assert.equal(new SecretUrl('https://u:p@idp/t?a=1').reveal(), 'https://u:p@idp/t?a=1')
  })

  it('the placeholder is never a value', () => {
    assert.throws(() => new Secret('<secret>'), /"<secret>" is what scrape-gateway \(like Prometheus\) prints in place of a secret, not a secret/)
    assert.throws(() => new SecretUrl('https://idp/t?client_secret=<secret>'), /the query value of "client_secret" is "<secret>"/)
    assert.throws(() => new SecretUrl('https://idp/t?client_secret=%3Csecret%3E'), /the query value of "client_secret" is "<secret>"/)
    assert.throws(() => parseProxyUrl('http://u:xxxxx@proxy:3128'), /the password is "xxxxx"/)
  })
})

/**
 * A secret of kind `kind`: a recognisable core (letters, digits, `-`: the
 * same in every encoding but base64) and characters that every encoding
 * writes differently (space, `/+="\&%~`).
 */
function secretOf (kind: string, tag: string): string {
  return `SGLEAK-${kind}-${tag} /+="\\&%~`
}

function base64Forms (s: string): string[] {
  const out: string[] = []
  // A string inside a longer base64'd one (`user:secret`) keeps the encoding of
  // its bytes from the first 3-byte boundary on, whatever comes before it.
  for (let k = 0; k < 3; k++) {
    const aligned = Buffer.from(s).subarray(k)
    const whole = aligned.subarray(0, aligned.length - (aligned.length % 3))
    out.push(whole.toString('base64'), whole.toString('base64url'))
  }
  return out
}

/** What to look for of one secret: the forms it can take in a text. */
function needles (secret: string): Array<[string, string]> {
  const core = secret.split(' ')[0] as string
  return [
    ['raw', secret],
    ['core', core],
    ['URL-encoded', encodeURIComponent(secret)],
    ['QueryEscaped', queryEscape(secret)],
    ['JSON-escaped', JSON.stringify(secret).slice(1, -1)],
    ['base64', Buffer.from(secret).toString('base64')],
    ...base64Forms(secret).map((n): [string, string] => ['base64 (in a longer value)', n]),
    ...base64Forms(core).map((n): [string, string] => ['base64 of the core (in a longer value)', n]),
  ]
}

/** Every occurrence of any form of any secret in `text`, worded for a failure message. */
function leaksIn (where: string, text: string, secrets: Readonly<Record<string, string>>): string[] {
  const found: string[] = []
  for (const [kind, secret] of Object.entries(secrets)) {
    for (const [form, needle] of needles(secret)) {
      const at = text.indexOf(needle)
      if (at !== -1) found.push(`${where}: ${kind} (${form}) in …${text.slice(Math.max(0, at - 80), at + needle.length + 40)}…`)
    }
  }
  return found
}

function basic (user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64')
}

describe('no secret leaks through the gateway', () => {
  const tag = randomBytes(6).toString('hex')
  const S = {
    bearerInline: secretOf('bearer-inline', tag),
    bearerFile: secretOf('bearer-file', tag),
    basicPassword: secretOf('basic-password', tag),
    basicPasswordFile: secretOf('basic-password-file', tag),
    authorizationCredentials: secretOf('authorization-credentials', tag),
    authorizationCredentialsFile: secretOf('authorization-credentials-file', tag),
    clientSecret: secretOf('oauth2-client-secret', tag),
    tokenUrlQuery: secretOf('oauth2-token-url-query', tag),
    accessToken: secretOf('oauth2-access-token', tag),
    headerSecret: secretOf('http-headers-secret', tag),
    headerFile: secretOf('http-headers-file', tag),
    proxyPassword: secretOf('proxy-password', tag),
    proxyUrlQuery: secretOf('proxy-url-query', tag),
    connectHeader: secretOf('proxy-connect-header', tag),
    oauth2ProxyPassword: secretOf('oauth2-proxy-password', tag),
    oauth2ProxyUrlQuery: secretOf('oauth2-proxy-url-query', tag),
    badFile: secretOf('bad-credentials-file', tag),
  }
  const e = encodeURIComponent
  const q = (s: string): string => JSON.stringify(s)

  const files = tmpDir('sg-leak-')
  let ca: Ca
  let ok: Target
  let failing: Target
  let secure: Target
  let untrusted: Target
  let down: string
  let tokens: TokenEndpoint
  let refusingTokens: TokenEndpoint
  let untrustedTokens: TokenEndpoint
  let tokensDownPort: number
  let proxy: ForwardProxy
  let oauth2Proxy: ForwardProxy
  let refusingProxy: ForwardProxy
  let proxyDownPort: number

  /** What a caller or an operator could see, by where it was seen. */
  const seen: Array<[string, string]> = []

  before(async () => {
    ca = createCa()
    const stranger = createCa('a CA nobody trusts')
    const serve = metricsHandler(BODY)
    ok = await startHttpTarget(serve)
    // A target that fails and echoes the request, credentials included, in its
    // body and in a response header (which a debug report shows).
    failing = await startHttpTarget((req, res) => {
      res.writeHead(500, { 'content-type': 'application/json', 'x-echo': JSON.stringify(req.headers) })
      res.end(JSON.stringify({ url: req.url, headers: req.headers }))
    })
    secure = await startHttpsTarget(ca.issue({ cn: 'target' }), serve)
    untrusted = await startHttpsTarget(stranger.issue({ cn: 'target' }), serve)
    down = `127.0.0.1:${await refusedPort()}`
    tokens = await startTokenEndpoint((_call, res) => {
      json(res, 200, { access_token: S.accessToken, token_type: 'bearer', expires_in: 3600 })
    })
    // A token endpoint that refuses and echoes everything it was sent, as an
    // error field (`/json`) or as its whole body (`/plain`).
    refusingTokens = await startTokenEndpoint((call, res) => {
      const echo = [call.method, call.url, JSON.stringify(call.headers), call.body,
        JSON.stringify(basicCredentials(call.headers.authorization)), JSON.stringify([...call.form])].join('\n')
      if (call.url.includes('/plain')) {
        res.writeHead(401, { 'content-type': 'text/plain' })
        res.end(echo)
      } else {
        json(res, 401, { error: 'invalid_client', error_description: echo })
      }
    })
    untrustedTokens = await startTokenEndpoint(undefined, stranger.issue({ cn: 'idp' }))
    tokensDownPort = await refusedPort()
    proxy = await startForwardProxy({ requireAuthorization: basic('scraper', S.proxyPassword) })
    oauth2Proxy = await startForwardProxy({ requireAuthorization: basic('idp-user', S.oauth2ProxyPassword) })
    refusingProxy = await startForwardProxy({ requireAuthorization: basic('someone', 'else') })
    proxyDownPort = await refusedPort()
    writeFileSync(path.join(files, 'bearer'), S.bearerFile + '\n')
    writeFileSync(path.join(files, 'password'), S.basicPasswordFile)
    writeFileSync(path.join(files, 'credentials'), S.authorizationCredentialsFile)
    writeFileSync(path.join(files, 'header'), S.headerFile)
    // Two lines: Go's transport refuses it as a header value; the error must not quote it.
    writeFileSync(path.join(files, 'two-lines'), `${S.badFile}\n${S.badFile}`)
  })
  after(async () => {
    await Promise.all([ok, failing, secure, untrusted, tokens, refusingTokens, untrustedTokens, proxy, oauth2Proxy, refusingProxy]
      .map(async (s) => { await s?.close() }))
    rmSync(files, { recursive: true, force: true })
  })

  const proxyUrl = (port: number, user: string, password: string, query: string): string =>
    `http://${user}:${e(password)}@127.0.0.1:${port}/?route=${e(query)}`
  const tokenUrl = (base: string): string => `${base}?api_key=${e(S.tokenUrlQuery)}`

  /** The auth (and proxy) keys of each kind of job, probed as `NAME` (http) and `NAME-tls` (https). */
  const kinds = (): Record<string, string> => ({
    bearer: `bearer_token: ${q(S.bearerInline)}`,
    'bearer-file': `bearer_token_file: ${path.join(files, 'bearer')}`,
    basic: `basic_auth: { username: scraper, password: ${q(S.basicPassword)} }`,
    'basic-file': `basic_auth: { username: scraper, password_file: ${path.join(files, 'password')} }`,
    authorization: `authorization: { type: Token, credentials: ${q(S.authorizationCredentials)} }`,
    'authorization-file': `authorization: { type: Token, credentials_file: ${path.join(files, 'credentials')} }`,
    oauth2: `oauth2: { client_id: scraper, client_secret: ${q(S.clientSecret)}, token_url: ${q(tokenUrl(tokens.url))} }`,
    headers: `http_headers: { X-Api-Key: { secrets: [${q(S.headerSecret)}], files: [${path.join(files, 'header')}] } }`,
    proxied: `proxy_url: ${q(proxyUrl(proxy.port, 'scraper', S.proxyPassword, S.proxyUrlQuery))}
    proxy_connect_header: { X-Tenant-Key: [${q(S.connectHeader)}] }`,
  })

  /** Jobs that fail before any target is reached, each probed at `ok`. */
  const failures = (): Record<string, string> => ({
    'oauth2-refused-json': `oauth2: { client_id: scraper, client_secret: ${q(S.clientSecret)}, token_url: ${q(tokenUrl(refusingTokens.url + '/json'))} }`,
    'oauth2-refused-plain': `oauth2: { client_id: scraper, client_secret: ${q(S.clientSecret)}, token_url: ${q(tokenUrl(refusingTokens.url + '/plain'))} }`,
    'oauth2-down': `oauth2: { client_id: scraper, client_secret: ${q(S.clientSecret)}, token_url: ${q(tokenUrl(`http://127.0.0.1:${tokensDownPort}/token`))} }`,
    'oauth2-tls-failure': `oauth2:
      client_id: scraper
      client_secret: ${q(S.clientSecret)}
      token_url: ${q(tokenUrl(untrustedTokens.url))}
      tls_config: { ca_file: ${ca.certFile} }`,
    'oauth2-proxy-refusing': `oauth2:
      client_id: scraper
      client_secret: ${q(S.clientSecret)}
      token_url: ${q(tokenUrl(tokens.url))}
      proxy_url: ${q(proxyUrl(refusingProxy.port, 'idp-user', S.oauth2ProxyPassword, S.oauth2ProxyUrlQuery))}`,
    'proxy-refusing': `proxy_url: ${q(proxyUrl(refusingProxy.port, 'scraper', S.proxyPassword, S.proxyUrlQuery))}`,
    'proxy-down': `proxy_url: ${q(proxyUrl(proxyDownPort, 'scraper', S.proxyPassword, S.proxyUrlQuery))}`,
    'bearer-file-missing': `bearer_token_file: ${path.join(files, 'missing')}`,
    'basic-file-missing': `basic_auth: { username: scraper, password_file: ${path.join(files, 'missing')} }`,
    'credentials-two-lines': `authorization: { credentials_file: ${path.join(files, 'two-lines')} }`,
    'header-file-two-lines': `http_headers: { X-Api-Key: { files: [${path.join(files, 'two-lines')}] } }`,
    'client-secret-file-missing': `oauth2: { client_id: scraper, client_secret_file: ${path.join(files, 'missing')}, token_url: ${q(tokenUrl(tokens.url))} }`,
  })

  const job = (name: string, scheme: 'http' | 'https', targets: readonly string[], keys: string): string => `
  - job_name: ${name}
    scheme: ${scheme}
    static_configs: [{ targets: [${targets.map((t) => `'${t}'`).join(', ')}] }]
    tls_config: { ca_file: ${ca.certFile} }
    ${keys}`

  const config = (): string => 'scrape_configs:' + [
    ...Object.entries(kinds()).flatMap(([name, keys]) => [
      job(name, 'http', [ok.host, failing.host, down], keys),
      job(`${name}-tls`, 'https', [secure.host, untrusted.host], keys),
    ]),
    job('oauth2-proxied', 'http', [ok.host], `oauth2:
      client_id: scraper
      client_secret: ${q(S.clientSecret)}
      token_url: ${q(tokenUrl(tokens.url))}
      proxy_url: ${q(proxyUrl(oauth2Proxy.port, 'idp-user', S.oauth2ProxyPassword, S.oauth2ProxyUrlQuery))}`),
    ...Object.entries(failures()).flatMap(([name, keys]) => [
      job(name, 'http', [ok.host], keys),
      ...(name.startsWith('proxy-') ? [job(`${name}-tls`, 'https', [secure.host], keys)] : []),
    ]),
  ].join('') + '\n'

  it('keeps every secret out of responses, /config, /metrics and the debug log, in every scenario', async () => {
    const logFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'sg-leak-log-')), 'gateway.log')
    const logFd = openSync(logFile, 'w')
    const yaml = config()
    const gw = await startGateway(yaml, { logLevel: 'debug', logFd })
    const outcomes: string[] = []
    const debugOutcomes: string[] = []
    const expected: Record<string, string> = {}
    try {
      const probe = async (jobName: string, target: string): Promise<string> => {
        const res = await get(`${gw.url}/probe?job=${e(jobName)}&target=${e(target)}`)
        const body = res.body.toString('utf8')
        seen.push([`/probe ${jobName} ${target}`, `${res.status}\n${JSON.stringify(res.headers)}\n${body}`])
        const outcome = res.status === 200 ? '200' : `${res.status} ${body.split(':')[0] ?? ''}`
        outcomes.push(`${jobName} ${target === down ? 'down' : target}: ${outcome}`)
        // The same scenario's debug report: always a 200, naming the outcome the probe above answered.
        const debug = await get(`${gw.url}/probe?job=${e(jobName)}&target=${e(target)}&debug=true`)
        const report = debug.body.toString('utf8')
        seen.push([`/probe debug ${jobName} ${target}`, `${debug.status}\n${JSON.stringify(debug.headers)}\n${report}`])
        assert.equal(debug.status, 200, report)
        const code = /^Outcome: (\S+) /m.exec(report)?.[1]
        debugOutcomes.push(`${jobName} ${target === down ? 'down' : target}: ${code === 'success' ? '200' : `${res.status} ${code ?? report}`}`)
        return body
      }

      for (const name of Object.keys(kinds())) {
        // Through the proxy, an unreachable target is the proxy's 502; direct, a refused connection.
        const downOutcome = name === 'proxied' ? '502 SG_UPSTREAM_STATUS' : '502 SG_UPSTREAM_CONNECT'
        Object.assign(expected, {
          [`${name} ${ok.host}`]: '200',
          [`${name} ${failing.host}`]: '502 SG_UPSTREAM_STATUS',
          [`${name} down`]: downOutcome,
          [`${name}-tls ${secure.host}`]: '200',
          [`${name}-tls ${untrusted.host}`]: '502 SG_UPSTREAM_TLS',
        })
        await probe(name, ok.host)
        await probe(name, failing.host)
        await probe(name, down)
        await probe(`${name}-tls`, secure.host)
        await probe(`${name}-tls`, untrusted.host)
      }
      expected[`oauth2-proxied ${ok.host}`] = '200'
      await probe('oauth2-proxied', ok.host)
      for (const name of Object.keys(failures())) {
        const code = name.startsWith('oauth2-') ? 'SG_OAUTH2_TOKEN' : name.startsWith('proxy-') ? 'SG_PROXY' : 'SG_CREDENTIALS'
        expected[`${name} ${ok.host}`] = `${code === 'SG_CREDENTIALS' ? 500 : 502} ${code}`
        await probe(name, ok.host)
        if (name.startsWith('proxy-')) {
          expected[`${name}-tls ${secure.host}`] = `502 ${code}`
          await probe(`${name}-tls`, secure.host)
        }
      }

      // A reload refused for a URL or a placeholder names neither the secret nor the placeholder as a value.
      for (const bad of [
        `scrape_configs:\n  - job_name: bad\n    oauth2: { client_id: a, token_url: ${q(`ftp://u:${e(S.clientSecret)}@idp/token?client_secret=${e(S.tokenUrlQuery)}`)} }\n`,
        `scrape_configs:\n  - job_name: bad\n    proxy_url: ${q(`socks5://u:${e(S.proxyPassword)}@127.0.0.1:1080/?q=${e(S.proxyUrlQuery)}`)}\n`,
        `scrape_configs:\n  - job_name: bad\n    basic_auth: { username: ${q(S.basicPassword)}, password: <secret> }\n`,
      ]) {
        writeFileSync(gw.configFile, bad)
        const res = await fetch(`${gw.url}/-/reload`, { method: 'POST' })
        const text = await res.text()
        assert.equal(res.status, 500, text)
        seen.push(['/-/reload', text])
      }
      writeFileSync(gw.configFile, yaml)
      const reloaded = await fetch(`${gw.url}/-/reload`, { method: 'POST' })
      assert.equal(reloaded.status, 200)

      seen.push(['/config', await (await fetch(`${gw.url}/config`)).text()])
      seen.push(['/metrics', await (await fetch(`${gw.url}/metrics`)).text()])
    } finally {
      await gw.close()
    }
    seen.push(['the log', readFileSync(logFile, 'utf8')])
    closeSync(logFd)

    const leaks = seen.flatMap(([where, text]) => leaksIn(where, text, S))
    assert.deepEqual(leaks, [], `secrets leaked:\n${leaks.join('\n')}`)

    // The secrets were really used where they belong: a test that never sent them would prove nothing.
    const sentTo = (t: Target): string[] => t.requests.flatMap((r) => [r.headers.authorization, r.headers['x-api-key']].flat())
      .filter((v): v is string => v !== undefined)
    const atTargets = [...sentTo(ok), ...sentTo(secure), ...sentTo(failing)]
    for (const value of [
      `Bearer ${S.bearerInline}`, `Bearer ${S.bearerFile}`, basic('scraper', S.basicPassword), basic('scraper', S.basicPasswordFile),
      `Token ${S.authorizationCredentials}`, `Token ${S.authorizationCredentialsFile}`, `Bearer ${S.accessToken}`,
      S.headerSecret, S.headerFile,
    ]) assert.ok(atTargets.some((v) => v.includes(value)), `sent to the targets: ${value}`)
    assert.ok(tokens.calls.some((c) => basicCredentials(c.headers.authorization)?.[1] === S.clientSecret), 'the client secret reached the token endpoint')
    assert.ok(tokens.calls.every((c) => new URL(c.url, 'http://x').searchParams.get('api_key') === S.tokenUrlQuery), 'the token URL\'s query reached it')
    assert.ok(refusingTokens.calls.length >= 4, 'the refusing endpoint was asked, both ways, by both jobs')
    assert.ok(proxy.connects.some((c) => c.headers['x-tenant-key'] === S.connectHeader), 'proxy_connect_header reached the proxy')
    assert.ok(oauth2Proxy.requests.some((r) => r.headers['proxy-authorization'] === basic('idp-user', S.oauth2ProxyPassword)))

    assert.deepEqual(outcomes, Object.entries(expected).map(([k, v]) => `${k}: ${v}`), 'every scenario ended as it should')
    assert.deepEqual(debugOutcomes, outcomes, 'every debug report names the outcome of its scenario')

    // The URLs that carry secrets are named in these errors, hidden as README "Secrets" says.
    const errorOf = (name: string): string => seen.find(([where]) => where.startsWith(`/probe ${name} `))?.[1] ?? ''
    assert.match(errorOf('oauth2-down'), /Post "http:\/\/127\.0\.0\.1:\d+\/token\?api_key=<secret>": /)
    assert.match(errorOf('proxy-refusing'), /proxy http:\/\/scraper:xxxxx@127\.0\.0\.1:\d+\/\?route=<secret> answered 407/)
    assert.match(errorOf('proxy-down-tls'), /cannot reach proxy http:\/\/scraper:xxxxx@127\.0\.0\.1:\d+\/\?route=<secret>: /)
    assert.match(errorOf('oauth2-proxy-refusing'), /proxy http:\/\/idp-user:xxxxx@127\.0\.0\.1:\d+\/\?route=<secret> answered 407/)
    assert.match(errorOf('oauth2-refused-json'), /<secret>/, 'the echoed client secret is hidden, not cut')
    // The debug reports show where the secrets went, masked.
    const reportOf = (name: string, target: string): string => seen.find(([where]) => where === `/probe debug ${name} ${target}`)?.[1] ?? ''
    assert.match(reportOf('bearer', ok.host), /^ {2}Authorization: Bearer <secret>$/m)
    assert.match(reportOf('basic', ok.host), /^ {2}Authorization: Basic <secret>$/m)
    assert.match(reportOf('authorization', ok.host), /^ {2}Authorization: Token <secret>$/m)
    assert.match(reportOf('headers', ok.host), /^ {2}X-Api-Key: <secret>\n {2}X-Api-Key: <secret>$/m)
    assert.match(reportOf('proxied', ok.host), /^Proxy: http:\/\/scraper:xxxxx@127\.0\.0\.1:\d+\/\?route=<secret>, forwarded/m)
    assert.match(reportOf('proxied-tls', secure.host), /^ {2}X-Tenant-Key: <secret> \(proxy_connect_header, on CONNECT\)$/m)
    assert.match(reportOf('oauth2', ok.host), /^Auth: oauth2, token from http:\/\/127\.0\.0\.1:\d+\/oauth2\/token\?api_key=<secret>$/m)
    assert.match(reportOf('bearer', failing.host), /^ {2}X-Echo: .*Bearer <secret>/m, 'a credential the target echoes is hidden in the report')
  })

  it('finds each secret in each form it looks for (the test above proves something)', () => {
    const s = S.basicPassword
    for (const text of [
      s, `x${encodeURIComponent(s)}y`, queryEscape(s), JSON.stringify({ s }), Buffer.from(s).toString('base64'),
      basic('scraper', s), basic('ab', s), basic('abc', s), `"${Buffer.from(`id:${queryEscape(s)}`).toString('base64url')}"`,
      s.split(' ')[0] as string,
    ]) {
      assert.notDeepEqual(leaksIn('text', text, { s }), [], text)
    }
    assert.deepEqual(leaksIn('text', 'Basic <secret> xxxxx', { s }), [])
  })
})

// oauth2 end to end: a real token endpoint served by the test on 127.0.0.1
// (http and https), a real target that checks the exact Authorization, and a
// real gateway between them. What the endpoint receives is compared with what
// Prometheus (golang.org/x/oauth2) sends.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parse as parseYaml } from 'yaml'
import { generateKeyPairSync, verify } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { createCa, tmpDir, type Ca } from './helpers/pki.js'
import { exposition, metricsHandler, refusedPort, startHttpTarget, type Handler, type Target } from './helpers/targets.js'
import { startGateway } from './helpers/gateway.js'
import { startForwardProxy } from './helpers/forward-proxy.js'
import { basicCredentials, issueTokens, json, startTokenEndpoint } from './helpers/token-endpoint.js'

const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
const BODY = exposition(200)
const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A target that serves only requests whose Authorization is one of `accepted()`; 401 otherwise. */
function requireAuthorization (accepted: () => readonly string[]): Handler {
  const serve = metricsHandler(BODY)
  return (req, res) => {
    if (!accepted().includes(req.headers.authorization ?? '')) {
      res.statusCode = 401
      res.end('unauthorized\n')
      return
    }
    serve(req, res)
  }
}

async function text (res: Response): Promise<string> {
  return res.text()
}

async function assertCoded (res: Response, status: number, code: string): Promise<string> {
  const body = await text(res)
  assert.equal(res.status, status, body)
  assert.ok(body.startsWith(`${code}: `), body)
  return body
}

function oauth2Job (name: string, target: Target, oauth2: string, extra = ''): string {
  return `
  - job_name: ${name}
    static_configs: [{ targets: ['${target.host}'] }]${extra}
    oauth2:
${oauth2.split('\n').map((l) => `      ${l}`).join('\n')}`
}

describe('oauth2 client_credentials', () => {
  let files: string
  let target: Target
  let accepted: string[] = []

  before(async () => {
    files = tmpDir('sg-oauth2-')
    target = await startHttpTarget(requireAuthorization(() => accepted))
  })
  after(async () => {
    await target.close()
    fs.rmSync(files, { recursive: true, force: true })
  })

  it('asks for a token as Prometheus does and scrapes with it', async (t) => {
    const endpoint = await startTokenEndpoint()
    t.after(() => endpoint.close())
    accepted = ['Bearer token-1']
    const gw = await startGateway(`scrape_configs:${oauth2Job('cc', target, `client_id: '1'
client_secret: '2'
scopes: [metrics.read, 'admin write']
token_url: ${endpoint.url}?tenant=a
endpoint_params: { audience: 'https://api.example/', grant_type: client_credentials }`)}
`)
    t.after(() => gw.close())

    const res = await gw.probe('cc', target.host, { Authorization: 'Bearer from-the-caller' })
    assert.equal(res.status, 200, await res.clone().text())
    assert.equal(await res.text(), BODY)
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer token-1', 'the token, never the caller\'s own Authorization')

    assert.equal(endpoint.calls.length, 1)
    const call = endpoint.calls[0]
    assert.ok(call !== undefined)
    assert.equal(call.method, 'POST')
    assert.equal(call.url, '/oauth2/token?tenant=a')
    assert.equal(call.headers['content-type'], 'application/x-www-form-urlencoded')
    assert.equal(call.headers.authorization, 'Basic MToy')
    assert.equal(call.headers['user-agent'], `scrape-gateway/${PACKAGE_VERSION}`)
    // url.Values.Encode: keys sorted, QueryEscape'd; the scopes space-joined.
    assert.equal(call.body, 'audience=https%3A%2F%2Fapi.example%2F&grant_type=client_credentials&scope=metrics.read+admin+write')
    assert.equal(call.form.get('client_id'), null)
    assert.equal(call.form.get('client_secret'), null)
  })

  it('QueryEscapes the client id and secret in the Basic header', async (t) => {
    const endpoint = await startTokenEndpoint()
    t.after(() => endpoint.close())
    accepted = ['Bearer token-1']
    const gw = await startGateway(`scrape_configs:${oauth2Job('escaped', target, `client_id: 'my client'
client_secret: 's&cr:t/é'
token_url: ${endpoint.url}`)}
`)
    t.after(() => gw.close())
    const res = await gw.probe('escaped', target.host)
    assert.equal(res.status, 200, await res.text())
    const header = endpoint.calls[0]?.headers.authorization
    assert.equal(header, 'Basic ' + Buffer.from('my+client:s%26cr%3At%2F%C3%A9').toString('base64'))
    assert.deepEqual(basicCredentials(header), ['my client', 's&cr:t/é'])
    // No scopes, no endpoint_params: the grant type alone.
    assert.equal(endpoint.calls[0]?.body, 'grant_type=client_credentials')
  })

  it('falls back to the secret in the form when Basic fails, and remembers that for the token URL', async (t) => {
    // An endpoint that knows only the form style, and whose tokens expire on arrival (expires_in ≤ 10 s).
    const endpoint = await startTokenEndpoint((call, res, n) => {
      if (call.headers.authorization !== undefined) return json(res, 401, { error: 'invalid_client' })
      if (call.form.get('client_id') !== 'id' || call.form.get('client_secret') !== 'pw') return json(res, 401, { error: 'invalid_client' })
      json(res, 200, { access_token: `form-${n}`, expires_in: 10 })
    })
    t.after(() => endpoint.close())
    accepted = ['Bearer form-2', 'Bearer form-3']
    const gw = await startGateway(`scrape_configs:${oauth2Job('form-style', target, `client_id: id
client_secret: pw
token_url: ${endpoint.url}`)}
`)
    t.after(() => gw.close())

    const first = await gw.probe('form-style', target.host)
    assert.equal(first.status, 200, await first.text())
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer form-2')
    const second = await gw.probe('form-style', target.host)
    assert.equal(second.status, 200, await second.text())
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer form-3')

    assert.equal(endpoint.calls.length, 3)
    assert.equal(endpoint.calls[0]?.headers.authorization, 'Basic ' + Buffer.from('id:pw').toString('base64'))
    assert.equal(endpoint.calls[1]?.headers.authorization, undefined)
    assert.equal(endpoint.calls[1]?.body, 'client_id=id&client_secret=pw&grant_type=client_credentials')
    assert.equal(endpoint.calls[2]?.headers.authorization, undefined, 'the form style is remembered')
  })

  it('uses the token type as oauth2.Token.Type() gives it', async (t) => {
    const types = ['mac', '', 'BASIC', 'DPoP', 'BeArEr']
    const endpoint = await startTokenEndpoint((_call, res, n) => {
      json(res, 200, { access_token: `t${n}`, token_type: types[n - 1], expires_in: 1 })
    })
    t.after(() => endpoint.close())
    accepted = ['MAC t1', 'Bearer t2', 'Basic t3', 'DPoP t4', 'Bearer t5']
    const gw = await startGateway(`scrape_configs:${oauth2Job('types', target, `client_id: a
token_url: ${endpoint.url}`)}
`)
    t.after(() => gw.close())
    for (const want of accepted) {
      const res = await gw.probe('types', target.host)
      assert.equal(res.status, 200, await res.text())
      assert.equal(target.requests.at(-1)?.headers.authorization, want)
    }
    // No client_secret: Basic with an empty secret.
    assert.equal(endpoint.calls[0]?.headers.authorization, 'Basic ' + Buffer.from('a:').toString('base64'))
  })

  it('shares one token request among concurrent probes', async (t) => {
    const endpoint = await startTokenEndpoint(async (call, res, n) => {
      await sleep(300)
      issueTokens(call, res, n)
    })
    t.after(() => endpoint.close())
    accepted = ['Bearer token-1']
    const gw = await startGateway(`scrape_configs:${oauth2Job('concurrent', target, `client_id: a
client_secret: b
token_url: ${endpoint.url}`)}
`)
    t.after(() => gw.close())
    const before = target.requests.length
    const results = await Promise.all(Array.from({ length: 25 }, async () => {
      const res = await gw.probe('concurrent', target.host)
      return [res.status, await res.text()] as const
    }))
    for (const [status, body] of results) assert.equal(status, 200, body)
    assert.equal(endpoint.calls.length, 1)
    assert.equal(target.requests.length - before, 25)
    assert.ok(target.requests.slice(before).every((r) => r.headers.authorization === 'Bearer token-1'))
  })

  it('keeps the token until 10 s before expires_in, then fetches a new one', async (t) => {
    const endpoint = await startTokenEndpoint((_call, res, n) => {
      json(res, 200, { access_token: `short-${n}`, token_type: 'Bearer', expires_in: 11 })
    })
    t.after(() => endpoint.close())
    const forever = await startTokenEndpoint((_call, res, n) => {
      // No expires_in: the token never expires.
      json(res, 200, { access_token: `forever-${n}` })
    })
    t.after(() => forever.close())
    accepted = ['Bearer short-1', 'Bearer short-2', 'Bearer forever-1']
    const gw = await startGateway(`scrape_configs:${oauth2Job('expiring', target, `client_id: a
token_url: ${endpoint.url}`)}${oauth2Job('forever', target, `client_id: a
token_url: ${forever.url}`)}
`)
    t.after(() => gw.close())

    for (let i = 0; i < 3; i++) assert.equal((await gw.probe('expiring', target.host)).status, 200)
    assert.equal(endpoint.calls.length, 1, 'reused while more than 10 s remain')
    await sleep(1100)
    const res = await gw.probe('expiring', target.host)
    assert.equal(res.status, 200, await res.text())
    assert.equal(endpoint.calls.length, 2, 'fetched again once less than 10 s remain')
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer short-2')

    for (let i = 0; i < 3; i++) assert.equal((await gw.probe('forever', target.host)).status, 200)
    assert.equal(forever.calls.length, 1)
  })

  it('fetches a new token when client_secret_file changes, not when it is rewritten unchanged', async (t) => {
    const endpoint = await startTokenEndpoint((call, res, n) => {
      const [, secret] = basicCredentials(call.headers.authorization) ?? []
      json(res, 200, { access_token: `${secret ?? ''}-${n}`, expires_in: 3600 })
    })
    t.after(() => endpoint.close())
    const secretFile = path.join(files, 'client-secret')
    fs.writeFileSync(secretFile, 'first\n')
    accepted = ['Bearer first-1', 'Bearer second-2']
    const gw = await startGateway(`scrape_configs:${oauth2Job('rotating', target, `client_id: a
client_secret_file: ${secretFile}
token_url: ${endpoint.url}`)}
`)
    t.after(() => gw.close())

    assert.equal((await gw.probe('rotating', target.host)).status, 200)
    fs.writeFileSync(secretFile, '  first ')
    assert.equal((await gw.probe('rotating', target.host)).status, 200)
    assert.equal(endpoint.calls.length, 1, 'same secret after trimming: same token')

    fs.writeFileSync(secretFile, 'second\n')
    const res = await gw.probe('rotating', target.host)
    assert.equal(res.status, 200, await res.text())
    assert.equal(endpoint.calls.length, 2)
    assert.deepEqual(basicCredentials(endpoint.calls[1]?.headers.authorization), ['a', 'second'])
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer second-2')
  })

  it('answers 502 SG_OAUTH2_TOKEN when the token endpoint is down', async (t) => {
    const port = await refusedPort()
    const gw = await startGateway(`scrape_configs:${oauth2Job('down', target, `client_id: a
client_secret: b
token_url: http://127.0.0.1:${port}/token`)}
`)
    t.after(() => gw.close())
    const before = target.requests.length
    const body = await assertCoded(await gw.probe('down', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(body.includes(`oauth2: cannot fetch token: Post "http://127.0.0.1:${port}/token": `), body)
    assert.ok(body.includes('ECONNREFUSED'), body)
    assert.ok(!body.includes(' b'), 'no secret in the message')
    assert.equal(target.requests.length, before, 'no scrape without a token')
  })

  it('answers 502 SG_OAUTH2_TOKEN naming the status when the endpoint refuses', async (t) => {
    const endpoint = await startTokenEndpoint((call, res) => {
      if (call.url.includes('bad-request')) {
        json(res, 400, { error: 'invalid_scope', error_description: 'scope not allowed' })
      } else if (call.url.includes('plain')) {
        res.writeHead(401, { 'content-type': 'text/html' })
        res.end('<h1>go away</h1>')
      } else {
        res.writeHead(500)
        res.end()
      }
    })
    t.after(() => endpoint.close())
    const gw = await startGateway(`scrape_configs:${oauth2Job('bad-request', target, `client_id: a
token_url: ${endpoint.url}?bad-request`)}${oauth2Job('unauthorized', target, `client_id: a
token_url: ${endpoint.url}?plain`)}${oauth2Job('broken', target, `client_id: a
token_url: ${endpoint.url}?broken`)}
`)
    t.after(() => gw.close())
    const before = target.requests.length

    const bad = await assertCoded(await gw.probe('bad-request', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(bad.includes('oauth2: cannot fetch token: 400 Bad Request: "invalid_scope" "scope not allowed"'), bad)
    const unauthorized = await assertCoded(await gw.probe('unauthorized', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(unauthorized.includes('oauth2: cannot fetch token: 401 Unauthorized Response: <h1>go away</h1>'), unauthorized)
    const broken = await assertCoded(await gw.probe('broken', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(broken.includes('oauth2: cannot fetch token: 500 Internal Server Error'), broken)
    // Each failure was tried both ways (Basic, then form), as Go does until one style works.
    assert.equal(endpoint.calls.length, 6)
    assert.equal(target.requests.length, before)

    // A failed fetch is not kept: the next probe asks again.
    await gw.probe('broken', target.host)
    assert.equal(endpoint.calls.length, 8)
  })

  it('never shows the client secret, even when the endpoint echoes it in its error', async (t) => {
    const endpoint = await startTokenEndpoint((call, res) => {
      json(res, 400, call.headers.authorization === undefined
        ? { error: 'invalid_client', error_description: `bad secret ${call.form.get('client_secret') ?? ''}` }
        : { echo: call.headers.authorization, decoded: basicCredentials(call.headers.authorization) })
    })
    t.after(() => endpoint.close())
    const gw = await startGateway(`scrape_configs:${oauth2Job('echo', target, `client_id: a
client_secret: 'top secret/1'
token_url: ${endpoint.url}`)}
`)
    t.after(() => gw.close())
    const body = await assertCoded(await gw.probe('echo', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(body.includes('400 Bad Request: "invalid_client" "bad secret <secret>"'), body)
    assert.ok(!body.includes('top secret') && !body.includes('top+secret%2F1'), body)
    assert.equal(endpoint.calls.length, 2)

    // Once Basic is known to work, an echo of the Basic header is hidden too.
    const basicOnly = await startTokenEndpoint((call, res, n) => {
      if (n === 1) json(res, 200, { access_token: 'x', expires_in: 1 })
      else json(res, 401, { echo: call.headers.authorization })
    })
    t.after(() => basicOnly.close())
    const gw2 = await startGateway(`scrape_configs:${oauth2Job('echo-basic', target, `client_id: a
client_secret: 'top secret/1'
token_url: ${basicOnly.url}`)}
`)
    t.after(() => gw2.close())
    await (await gw2.probe('echo-basic', target.host)).text()
    const echoed = await assertCoded(await gw2.probe('echo-basic', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(echoed.includes('401 Unauthorized Response: {"echo":"Basic <secret>"}'), echoed)
  })

  it('fails with SG_OAUTH2_TOKEN on an answer without access_token or not JSON, reading at most 1 MiB', async (t) => {
    const endpoint = await startTokenEndpoint((call, res) => {
      if (call.url.endsWith('empty')) {
        json(res, 200, { token_type: 'bearer' })
      } else if (call.url.endsWith('form')) {
        res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' })
        res.end('access_token=from-form&token_type=bearer&expires_in=3600')
      } else {
        // A token whose JSON closes after the first MiB: cut at 1 MiB, it does not parse.
        json(res, 200, { access_token: 'huge', padding: 'x'.repeat(2 << 20) })
      }
    })
    t.after(() => endpoint.close())
    accepted = ['Bearer from-form']
    const gw = await startGateway(`scrape_configs:${oauth2Job('empty', target, `client_id: a
token_url: ${endpoint.url}?empty`)}${oauth2Job('huge', target, `client_id: a
token_url: ${endpoint.url}?huge`)}${oauth2Job('form', target, `client_id: a
token_url: ${endpoint.url}?form`)}
`)
    t.after(() => gw.close())
    const empty = await assertCoded(await gw.probe('empty', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(empty.includes('oauth2: cannot fetch token: server response missing access_token'), empty)
    const huge = await assertCoded(await gw.probe('huge', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(huge.includes('oauth2: cannot fetch token: cannot parse json: '), huge)
    const form = await gw.probe('form', target.host)
    assert.equal(form.status, 200, await form.text())
  })

  it('gives up at the probe deadline while waiting for a token, then abandons the fetch', async (t) => {
    const endpoint = await startTokenEndpoint(() => { /* never answers */ })
    t.after(() => endpoint.close())
    const gw = await startGateway(`scrape_configs:${oauth2Job('slow', target, `client_id: a
token_url: ${endpoint.url}`, '\n    scrape_timeout: 700ms')}
`)
    t.after(() => gw.close())
    const started = Date.now()
    const body = await assertCoded(await gw.probe('slow', target.host), 504, 'SG_UPSTREAM_TIMEOUT')
    const took = Date.now() - started
    assert.ok(took >= 650 && took < 3000, `took ${took} ms`)
    assert.ok(body.includes(`waiting for the oauth2 token from ${endpoint.url}`), body)
    // No probe waits any more: the token request was cancelled.
    await sleep(100)
    assert.equal(endpoint.calls.length, 1)
    assert.equal(endpoint.calls[0]?.aborted, true)
  })

  it('answers 500 SG_CREDENTIALS when client_secret_file cannot be read, naming key and path', async (t) => {
    const endpoint = await startTokenEndpoint()
    t.after(() => endpoint.close())
    const missing = path.join(files, 'no-such-secret')
    const gw = await startGateway(`scrape_configs:${oauth2Job('no-secret', target, `client_id: a
client_secret_file: ${missing}
token_url: ${endpoint.url}`)}
`)
    t.after(() => gw.close())
    const body = await assertCoded(await gw.probe('no-secret', target.host), 500, 'SG_CREDENTIALS')
    assert.ok(body.includes(`oauth2.client_secret_file: unable to read oauth2 client secret: unable to read file ${missing}: open ${missing}: no such file or directory`), body)
    assert.equal(endpoint.calls.length, 0)
  })
})

describe('oauth2 token endpoint transport', () => {
  let ca: Ca
  let target: Target

  before(async () => {
    ca = createCa('oauth2 token endpoint CA')
    target = await startHttpTarget(requireAuthorization(() => ['Bearer token-1']))
  })
  after(async () => {
    await target.close()
  })

  it('reaches an https token endpoint with oauth2.tls_config, and only with it', async (t) => {
    const endpoint = await startTokenEndpoint(issueTokens, ca.issue({ cn: 'token endpoint' }))
    t.after(() => endpoint.close())
    const gw = await startGateway(`scrape_configs:${oauth2Job('tls', target, `client_id: a
token_url: ${endpoint.url}
tls_config: { ca_file: ${ca.certFile} }`)}${oauth2Job('no-ca', target, `client_id: a
token_url: ${endpoint.url}`)}${oauth2Job('wrong-name', target, `client_id: a
token_url: ${endpoint.url}
tls_config: { ca_file: ${ca.certFile}, server_name: other.example }`)}
`)
    t.after(() => gw.close())

    const ok = await gw.probe('tls', target.host)
    assert.equal(ok.status, 200, await ok.text())
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer token-1')
    assert.equal(endpoint.calls.length, 1)

    const noCa = await assertCoded(await gw.probe('no-ca', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(noCa.includes(`oauth2: cannot fetch token: Post "${endpoint.url}": `) && /certificate/i.test(noCa), noCa)
    const wrongName = await assertCoded(await gw.probe('wrong-name', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(/other\.example|altname|Hostname/i.test(wrongName), wrongName)
    assert.equal(endpoint.calls.length, 1, 'no request over an unverified connection')
  })

  it('reaches the token endpoint through oauth2.proxy_url, and the target directly', async (t) => {
    const endpoint = await startTokenEndpoint()
    t.after(() => endpoint.close())
    const proxy = await startForwardProxy({ requireAuthorization: 'Basic ' + Buffer.from('u:p').toString('base64') })
    t.after(() => proxy.close())
    const gw = await startGateway(`scrape_configs:${oauth2Job('proxied', target, `client_id: a
token_url: ${endpoint.url}
proxy_url: http://u:p@127.0.0.1:${proxy.port}`)}
`)
    t.after(() => gw.close())
    const res = await gw.probe('proxied', target.host)
    assert.equal(res.status, 200, await res.text())
    assert.equal(proxy.requests.length, 1)
    assert.equal(proxy.requests[0]?.method, 'POST')
    assert.equal(proxy.requests[0]?.url, endpoint.url)
    assert.equal(endpoint.calls.length, 1)
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer token-1')
  })
})

describe('oauth2 jwt-bearer', () => {
  it('signs an assertion with the client key and sends no client authentication', async (t) => {
    const files = tmpDir('sg-oauth2-jwt-')
    t.after(() => fs.rmSync(files, { recursive: true, force: true }))
    const pairs = [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('rsa', { modulusLength: 2048 })]
    const keyFile = path.join(files, 'client.key')
    fs.writeFileSync(keyFile, pairs[0]?.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
    const assertions: Array<{ header: Record<string, unknown>, claims: Record<string, unknown>, signer: number }> = []
    const endpoint = await startTokenEndpoint((call, res, n) => {
      const [h, c, s] = (call.form.get('assertion') ?? '').split('.')
      const input = Buffer.from(`${h}.${c}`)
      const signature = Buffer.from(s ?? '', 'base64url')
      const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as Record<string, unknown>
      const hash = header.alg === 'RS384' ? 'sha384' : header.alg === 'RS512' ? 'sha512' : 'sha256'
      const signer = pairs.findIndex((p) => verify(hash, input, p.publicKey, signature))
      assertions.push({ header, claims: JSON.parse(Buffer.from(c ?? '', 'base64url').toString()) as Record<string, unknown>, signer })
      if (signer === -1) return json(res, 400, { error: 'invalid_grant' })
      json(res, 200, { access_token: `jwt-${n}`, expires_in: 3600 })
    })
    t.after(() => endpoint.close())
    const target = await startHttpTarget(requireAuthorization(() => ['Bearer jwt-1', 'Bearer jwt-2']))
    t.after(() => target.close())
    const gw = await startGateway(`scrape_configs:${oauth2Job('jwt', target, `client_id: my-client
grant_type: urn:ietf:params:oauth:grant-type:jwt-bearer
client_certificate_key_file: ${keyFile}
client_certificate_key_id: key-7
signature_algorithm: RS384
scopes: [a, b]
claims: { tenant: t1, aud: custom-audience }
endpoint_params: { resource: r }
token_url: ${endpoint.url}`)}
`)
    t.after(() => gw.close())

    const before = Math.floor(Date.now() / 1000)
    const res = await gw.probe('jwt', target.host)
    assert.equal(res.status, 200, await res.text())
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer jwt-1')
    const call = endpoint.calls[0]
    assert.ok(call !== undefined)
    assert.equal(call.headers.authorization, undefined)
    assert.deepEqual([...call.form.keys()].sort(), ['assertion', 'grant_type', 'resource', 'scope'])
    assert.equal(call.form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer')
    assert.equal(call.form.get('scope'), 'a b')
    const a = assertions[0]
    assert.ok(a !== undefined)
    assert.equal(a.signer, 0)
    assert.deepEqual(a.header, { alg: 'RS384', typ: 'JWT', kid: 'key-7' })
    assert.equal(a.claims.iss, 'my-client')
    assert.equal(a.claims.sub, 'my-client')
    assert.equal(a.claims.aud, 'custom-audience', 'claims override')
    assert.equal(a.claims.tenant, 't1')
    assert.equal(a.claims.scope, 'a b')
    assert.match(String(a.claims.jti), /^[0-9a-f-]{36}$/)
    const iat = a.claims.iat as number
    assert.ok(iat >= before && iat <= before + 5)
    assert.equal(a.claims.exp, iat + 600)

    // The key file is rotated: a new assertion, signed with the new key, and a new token.
    fs.writeFileSync(keyFile, pairs[1]?.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string)
    const rotated = await gw.probe('jwt', target.host)
    assert.equal(rotated.status, 200, await rotated.text())
    assert.equal(assertions[1]?.signer, 1)
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer jwt-2')

    // A key that is not an RSA PEM is the gateway's misconfiguration; its content is never shown.
    fs.writeFileSync(keyFile, 'not a key\n')
    const bad = await assertCoded(await gw.probe('jwt', target.host), 500, 'SG_CREDENTIALS')
    assert.ok(bad.includes(`oauth2.client_certificate_key_file ${keyFile}: unable to use oauth2 client certificate key: invalid key`), bad)
    assert.ok(!bad.includes('not a key'), bad)
    assert.equal(endpoint.calls.length, 2)
  })
})

describe('a token_url with secrets in its query', () => {
  it('is used whole, and printed with its query values as <secret> and its password as xxxxx: errors, /config, the jwt audience', async (t) => {
    const endpoint = await startTokenEndpoint()
    t.after(() => endpoint.close())
    const target = await startHttpTarget(requireAuthorization(() => ['Bearer token-1']))
    t.after(() => target.close())
    const port = await refusedPort()
    const gw = await startGateway(`scrape_configs:${oauth2Job('query', target, `client_id: a
token_url: '${endpoint.url}?client_secret=abc&x=1'`)}${oauth2Job('down', target, `client_id: a
token_url: 'http://u:pw@127.0.0.1:${port}/token?client_secret=abc&x=1&flag&empty='`)}${oauth2Job('jwt', target, `client_id: a
grant_type: urn:ietf:params:oauth:grant-type:jwt-bearer
client_certificate_key_file: client.key
token_url: 'https://idp.example/token?client_secret=abc'`)}
`)
    t.after(() => gw.close())

    const ok = await gw.probe('query', target.host)
    assert.equal(ok.status, 200, await ok.text())
    assert.equal(endpoint.calls[0]?.url, '/oauth2/token?client_secret=abc&x=1')

    const down = await assertCoded(await gw.probe('down', target.host), 502, 'SG_OAUTH2_TOKEN')
    assert.ok(down.includes(`oauth2: cannot fetch token: Post "http://u:xxxxx@127.0.0.1:${port}/token?client_secret=<secret>&x=<secret>&<secret>&empty=": `), down)
    assert.ok(!down.includes('abc') && !down.includes('pw@'), down)

    const text = await (await fetch(`${gw.url}/config`)).text()
    assert.ok(!text.includes('abc'), text)
    const jobs = (parseYaml(text) as { scrape_configs: Array<{ oauth2: Record<string, unknown> }> }).scrape_configs
    assert.equal(jobs[0]?.oauth2.token_url, `${endpoint.url}?client_secret=<secret>&x=<secret>`)
    assert.equal(jobs[1]?.oauth2.token_url, `http://u:xxxxx@127.0.0.1:${port}/token?client_secret=<secret>&x=<secret>&<secret>&empty=`)
    // The audience defaults to the token URL, and is shown as it is.
    assert.equal(jobs[2]?.oauth2.audience, 'https://idp.example/token?client_secret=<secret>')
  })
})

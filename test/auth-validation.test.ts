// Every auth rule of Prometheus's HTTPClientConfig.Validate (PROMETHEUS.md §2,
// rules 1-6 and 8) through the real server build, one test per rule, each
// asserting FILE:LINE:COL, the key path and Prometheus's message; then what
// the gateway refuses at load that Prometheus would only fail on when
// scraping.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parse as parseYaml } from 'yaml'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildServer } from '../src/server.js'
import { writeConfig } from './helpers/gateway.js'
import { configDir, rejects } from './helpers/config-errors.js'

const JWT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

async function loads (yaml: string): Promise<Array<Record<string, unknown>>> {
  const app = await buildServer({ configFile: writeConfig(yaml, configDir()), logLevel: false })
  try {
    const shown = JSON.parse((await app.inject('/config?format=json')).body) as { scrape_configs: Array<Record<string, unknown>> }
    return shown.scrape_configs
  } finally {
    await app.close()
  }
}

const JOB = 'scrape_configs[0]'

describe('HTTPClientConfig.Validate rules', () => {
  test('1: bearer_token and bearer_token_file', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    bearer_token: t
    bearer_token_file: /t
`, { line: 4, col: 24, path: `${JOB}.bearer_token_file`, message: 'at most one of bearer_token & bearer_token_file must be configured' })
  })

  test('1: an empty bearer_token is not set (Go checks the length)', async () => {
    const jobs = await loads(`\
scrape_configs:
  - job_name: a
    bearer_token: ''
    bearer_token_file: /t
`)
    assert.deepEqual(jobs[0]?.authorization, { type: 'Bearer', credentials_file: '/t' })
  })

  test('2: basic_auth or oauth2 with a bearer token', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth: { username: u, username_file: /u }
    bearer_token: t
`, { line: 4, col: 19, path: `${JOB}.bearer_token`, message: 'at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured' })
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2: { client_id: c, token_url: 'http://t/' }
    bearer_token_file: /t
`, { line: 4, col: 24, path: `${JOB}.bearer_token_file`, message: 'at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured' })
  })

  test('3: more than one basic_auth username source', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth:
      username_file: /u
      username_ref: u
`, { line: 5, col: 21, path: `${JOB}.basic_auth.username_ref`, message: 'at most one of basic_auth username, username_file & username_ref must be configured' })
  })

  test('4: more than one basic_auth password source', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth:
      username: u
      password: p
      password_file: /p
`, { line: 6, col: 22, path: `${JOB}.basic_auth.password_file`, message: 'at most one of basic_auth password, password_file & password_ref must be configured' })
  })

  test('5a: authorization with a bearer token', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    bearer_token_file: /t
    authorization: { credentials: c }
`, { line: 4, col: 20, path: `${JOB}.authorization`, message: 'authorization is not compatible with bearer_token & bearer_token_file' })
  })

  test('5b: more than one authorization credentials source', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    authorization:
      credentials: c
      credentials_file: /c
`, { line: 5, col: 25, path: `${JOB}.authorization.credentials_file`, message: 'at most one of authorization credentials & credentials_file must be configured' })
  })

  test('5c: the type is trimmed, empty becomes Bearer, case is kept', async () => {
    const jobs = await loads(`\
scrape_configs:
  - job_name: a
    authorization: { type: '  ', credentials: c }
  - job_name: b
    authorization: { type: ' ApiKey ', credentials: c }
`)
    assert.deepEqual(jobs.map((j) => (j.authorization as { type: string }).type), ['Bearer', 'ApiKey'])
  })

  test('5d: authorization type basic', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    authorization: { type: ' BaSiC', credentials: c }
`, { line: 3, col: 28, path: `${JOB}.authorization.type`, message: 'authorization type cannot be set to "basic", use "basic_auth" instead' })
  })

  test('5e: authorization with basic_auth or oauth2', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth: { username: u }
    authorization: { credentials: c }
`, { line: 4, col: 20, path: `${JOB}.authorization`, message: 'at most one of basic_auth, oauth2 & authorization must be configured' })
    await rejects(`\
scrape_configs:
  - job_name: a
    authorization: { credentials: c }
    oauth2: { client_id: c, token_url: 'http://t/' }
`, { line: 3, col: 20, path: `${JOB}.authorization`, message: 'at most one of basic_auth, oauth2 & authorization must be configured' })
  })

  test('6a: oauth2 with basic_auth', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth: { username: u }
    oauth2: { client_id: c, token_url: 'http://t/' }
`, { line: 4, col: 13, path: `${JOB}.oauth2`, message: 'at most one of basic_auth, oauth2 & authorization must be configured' })
  })

  test('6b: oauth2 without client_id', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2:
      client_secret: s
      token_url: http://t/
`, { line: 4, col: 7, path: `${JOB}.oauth2.client_id`, message: 'oauth2 client_id must be configured' })
  })

  test('6c: oauth2 without token_url', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2:
      client_id: c
      token_url: ''
`, { line: 5, col: 18, path: `${JOB}.oauth2.token_url`, message: 'oauth2 token_url must be configured' })
  })

  test('6d: jwt-bearer with more than one client key source', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2:
      client_id: c
      token_url: http://t/
      grant_type: ${JWT}
      client_certificate_key_file: /k
      client_certificate_key_ref: k
`, { line: 8, col: 35, path: `${JOB}.oauth2.client_certificate_key_ref`, message: `at most one of oauth2 client_certificate_key, client_certificate_key_file & client_certificate_key_ref must be configured using grant-type=${JWT}` })
  })

  test('6e: jwt-bearer with another signature algorithm', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2:
      client_id: c
      token_url: http://t/
      grant_type: ${JWT}
      client_certificate_key_file: /k
      signature_algorithm: ES256
`, { line: 8, col: 28, path: `${JOB}.oauth2.signature_algorithm`, message: 'valid signature algorithms are RS256, RS384 and RS512' })
  })

  test('6f: client_credentials with more than one client secret source', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2:
      client_id: c
      client_secret: s
      client_secret_file: /s
      token_url: http://t/
`, { line: 6, col: 27, path: `${JOB}.oauth2.client_secret_file`, message: 'at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured using grant-type=client_credentials' })
  })

  test('6d/6f apply to their own grant type only', async () => {
    const jobs = await loads(`\
scrape_configs:
  - job_name: cc
    oauth2:
      client_id: c
      token_url: http://t/
      grant_type: anything-else
      client_certificate_key_file: /k
      client_certificate_key: k
  - job_name: jwt
    oauth2:
      client_id: c
      token_url: http://t/
      grant_type: ${JWT}
      client_secret: s
      client_secret_file: /s
      client_certificate_key_file: /k
`)
    assert.equal((jobs[0]?.oauth2 as Record<string, unknown>).grant_type, 'client_credentials')
    assert.equal((jobs[1]?.oauth2 as Record<string, unknown>).grant_type, JWT)
  })

  test('6: the oauth2 block\'s own proxy and TLS rules come first, at its unmarshal', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2:
      token_url: http://t/
      no_proxy: localhost
`, { line: 5, col: 17, path: `${JOB}.oauth2.no_proxy`, message: 'if no_proxy is configured, proxy_url must also be configured' })
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2:
      client_id: c
      token_url: http://t/
      proxy_url: http://proxy:3128
      proxy_from_environment: true
`, { line: 6, col: 18, path: `${JOB}.oauth2.proxy_url`, message: 'if proxy_from_environment is configured, proxy_url must not be configured' })
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2:
      token_url: http://t/
      tls_config: { ca: x, ca_file: /ca }
`, { line: 5, col: 37, path: `${JOB}.oauth2.tls_config.ca_file`, message: 'at most one of ca, ca_file & ca_ref must be configured' })
  })

  test('8: a reserved http_headers name, canonicalised', async () => {
    const cases: Array<[string, string]> = [
      ['user-agent', 'User-Agent'],
      ['AUTHORIZATION', 'Authorization'],
      ['x-prometheus-scrape-timeout-seconds', 'X-Prometheus-Scrape-Timeout-Seconds'],
      ['www-authenticate', 'Www-Authenticate'],
      ['X-Amz-Date', 'X-Amz-Date'],
    ]
    for (const [written, canonical] of cases) {
      await rejects(`\
scrape_configs:
  - job_name: a
    http_headers:
      X-Fine: { values: [v] }
      ${written}: { values: [v] }
`, { line: 5, col: 7, path: `${JOB}.http_headers.${written}`, message: `setting header "${canonical}" is not allowed` })
    }
  })

  test('8 comes after 7: the proxy rules win', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    http_headers:
      User-Agent: { values: [v] }
    no_proxy: localhost
`, { line: 5, col: 15, path: `${JOB}.no_proxy`, message: 'if no_proxy is configured, proxy_url must also be configured' })
  })

  test('1-6 come before 7 and 8: first failure wins', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    http_headers:
      Host: { values: [v] }
    no_proxy: localhost
    bearer_token: a
    bearer_token_file: b
`, { line: 7, col: 24, path: `${JOB}.bearer_token_file`, message: 'at most one of bearer_token & bearer_token_file must be configured' })
  })
})

describe('rules 1-6 across the auth kinds: the first failure is Prometheus\'s', () => {
  test('1 before 2: two bearer sources beside basic_auth', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth: { username: u }
    bearer_token: t
    bearer_token_file: /t
`, { line: 5, col: 24, path: `${JOB}.bearer_token_file`, message: 'at most one of bearer_token & bearer_token_file must be configured' })
  })

  test('2 before 5a and 5e: a bearer token beside authorization and oauth2', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    authorization: { credentials: c }
    oauth2: { client_id: c, token_url: 'http://t/' }
    bearer_token: t
`, { line: 5, col: 19, path: `${JOB}.bearer_token`, message: 'at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured' })
  })

  test('3 before 5b, 5b and 5d before 5e: each kind\'s own rules before their refusal of each other', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    authorization: { credentials: c, credentials_file: /c }
    basic_auth: { username: u, username_file: /u }
`, { line: 4, col: 47, path: `${JOB}.basic_auth.username_file`, message: 'at most one of basic_auth username, username_file & username_ref must be configured' })
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth: { username: u }
    authorization: { credentials: c, credentials_file: /c }
`, { line: 4, col: 56, path: `${JOB}.authorization.credentials_file`, message: 'at most one of authorization credentials & credentials_file must be configured' })
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2: { client_id: c, token_url: 'http://t/' }
    authorization: { type: basic }
`, { line: 4, col: 28, path: `${JOB}.authorization.type`, message: 'authorization type cannot be set to "basic", use "basic_auth" instead' })
  })

  test('5e before 6a, 6a before 6b-6f', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2: { client_id: c, token_url: 'http://t/' }
    basic_auth: { username: u }
    authorization: { credentials: c }
`, { line: 5, col: 20, path: `${JOB}.authorization`, message: 'at most one of basic_auth, oauth2 & authorization must be configured' })
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth: { username: u }
    oauth2: { token_url: 'http://t/' }
`, { line: 4, col: 13, path: `${JOB}.oauth2`, message: 'at most one of basic_auth, oauth2 & authorization must be configured' })
    await rejects(`\
scrape_configs:
  - job_name: a
    authorization: { credentials: c }
    oauth2: { client_id: c }
`, { line: 3, col: 20, path: `${JOB}.authorization`, message: 'at most one of basic_auth, oauth2 & authorization must be configured' })
  })

  test('every rule before what only the gateway refuses (*_ref)', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth: { username_ref: u }
    oauth2: { client_id: c, token_url: 'http://t/', client_secret_ref: s }
`, { line: 4, col: 13, path: `${JOB}.oauth2`, message: 'at most one of basic_auth, oauth2 & authorization must be configured' })
  })
})

describe('what the gateway refuses at load', () => {
  test('*_ref fields of oauth2 (no secret manager)', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2: { client_id: c, token_url: 'http://t/', client_secret_ref: s }
`, { line: 3, col: 72, path: `${JOB}.oauth2.client_secret_ref`, message: 'client_secret_ref needs a secret manager, which scrape-gateway (like Prometheus) does not have; use the inline or _file form' })
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2: { client_id: c, token_url: 'http://t/', grant_type: '${JWT}', client_certificate_key_ref: k }
`, { line: 3, col: 140, path: `${JOB}.oauth2.client_certificate_key_ref`, message: 'client_certificate_key_ref needs a secret manager, which scrape-gateway (like Prometheus) does not have; use the inline or _file form' })
  })

  test('unknown keys and wrong types in the auth blocks', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2: { client_id: c, token_url: 'http://t/', scope: [a] }
`, { line: 3, col: 53, path: `${JOB}.oauth2.scope`, message: 'field scope not found in type config.plain' })
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2: { client_id: c, token_url: 'http://t/', scopes: a }
`, { line: 3, col: 61, path: `${JOB}.oauth2.scopes`, message: 'cannot unmarshal !!str `a` into []string' })
    await rejects(`\
scrape_configs:
  - job_name: a
    http_headers:
      X-A: { value: [v] }
`, { line: 4, col: 14, path: `${JOB}.http_headers.X-A.value`, message: 'field value not found in type config.plain' })
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth: { user: u }
`, { line: 3, col: 19, path: `${JOB}.basic_auth.user`, message: 'field user not found in type config.plain' })
  })

  test('a token_url that is not an absolute http(s) URL', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2: { client_id: c, token_url: 'ftp://u:pw@t/token' }
`, { line: 3, col: 40, path: `${JOB}.oauth2.token_url`, message: 'invalid oauth2 token_url "ftp://u:xxxxx@t/token": want an absolute http:// or https:// URL' })
  })

  test('endpoint_params that would overwrite the grant\'s own fields (grant_type may be replaced)', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2:
      client_id: c
      token_url: http://t/
      scopes: [x]
      endpoint_params: { grant_type: custom, scope: y }
`, { line: 7, col: 53, path: `${JOB}.oauth2.endpoint_params.scope`, message: 'oauth2: cannot overwrite parameter "scope"' })
    const jobs = await loads(`\
scrape_configs:
  - job_name: a
    oauth2: { client_id: c, token_url: 'http://t/', endpoint_params: { grant_type: custom, scope: y } }
`)
    assert.deepEqual((jobs[0]?.oauth2 as Record<string, unknown>).endpoint_params, { grant_type: 'custom', scope: 'y' })
  })

  test('jwt-bearer without a key, or with an inline key that is not RSA', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2: { client_id: c, token_url: 'http://t/', grant_type: '${JWT}' }
`, { line: 3, col: 13, path: `${JOB}.oauth2`, message: `oauth2 client_certificate_key or client_certificate_key_file must be configured using grant-type=${JWT}` })
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    await rejects(`\
scrape_configs:
  - job_name: a
    oauth2:
      client_id: c
      token_url: http://t/
      grant_type: ${JWT}
      client_certificate_key: |
${ec.trim().split('\n').map((l) => `        ${l}`).join('\n')}
`, { line: 7, col: 31, path: `${JOB}.oauth2.client_certificate_key`, message: 'unable to use oauth2 client_certificate_key: key is not a valid RSA private key' })
  })

  test('http_headers names and inline values Go\'s transport would refuse on every request', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    http_headers:
      'X Bad': { values: [v] }
`, { line: 4, col: 7, path: `${JOB}.http_headers.X Bad`, message: 'invalid header name "X Bad"' })
    await rejects(`\
scrape_configs:
  - job_name: a
    http_headers:
      X-A: { secrets: ["one\\ntwo"] }
`, { line: 4, col: 24, path: `${JOB}.http_headers.X-A.secrets[0]`, message: 'invalid value for header "X-A": control character' })
  })
})

describe('/config', () => {
  test('shows the auth settings with secrets hidden and file paths joined to the config directory', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-auth-config-'))
    const app = await buildServer({
      configFile: writeConfig(`\
scrape_configs:
  - job_name: cc
    oauth2:
      client_id: id
      client_secret: s3cret
      scopes: [a]
      token_url: https://u:pw@idp.example/token
      tls_config: { insecure_skip_verify: true }
      proxy_url: http://u:pw@proxy:3128
  - job_name: cc-file
    oauth2: { client_id: id, client_secret_file: secret, token_url: 'http://idp/' }
  - job_name: jwt
    oauth2:
      client_id: id
      grant_type: ${JWT}
      client_certificate_key_file: keys/client.key
      token_url: http://idp/
`, dir),
      logLevel: false,
    })
    try {
      const text = (await app.inject('/config')).body
      assert.ok(!text.includes('s3cret') && !text.includes(':pw@'), text)
      const jobs = (parseYaml(text) as { scrape_configs: Array<Record<string, unknown>> }).scrape_configs
      const o = jobs[0]?.oauth2 as Record<string, unknown>
      assert.equal(o.client_id, 'id')
      assert.equal(o.grant_type, 'client_credentials')
      assert.equal(o.client_secret, '<secret>')
      assert.deepEqual(o.scopes, ['a'])
      assert.equal(o.token_url, 'https://u:xxxxx@idp.example/token')
      // The token endpoint's own TLS and proxy settings, shown as the tls and proxy features show a job's.
      assert.equal((o.tls_config as Record<string, unknown>).insecure_skip_verify, true)
      assert.equal(o.proxy_url, 'http://u:xxxxx@proxy:3128')
      assert.equal((jobs[1]?.oauth2 as Record<string, unknown>).client_secret_file, path.join(dir, 'secret'))
      // Prometheus leaves this one relative to its working directory; the gateway joins it like every other file.
      assert.equal((jobs[2]?.oauth2 as Record<string, unknown>).client_certificate_key_file, path.join(dir, 'keys', 'client.key'))
    } finally {
      await app.close()
    }
  })
})

// Credentials rotated on disk while the gateway runs: every *_file of the
// auth features is read again for the next scrape, with no reload. A file
// that has gone is a 500 SG_CREDENTIALS naming the key and the path, never
// the content.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, verify } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { tmpDir } from './helpers/pki.js'
import { exposition, metricsHandler, startHttpTarget, type RecordedRequest, type Target } from './helpers/targets.js'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { basicCredentials, json, startTokenEndpoint, type TokenEndpoint } from './helpers/token-endpoint.js'

const BODY = exposition(20)
const JWT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

function basic (user: string, pass: string): string {
  return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64')
}

interface Case {
  job: string
  /** The config key the error must name. */
  key: string
  file: string
  /** What to write for round `r`. */
  content: (r: number) => string
  /** What the target must see for round `r`. */
  seen: (req: RecordedRequest | undefined) => string | undefined
  want: (r: number) => string
}

describe('rotation of every *_file without a reload', () => {
  let dir: string
  let target: Target
  let endpoint: TokenEndpoint
  let gw: Gateway
  const keys = [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('rsa', { modulusLength: 2048 })]
  const cases: Case[] = []

  before(async () => {
    dir = tmpDir('sg-rotation-')
    target = await startHttpTarget(metricsHandler(BODY))
    endpoint = await startTokenEndpoint((call, res) => {
      const assertion = call.form.get('assertion')
      if (assertion !== null) {
        const [h, c, s] = assertion.split('.')
        const signer = keys.findIndex((k) => verify('sha256', Buffer.from(`${h}.${c}`), k.publicKey, Buffer.from(s ?? '', 'base64url')))
        json(res, 200, { access_token: `jwt-${signer}`, expires_in: 3600 })
        return
      }
      const [, secret] = basicCredentials(call.headers.authorization) ?? []
      json(res, 200, { access_token: `tok-${secret ?? ''}`, expires_in: 3600 })
    })
    const file = (name: string): string => path.join(dir, name)
    const authorization = (r: RecordedRequest | undefined): string | undefined => r?.headers.authorization
    cases.push(
      { job: 'basic-username', key: 'basic_auth.username_file', file: file('username'), content: (r) => `user-${r}\n`, seen: authorization, want: (r) => basic(`user-${r}`, 'p') },
      { job: 'basic-password', key: 'basic_auth.password_file', file: file('password'), content: (r) => `pass-${r}\n`, seen: authorization, want: (r) => basic('u', `pass-${r}`) },
      { job: 'credentials', key: 'authorization.credentials_file', file: file('credentials'), content: (r) => ` cred-${r} `, seen: authorization, want: (r) => `Token cred-${r}` },
      { job: 'bearer', key: 'bearer_token_file', file: file('bearer'), content: (r) => `bearer-${r}\n`, seen: authorization, want: (r) => `Bearer bearer-${r}` },
      { job: 'headers', key: 'http_headers.X-Key.files[0]', file: file('header'), content: (r) => `header-${r}\n`, seen: (req) => req?.headers['x-key'] as string | undefined, want: (r) => `header-${r}` },
      { job: 'oauth2', key: 'oauth2.client_secret_file', file: file('client-secret'), content: (r) => `secret-${r}\n`, seen: authorization, want: (r) => `Bearer tok-secret-${r}` },
      {
        job: 'jwt',
        key: 'oauth2.client_certificate_key_file',
        file: file('client.key'),
        content: (r) => keys[r]?.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        seen: authorization,
        want: (r) => `Bearer jwt-${r}`,
      }
    )
    const job = (name: string, body: string): string => `
  - job_name: ${name}
    metrics_path: /${name}
    static_configs: [{ targets: ['${target.host}'] }]
${body}`
    const c = (job: string): string => (cases.find((x) => x.job === job) as Case).file
    gw = await startGateway(`scrape_configs:${[
      job('basic-username', `    basic_auth: { username_file: ${c('basic-username')}, password: p }`),
      job('basic-password', `    basic_auth: { username: u, password_file: ${c('basic-password')} }`),
      job('credentials', `    authorization: { type: Token, credentials_file: ${c('credentials')} }`),
      job('bearer', `    bearer_token_file: ${c('bearer')}`),
      job('headers', `    http_headers: { X-Key: { files: [${c('headers')}] } }`),
      job('oauth2', `    oauth2: { client_id: id, client_secret_file: ${c('oauth2')}, token_url: '${endpoint.url}' }`),
      job('jwt', `    oauth2: { client_id: id, grant_type: '${JWT}', client_certificate_key_file: ${c('jwt')}, token_url: '${endpoint.url}' }`),
    ].join('')}
`)
  })
  after(async () => {
    await gw.close()
    await endpoint.close()
    await target.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('uses the new content on the next scrape', async () => {
    for (const round of [1, 2]) {
      for (const c of cases) fs.writeFileSync(c.file, c.content(round))
      for (const c of cases) {
        const res = await gw.probe(c.job, target.host)
        assert.equal(res.status, 200, `${c.job} round ${round}: ${await res.clone().text()}`)
        assert.equal(await res.text(), BODY)
        const req = target.requests.at(-1)
        assert.equal(req?.url, `/${c.job}`)
        assert.equal(c.seen(req), c.want(round), `${c.job} round ${round}`)
      }
    }
  })

  it('follows a Kubernetes-style swap of a symlinked directory', async () => {
    // kubelet writes a new timestamped directory and swaps the `..data` symlink to it.
    const mount = path.join(dir, 'mount')
    fs.mkdirSync(mount)
    const write = (n: number): void => {
      const data = path.join(mount, `..2024_${n}`)
      fs.mkdirSync(data)
      fs.writeFileSync(path.join(data, 'token'), `k8s-${n}\n`)
      fs.symlinkSync(path.basename(data), path.join(mount, '..data_tmp'))
      fs.renameSync(path.join(mount, '..data_tmp'), path.join(mount, '..data'))
    }
    write(1)
    fs.symlinkSync('..data/token', path.join(mount, 'token'))
    const bearer = cases.find((c) => c.job === 'bearer') as Case
    fs.rmSync(bearer.file, { force: true })
    fs.symlinkSync(path.join(mount, 'token'), bearer.file)

    assert.equal((await gw.probe('bearer', target.host)).status, 200)
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer k8s-1')
    write(2)
    assert.equal((await gw.probe('bearer', target.host)).status, 200)
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer k8s-2')
  })

  it('answers 500 SG_CREDENTIALS naming the key and path when a file has gone, never its content', async () => {
    for (const c of cases) fs.writeFileSync(c.file, c.content(1))
    for (const c of cases) assert.equal((await gw.probe(c.job, target.host)).status, 200, c.job)
    const before = target.requests.length
    for (const c of cases) fs.rmSync(c.file)
    for (const c of cases) {
      const res = await gw.probe(c.job, target.host)
      const body = await res.text()
      assert.equal(res.status, 500, `${c.job}: ${body}`)
      assert.ok(body.startsWith(`SG_CREDENTIALS: ${c.key}: unable to read `), `${c.job}: ${body}`)
      assert.ok(body.includes(`${c.file}: open ${c.file}: no such file or directory`), `${c.job}: ${body}`)
      assert.ok(!body.includes(c.content(1).trim().slice(0, 20)), `${c.job} leaks its content: ${body}`)
    }
    assert.equal(target.requests.length, before, 'no scrape without its credentials')
  })
})

// An auth kind that is not built in: a plugin of this test's own fills the
// auth slot with `x_api_key: { key: K }`, sent as X-Api-Key, through
// buildServer's `plugins` option, with no change to src/ or plugins/. It is
// taken like a built-in kind: it owns its key, its header reaches a real
// target, /config hides its secret, and the slot refuses it beside another
// kind, after Prometheus's own rules.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parse as parseYaml } from 'yaml'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { buildServer } from '../src/server.js'
import { ConfigError } from '../src/config/load.js'
import type { MapCursor } from '../src/config/cursor.js'
import type { SlotClaim } from '../src/config/feature.js'
import { Layer, type SlotClientFeature } from '../src/client/feature.js'
import { headerInterceptor } from '../src/client/interceptor.js'
import { Secret } from '../src/client/secret.js'
import { ClientFeatures } from '../plugins/client-registry.js'
import { startGateway, writeConfig } from './helpers/gateway.js'
import { configDir } from './helpers/config-errors.js'
import { exposition, metricsHandler, startHttpTarget, type Target } from './helpers/targets.js'

interface ApiKeyClaim extends SlotClaim {
  readonly block: MapCursor
}

const apiKeyFeature: SlotClientFeature<Secret, ApiKeyClaim> = {
  name: 'x_api_key',
  keys: ['x_api_key'],
  slot: 'auth',
  read (job) {
    if (!job.set('x_api_key')) return undefined
    const block = job.at('x_api_key').map()
    for (const key of block.keys()) {
      if (key !== 'key') throw block.keyCursor(key).error(`field ${key} not found in type x_api_key`)
    }
    block.at('key').string()
    return { key: 'x_api_key', block }
  },
  settle ({ block }) {
    const key = block.at('key').string()
    if (key === '') throw block.at('key').error('x_api_key key must be configured')
    return new Secret(key)
  },
  compile (key, client) {
    client.use(Layer.Auth, headerInterceptor('x-api-key', () => key.reveal(), true))
  },
  describe: (key) => ({ x_api_key: { key } }),
}

const apiKey = fp(async (app: FastifyInstance) => {
  app.clientFeatures.add(apiKeyFeature)
}, { name: 'x_api_key', fastify: '5.x', dependencies: ['client-registry', 'auth'] })

const BODY = exposition(20)
const JOB = 'scrape_configs[0]'

/** The ConfigError `yaml` is refused with, the server built with `plugins`. */
async function refusal (yaml: string, plugins: FastifyPluginAsync[] = [apiKey]): Promise<ConfigError> {
  const file = writeConfig(yaml, configDir())
  const err: unknown = await buildServer({ configFile: file, logLevel: false, plugins })
    .then(async (app) => { await app.close(); return undefined }, (e: unknown) => e)
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`)
  assert.ok(err.message.startsWith(`${file}:`), err.message)
  return err
}

function assertRefusal (err: ConfigError, want: { line: number, col: number, path: string, message: string }): void {
  assert.deepEqual({ line: err.line, col: err.col, path: err.keyPath, message: err.detail }, want)
}

describe('an auth kind added by a plugin outside the core', () => {
  let target: Target

  before(async () => {
    target = await startHttpTarget(metricsHandler(BODY))
  })
  after(async () => {
    await target.close()
  })

  it('sends its header to the target, and /config shows it with the key hidden', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: keyed
    static_configs: [{ targets: ['${target.host}'] }]
    x_api_key: { key: k3y }
`, { plugins: [apiKey] })
    t.after(() => gw.close())

    const res = await gw.probe('keyed', target.host)
    assert.equal(res.status, 200)
    assert.equal(await res.text(), BODY)
    const seen = target.requests.at(-1)?.headers
    assert.equal(seen?.['x-api-key'], 'k3y')
    assert.equal(seen?.authorization, undefined)

    const text = await (await fetch(`${gw.url}/config`)).text()
    assert.ok(!text.includes('k3y'), text)
    const job = (parseYaml(text) as { scrape_configs: Array<Record<string, unknown>> }).scrape_configs[0]
    assert.deepEqual(job?.x_api_key, { key: '<secret>' })
  })

  it('is refused beside basic_auth by the slot, naming both keys, whichever is written first', async () => {
    assertRefusal(await refusal(`\
scrape_configs:
  - job_name: a
    basic_auth: { username: u, password: p }
    x_api_key: { key: k }
`), { line: 4, col: 16, path: `${JOB}.x_api_key`, message: 'at most one of basic_auth & x_api_key must be configured' })
    assertRefusal(await refusal(`\
scrape_configs:
  - job_name: a
    x_api_key: { key: k }
    basic_auth: { username: u, password: p }
`), { line: 3, col: 16, path: `${JOB}.x_api_key`, message: 'at most one of basic_auth & x_api_key must be configured' })
  })

  it('is refused beside a bearer token under the key the job wrote', async () => {
    assertRefusal(await refusal(`\
scrape_configs:
  - job_name: a
    bearer_token_file: /t
    x_api_key: { key: k }
`), { line: 4, col: 16, path: `${JOB}.x_api_key`, message: 'at most one of bearer_token_file & x_api_key must be configured' })
  })

  it('comes after Prometheus\'s own rules: the first failure is still Prometheus\'s', async () => {
    // Rule 3, basic_auth's own, before any refusal of two kinds.
    assertRefusal(await refusal(`\
scrape_configs:
  - job_name: a
    basic_auth: { username: u, username_file: /u }
    x_api_key: { key: k }
`), { line: 3, col: 47, path: `${JOB}.basic_auth.username_file`, message: 'at most one of basic_auth username, username_file & username_ref must be configured' })
    // 6a, oauth2 beside basic_auth, before the new kind's refusal.
    assertRefusal(await refusal(`\
scrape_configs:
  - job_name: a
    x_api_key: { key: k }
    basic_auth: { username: u }
    oauth2: { client_id: c, token_url: 'http://t/' }
`), { line: 5, col: 13, path: `${JOB}.oauth2`, message: 'at most one of basic_auth, oauth2 & authorization must be configured' })
  })

  it('validates its own keys: shape when read, the rest when it is the job\'s one kind', async () => {
    assertRefusal(await refusal(`\
scrape_configs:
  - job_name: a
    x_api_key: { value: k }
`), { line: 3, col: 18, path: `${JOB}.x_api_key.value`, message: 'field value not found in type x_api_key' })
    assertRefusal(await refusal(`\
scrape_configs:
  - job_name: a
    x_api_key: {}
`), { line: 3, col: 16, path: `${JOB}.x_api_key.key`, message: 'x_api_key key must be configured' })
  })

  it('is an unknown key without the plugin', async () => {
    assertRefusal(await refusal(`\
scrape_configs:
  - job_name: a
    x_api_key: { key: k }
`, []), { line: 3, col: 5, path: `${JOB}.x_api_key`, message: 'field x_api_key not found in type config.plain' })
  })

  it('cannot join a slot no plugin has declared', () => {
    assert.throws(() => { new ClientFeatures().add(apiKeyFeature) }, { message: 'client feature x_api_key fills slot auth, which no plugin has declared' })
  })
})

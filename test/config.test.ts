// The config loader through the real server build (auth and tls features
// registered): every error names FILE:LINE:COL and the key path, with
// Prometheus's message text (../shared/PROMETHEUS.md §0-2).
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { parse as parseYaml } from 'yaml'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildServer } from '../src/server.js'
import { writeConfig } from './helpers/gateway.js'
import { configDir, fileError, loadError, rejects } from './helpers/config-errors.js'
import { createCa } from './helpers/pki.js'
import { metricsHandler, startHttpsTarget } from './helpers/targets.js'

async function loads (t: { after: (fn: () => Promise<void>) => void }, yaml: string, dir = configDir()): Promise<FastifyInstance> {
  const app = await buildServer({ configFile: writeConfig(yaml, dir), logLevel: false })
  t.after(async () => { await app.close() })
  return app
}

describe('strict YAML', () => {
  test('an unknown top-level key is refused', async () => {
    await rejects(`\
global:
  scrape_interval: 1m
scrape_config:
  - job_name: a
`, { line: 3, col: 1, path: 'scrape_config', message: 'field scrape_config not found in type config.plain' })
  })

  test('an unknown key in global is refused', async () => {
    await rejects(`\
global:
  scrape_interval: 1m
  scrape_intervall: 2m
`, { line: 3, col: 3, path: 'global.scrape_intervall', message: 'field scrape_intervall not found in type config.plain' })
  })

  test('an unknown key in a job is refused', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
  - job_name: b
    scheme: https
    tls_config:
      insecure_skip_verify: true
      ca_fil: ca.crt
`, { line: 7, col: 7, path: 'scrape_configs[1].tls_config.ca_fil', message: 'field ca_fil not found in type config.plain' })
  })

  test('an unknown key directly in a job is refused', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    metric_path: /m
`, { line: 3, col: 5, path: 'scrape_configs[0].metric_path', message: 'field metric_path not found in type config.plain' })
  })

  test('a wrong type is refused with yaml.v2 wording', async () => {
    await rejects(`\
global:
  scrape_interval: [1]
`, { line: 2, col: 20, path: 'global.scrape_interval', message: 'cannot unmarshal !!seq into string' })
    await rejects(`\
scrape_configs:
  - job_name: a
    scrape_interval: [1]
`, { line: 3, col: 22, path: 'scrape_configs[0].scrape_interval', message: 'cannot unmarshal !!seq into string' })
  })

  test('a YAML syntax error names the line it is on', async () => {
    await rejects(`\
global:
  scrape_interval: 1m
scrape_configs:
  - job_name: a
    static_configs: [{ targets: ['a:1'] }
  - job_name: b
`, { line: 6, col: 3, path: '', message: 'yaml: Flow sequence in block collection must be sufficiently indented and end with a ]' })
    // A key indented deeper than its siblings: reported where the value it would nest under starts.
    await rejects(`\
scrape_configs:
  - job_name: a
    scheme: http
     metrics_path: /m
`, { line: 3, col: 13, path: '', message: 'yaml: Nested mappings are not allowed in compact mappings' })
  })

  test('a duplicated key is refused at the second occurrence', async () => {
    await rejects(`\
global:
  scrape_interval: 1m
  scrape_interval: 2m
`, { line: 3, col: 3, path: '', message: 'yaml: Map keys must be unique' })
  })
})

describe('the file', () => {
  test('a missing config file is named, with Go\'s wording', async () => {
    const file = path.join(configDir(), 'missing.yml')
    const err = await fileError(file)
    assert.equal(err.message, `${file}: cannot read config file: open ${file}: no such file or directory`)
  })

  test('an empty file is a config with no jobs and the global defaults', async (t) => {
    const app = await loads(t, '')
    assert.deepEqual(app.gateway.config.jobs, [])
    assert.deepEqual(app.gateway.config.global, { scrapeInterval: 60_000, scrapeTimeout: 10_000, bodySizeLimit: 0 })
  })
})

describe('job names', () => {
  test('duplicate job names are refused at the second one', async () => {
    await rejects(`\
scrape_configs:
  - job_name: x
  - job_name: y
  - job_name: x
`, { line: 4, col: 15, path: 'scrape_configs[2].job_name', message: 'found multiple scrape configs with job name "x"' })
  })

  test('an empty job_name is refused', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
  - job_name: ""
`, { line: 3, col: 15, path: 'scrape_configs[1].job_name', message: 'job_name is empty' })
  })

  test('a missing job_name is refused as empty, pointing at the job', async () => {
    await rejects(`\
scrape_configs:
  - scheme: http
`, { line: 2, col: 5, path: 'scrape_configs[0].job_name', message: 'job_name is empty' })
  })
})

describe('durations and sizes', () => {
  test('a bad duration is refused', async () => {
    await rejects(`\
global:
  scrape_interval: 1x
`, { line: 2, col: 20, path: 'global.scrape_interval', message: 'unknown unit "x" in duration "1x"' })
    await rejects(`\
scrape_configs:
  - job_name: a
    scrape_timeout: 1m1h
`, { line: 3, col: 21, path: 'scrape_configs[0].scrape_timeout', message: 'not a valid duration string: "1m1h"' })
  })

  test('a job timeout greater than its interval is refused', async () => {
    await rejects(`\
scrape_configs:
  - job_name: J
    scrape_interval: 5s
    scrape_timeout: 6s
`, { line: 4, col: 21, path: 'scrape_configs[0].scrape_timeout', message: 'scrape timeout greater than scrape interval for scrape config with job name "J"' })
  })

  test('a job timeout greater than the inherited global interval is refused', async () => {
    await rejects(`\
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: J
    scrape_timeout: 20s
`, { line: 5, col: 21, path: 'scrape_configs[0].scrape_timeout', message: 'scrape timeout greater than scrape interval for scrape config with job name "J"' })
  })

  test('a global timeout greater than the global interval is refused', async () => {
    await rejects(`\
global:
  scrape_interval: 5s
  scrape_timeout: 6s
`, { line: 3, col: 19, path: 'global.scrape_timeout', message: 'global scrape timeout greater than scrape interval' })
    // Against the default interval (1m).
    await rejects(`\
global:
  scrape_timeout: 2m
`, { line: 2, col: 19, path: 'global.scrape_timeout', message: 'global scrape timeout greater than scrape interval' })
  })

  test('an unset timeout is min(global timeout, interval); 0 means unset', async (t) => {
    const app = await loads(t, `\
global:
  scrape_interval: 1m
  scrape_timeout: 20s
scrape_configs:
  - job_name: short
    scrape_interval: 15s
  - job_name: long
    scrape_interval: 2m
  - job_name: inherit
  - job_name: explicit
    scrape_interval: 15s
    scrape_timeout: 15s
  - job_name: zero
    scrape_interval: 0s
    scrape_timeout: 0s
`)
    const got = app.gateway.config.jobs.map((j) => [j.name, j.scrapeInterval, j.scrapeTimeout])
    assert.deepEqual(got, [
      ['short', 15_000, 15_000],
      ['long', 120_000, 20_000],
      ['inherit', 60_000, 20_000],
      ['explicit', 15_000, 15_000],
      ['zero', 60_000, 20_000],
    ])
  })

  test('global defaults: 1m interval, 10s timeout; an interval below 10s caps the timeout', async (t) => {
    const defaults = await loads(t, 'scrape_configs:\n  - job_name: a\n')
    assert.deepEqual(defaults.gateway.config.global, { scrapeInterval: 60_000, scrapeTimeout: 10_000, bodySizeLimit: 0 })
    assert.equal(defaults.gateway.config.jobs[0]?.scrapeTimeout, 10_000)
    const fast = await loads(t, 'global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_interval: 1m\n')
    assert.deepEqual(fast.gateway.config.global, { scrapeInterval: 5_000, scrapeTimeout: 5_000, bodySizeLimit: 0 })
    assert.deepEqual(fast.gateway.config.jobs.map((j) => j.scrapeTimeout), [5_000, 5_000])
    // `scrape_interval: 0s` in global means the default, as in Prometheus.
    const zero = await loads(t, 'global:\n  scrape_interval: 0s\n')
    assert.deepEqual(zero.gateway.config.global, { scrapeInterval: 60_000, scrapeTimeout: 10_000, bodySizeLimit: 0 })
  })

  test('a bare number as body_size_limit is refused', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    body_size_limit: 100
`, { line: 3, col: 22, path: 'scrape_configs[0].body_size_limit', message: 'units: unknown unit  in 100' })
    await rejects(`\
global:
  body_size_limit: 100
`, { line: 2, col: 20, path: 'global.body_size_limit', message: 'units: unknown unit  in 100' })
  })

  test('body_size_limit: the job value, else the global one', async (t) => {
    const app = await loads(t, `\
global:
  body_size_limit: 10MiB
scrape_configs:
  - job_name: a
  - job_name: b
    body_size_limit: 1GB512MB
`)
    assert.deepEqual(app.gateway.config.jobs.map((j) => j.bodySizeLimit), [10 * 1024 ** 2, 1024 ** 3 + 512 * 1024 ** 2])
  })
})

// Rules 1, 4 and 5b, exactly as written here, are in test/auth-validation.test.ts,
// which has one test per rule; these are variants with other positions.
describe('auth rules (HTTPClientConfig.Validate 1-5)', () => {
  test('2: basic_auth + bearer_token', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth:
      username: u
    bearer_token: t
`, { line: 5, col: 19, path: 'scrape_configs[0].bearer_token', message: 'at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured' })
  })

  test('3: basic_auth username + username_file', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth:
      username: u
      username_file: /u
`, { line: 5, col: 22, path: 'scrape_configs[0].basic_auth.username_file', message: 'at most one of basic_auth username, username_file & username_ref must be configured' })
  })

  test('5a: authorization + bearer_token', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    bearer_token: t
    authorization:
      credentials: c
`, { line: 5, col: 7, path: 'scrape_configs[0].authorization', message: 'authorization is not compatible with bearer_token & bearer_token_file' })
  })

  test('5d: authorization type basic, in any case and with spaces', async () => {
    for (const type of ['basic', 'Basic', 'BASIC', '" bAsIc "']) {
      await rejects(`\
scrape_configs:
  - job_name: a
    authorization:
      type: ${type}
      credentials: c
`, { line: 4, col: 13, path: 'scrape_configs[0].authorization.type', message: 'authorization type cannot be set to "basic", use "basic_auth" instead' })
    }
  })

  test('5e: authorization + basic_auth', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    basic_auth:
      username: u
    authorization:
      credentials: c
`, { line: 6, col: 7, path: 'scrape_configs[0].authorization', message: 'at most one of basic_auth, oauth2 & authorization must be configured' })
  })

  test('*_ref fields are refused (Prometheus has no secret manager)', async () => {
    const cases: Array<[string, string, number]> = [
      ['basic_auth:\n      username_ref: u', 'scrape_configs[0].basic_auth.username_ref', 21],
      ['basic_auth:\n      username: u\n      password_ref: p', 'scrape_configs[0].basic_auth.password_ref', 21],
      ['authorization:\n      credentials_ref: c', 'scrape_configs[0].authorization.credentials_ref', 24],
      ['tls_config:\n      ca_ref: c', 'scrape_configs[0].tls_config.ca_ref', 15],
    ]
    for (const [block, keyPath, col] of cases) {
      const { err } = await loadError(`scrape_configs:\n  - job_name: a\n    scheme: https\n    ${block}\n`)
      // The message is the gateway's own (Prometheus fails later, at client build).
      const key = keyPath.split('.').at(-1) as string
      assert.equal(err.line, 3 + block.split('\n').length)
      assert.equal(err.col, col)
      assert.equal(err.keyPath, keyPath)
      assert.equal(err.detail, `${key} needs a secret manager, which scrape-gateway (like Prometheus) does not have; ` +
        (key === 'ca_ref' ? 'use ca or ca_file' : 'use the inline or _file form'))
    }
  })

  test('valid auth loads: bearer fields become authorization Bearer', async (t) => {
    const app = await loads(t, `\
scrape_configs:
  - job_name: bearer
    bearer_token: t
  - job_name: typed
    authorization:
      type: "  "
      credentials: c
  - job_name: basic
    basic_auth:
      username: u
      password_file: p
`)
    const res = await app.inject('/config')
    // The YAML, parsed: what an operator reads.
    const jobs = (parseYaml(res.body) as { scrape_configs: Array<Record<string, unknown>> }).scrape_configs
    assert.deepEqual(jobs[0]?.authorization, { type: 'Bearer', credentials: '<secret>' })
    assert.deepEqual(jobs[1]?.authorization, { type: 'Bearer', credentials: '<secret>' })
    // As Prometheus shows them: the username in plain text, a file under its _file key.
    assert.deepEqual(jobs[2]?.basic_auth, { username: 'u', password_file: path.join(path.dirname(app.gateway.config.file), 'p') })
  })
})

describe('tls_config', () => {
  test('ca + ca_file', async () => {
    await rejects(`\
scrape_configs:
  - job_name: a
    scheme: https
    tls_config:
      ca: x
      ca_file: /ca.crt
`, { line: 6, col: 16, path: 'scrape_configs[0].tls_config.ca_file', message: 'at most one of ca, ca_file & ca_ref must be configured' })
  })

  test('a missing ca_file', async () => {
    const dir = configDir()
    const f = path.join(dir, 'nope.crt')
    await rejects(`\
scrape_configs:
  - job_name: a
    scheme: https
    tls_config:
      ca_file: nope.crt
`, {
      line: 5,
      col: 16,
      path: 'scrape_configs[0].tls_config.ca_file',
      message: `unable to read CA cert: unable to read file ${f}: open ${f}: no such file or directory`,
    }, dir)
  })

  test('a ca_file that is not PEM', async () => {
    const dir = configDir()
    const f = path.join(dir, 'ca.crt')
    writeFileSync(f, 'this is not a certificate\n')
    await rejects(`\
scrape_configs:
  - job_name: a
    scheme: https
    tls_config:
      ca_file: ${f}
`, { line: 5, col: 16, path: 'scrape_configs[0].tls_config.ca_file', message: `unable to use specified CA cert file ${f}` }, dir)
  })
})

describe('scrape_protocols', () => {
  const SUPPORTED = '[OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]'

  test('empty', async () => {
    await rejects(`\
scrape_configs:
  - job_name: J
    scrape_protocols: []
`, { line: 3, col: 23, path: 'scrape_configs[0].scrape_protocols', message: 'scrape_protocols cannot be empty for scrape config with job name "J"' })
  })

  test('unknown (case-sensitive)', async () => {
    await rejects(`\
scrape_configs:
  - job_name: J
    scrape_protocols: [PrometheusText0.0.4, prometheusproto]
`, {
      line: 3,
      col: 23,
      path: 'scrape_configs[0].scrape_protocols',
      message: `scrape_protocols: unknown scrape protocol prometheusproto, supported: ${SUPPORTED} for scrape config with job name "J"`,
    })
  })

  test('duplicated (case-insensitive)', async () => {
    await rejects(`\
scrape_configs:
  - job_name: J
    scrape_protocols:
      - PrometheusText0.0.4
      - OpenMetricsText1.0.0
      - PrometheusText0.0.4
`, {
      line: 4,
      col: 7,
      path: 'scrape_configs[0].scrape_protocols',
      message: 'duplicated protocol in scrape_protocols, got [PrometheusText0.0.4 OpenMetricsText1.0.0 PrometheusText0.0.4] for scrape config with job name "J"',
    })
  })

  test('global: named as the global config', async () => {
    await rejects(`\
global:
  scrape_protocols: []
`, { line: 2, col: 21, path: 'global.scrape_protocols', message: 'scrape_protocols cannot be empty for global config' })
  })
})

describe('keys that only matter to Prometheus', () => {
  test('ingestion-only keys load and are listed as ignored', async (t) => {
    const app = await loads(t, `\
rule_files:
  - rules/*.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['alertmanager:9093']
global:
  evaluation_interval: 30s
scrape_configs:
  - job_name: a
    honor_labels: true
    honor_timestamps: false
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
    sample_limit: 1000
    kubernetes_sd_configs:
      - role: pod
`)
    assert.deepEqual(app.gateway.config.ignored, [
      'rule_files',
      'alerting',
      'global.evaluation_interval',
      'scrape_configs[0].honor_labels',
      'scrape_configs[0].honor_timestamps',
      'scrape_configs[0].relabel_configs',
      'scrape_configs[0].metric_relabel_configs',
      'scrape_configs[0].sample_limit',
      'scrape_configs[0].kubernetes_sd_configs',
    ])
  })

  test('a job pasted from a real prometheus.yml loads', async (t) => {
    const dir = configDir()
    const ca = createCa()
    mkdirSync(path.join(dir, 'pki'))
    copyFileSync(ca.certFile, path.join(dir, 'pki', 'ca.crt'))
    const app = await loads(t, `\
# my global config
global:
  scrape_interval: 15s # Set the scrape interval to every 15 seconds. Default is every 1 minute.
  evaluation_interval: 15s # Evaluate rules every 15 seconds. The default is every 1 minute.
  external_labels:
    cluster: prod-eu-1
    replica: A

# Alertmanager configuration
alerting:
  alertmanagers:
    - static_configs:
        - targets:
            - alertmanager:9093

# Load rules once and periodically evaluate them according to the global 'evaluation_interval'.
rule_files:
  - "rules/*.rules.yml"

remote_write:
  - url: https://mimir.example.com/api/v1/push

scrape_configs:
  - job_name: node
    honor_timestamps: true
    scrape_interval: 30s
    scrape_timeout: 10s
    metrics_path: /metrics
    scheme: https
    params:
      collect[]: [cpu, meminfo, filesystem]
    basic_auth:
      username: prometheus
      password_file: secrets/node-exporter-password
    tls_config:
      ca_file: pki/ca.crt
      server_name: node-exporter.internal
    static_configs:
      - targets: ['node-1.internal:9100', 'node-2.internal:9100']
        labels:
          env: prod
          team: infra
      - targets: ['Node-3.internal:9100']
    relabel_configs:
      - source_labels: [__address__]
        regex: '([^:]+):\\d+'
        target_label: instance
        replacement: '$1'
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'node_scrape_collector_.*'
        action: drop
    sample_limit: 50000
    label_limit: 64

  - job_name: kubernetes-pods
    honor_labels: true
    scrape_interval: 1m
    kubernetes_sd_configs:
      - role: pod
        namespaces:
          names: [monitoring, payments]
    bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token
    tls_config:
      insecure_skip_verify: true
    scheme: https
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: true
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        action: replace
        target_label: __metrics_path__
        regex: (.+)
      - action: labelmap
        regex: __meta_kubernetes_pod_label_(.+)
`, dir)
    const { config } = app.gateway
    const [node, pods] = config.jobs
    assert.ok(node !== undefined && pods !== undefined)
    assert.equal(node.name, 'node')
    assert.equal(node.scheme, 'https')
    assert.equal(node.metricsPath, '/metrics')
    assert.equal(node.scrapeInterval, 30_000)
    assert.equal(node.scrapeTimeout, 10_000)
    assert.deepEqual(node.params, [['collect[]', ['cpu', 'meminfo', 'filesystem']]])
    assert.deepEqual(node.targets, ['node-1.internal:9100', 'node-2.internal:9100', 'node-3.internal:9100'])
    assert.deepEqual(node.staticConfigs, [
      { targets: ['node-1.internal:9100', 'node-2.internal:9100'], labels: { env: 'prod', team: 'infra' } },
      { targets: ['node-3.internal:9100'], labels: {} },
    ])
    const features = node.client.map((c) => c.feature.name)
    assert.ok(features.includes('basic_auth') && features.includes('tls'), features.join())
    assert.equal(pods.scrapeInterval, 60_000)
    assert.equal(pods.scrapeTimeout, 10_000)
    assert.deepEqual(pods.targets, [])
    assert.deepEqual(config.global, { scrapeInterval: 15_000, scrapeTimeout: 10_000, bodySizeLimit: 0 })
    assert.deepEqual(config.ignored, [
      'alerting', 'rule_files', 'remote_write',
      'global.evaluation_interval', 'global.external_labels',
      'scrape_configs[0].honor_timestamps', 'scrape_configs[0].relabel_configs', 'scrape_configs[0].metric_relabel_configs',
      'scrape_configs[0].sample_limit', 'scrape_configs[0].label_limit',
      'scrape_configs[1].honor_labels', 'scrape_configs[1].kubernetes_sd_configs', 'scrape_configs[1].relabel_configs',
    ])
    const shown = JSON.parse((await app.inject('/config?format=json')).body) as { scrape_configs: Array<Record<string, unknown>> }
    assert.deepEqual(shown.scrape_configs[0]?.tls_config, {
      ca_file: path.join(dir, 'pki', 'ca.crt'), server_name: 'node-exporter.internal', insecure_skip_verify: false,
    })
  })
})

describe('relative paths resolve against the config file directory', () => {
  test('bearer_token_file and ca_file', async (t) => {
    const dir = configDir()
    const ca = createCa()
    const cert = ca.issue({ cn: '127.0.0.1' })
    mkdirSync(path.join(dir, 'pki'))
    copyFileSync(ca.certFile, path.join(dir, 'pki', 'ca.crt'))
    writeFileSync(path.join(dir, 'token'), 's3cr3t\n')
    const body = 'up 1\n'
    const target = await startHttpsTarget({ cert: cert.cert, key: cert.key }, (req, res) => {
      if (req.headers.authorization !== 'Bearer s3cr3t') { res.statusCode = 401; res.end(); return }
      metricsHandler(body)(req, res)
    })
    t.after(async () => { await target.close() })
    assert.notEqual(process.cwd(), dir)

    const app = await loads(t, `\
scrape_configs:
  - job_name: rel
    scheme: https
    bearer_token_file: token
    tls_config:
      ca_file: pki/ca.crt
    static_configs: [{ targets: ['${target.host}'] }]
`, dir)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    const res = await fetch(`http://127.0.0.1:${port}/probe?job=rel&target=${target.host}`)
    assert.equal(res.status, 200, await res.clone().text())
    assert.equal(await res.text(), body)
    assert.equal(target.requests[0]?.headers.authorization, 'Bearer s3cr3t')
  })

  test('a missing relative ca_file is reported by its joined path', async () => {
    const dir = configDir()
    const f = path.join(dir, 'certs', 'ca.crt')
    await rejects(`\
scrape_configs:
  - job_name: a
    tls_config:
      ca_file: certs/ca.crt
`, {
      line: 4,
      col: 16,
      path: 'scrape_configs[0].tls_config.ca_file',
      message: `unable to read CA cert: unable to read file ${f}: open ${f}: no such file or directory`,
    }, dir)
  })
})

test('type errors quote the value as yaml.v2 does, cut to 7 characters past 10', async () => {
  const short = writeConfig('scrape_configs:\n  - job_name: j\n    enable_compression: maybe\n')
  await assert.rejects(buildServer({ configFile: short, logLevel: false }), { message: `${short}:3:25: scrape_configs[0].enable_compression: cannot unmarshal !!str \`maybe\` into bool` })
  const long = writeConfig('scrape_configs:\n  - job_name: j\n    enable_compression: definitely-not\n')
  await assert.rejects(buildServer({ configFile: long, logLevel: false }), { message: `${long}:3:25: scrape_configs[0].enable_compression: cannot unmarshal !!str \`definit...\` into bool` })
})

describe('placeholders are not values (a config copied back from /config)', () => {
  const SECRET = '"<secret>" is what scrape-gateway (like Prometheus) prints in place of a secret, not a secret: ' +
    'write the real value here (a config copied from /config has none)'
  const PASSWORD = 'the password is "xxxxx", what scrape-gateway (like Prometheus) prints in place of a URL\'s password, ' +
    'not a password: write the real one (a URL copied from /config has none)'
  const query = (key: string): string => `the query value of "${key}" is "<secret>", what scrape-gateway prints in place of a URL's query values, ` +
    'not a value: write the real one (a URL copied from /config has none)'

  /** The job's keys (4-space indented lines after `job_name`), the line that holds `at`, and what it is refused with. */
  async function refusedAt (keys: string, at: string, path: string, message: string): Promise<void> {
    const lines = keys.split('\n')
    const i = lines.findIndex((l) => l.includes(at))
    await rejects(`scrape_configs:\n  - job_name: a\n${keys}\n`, { line: 3 + i, col: (lines[i] ?? '').indexOf(at) + 1, path, message })
  }

  test('a secret that is <secret>, in every kind of secret, quoted or not, as Go\'s JSON writes it too', async () => {
    const job = 'scrape_configs[0]'
    await refusedAt('    basic_auth: { username: u, password: <secret> }', '<secret>', `${job}.basic_auth.password`, SECRET)
    await refusedAt('    authorization: { credentials: \'<secret>\' }', '\'<secret>\'', `${job}.authorization.credentials`, SECRET)
    await refusedAt('    bearer_token: "\\u003csecret\\u003e"', '"', `${job}.bearer_token`, SECRET)
    await refusedAt('    oauth2: { client_id: a, client_secret: <secret>, token_url: https://idp/token }', '<secret>', `${job}.oauth2.client_secret`, SECRET)
    await refusedAt('    proxy_url: http://proxy:3128\n    proxy_connect_header: { X-Key: [k, <secret>] }', '<secret>',
      `${job}.proxy_connect_header.X-Key[1]`, SECRET)
    // The username is held as the credentials are; /config shows it, so it is never <secret> there.
    await refusedAt('    basic_auth: { username: <secret>, password: p }', '<secret>', `${job}.basic_auth.username`, SECRET)
  })

  test('an http_headers secret that is <secret> is refused where it stands', async () => {
    await refusedAt('    http_headers: { X-Key: { secrets: [<secret>] } }', '<secret>', 'scrape_configs[0].http_headers.X-Key.secrets[0]', SECRET)
  })

  test('a URL password xxxxx, or a query value <secret>, in proxy_url and token_url', async () => {
    const job = 'scrape_configs[0]'
    await refusedAt('    proxy_url: http://u:xxxxx@proxy:3128', 'http', `${job}.proxy_url`, PASSWORD)
    await refusedAt('    proxy_url: http://proxy:3128/?route=<secret>', 'http', `${job}.proxy_url`, query('route'))
    await refusedAt('    oauth2: { client_id: a, token_url: \'https://idp/token?client_secret=%3Csecret%3E\' }', '\'https',
      `${job}.oauth2.token_url`, query('client_secret'))
    await refusedAt('    oauth2: { client_id: a, token_url: https://idp/token, proxy_url: http://u:xxxxx@proxy:3128 }', 'http://u',
      `${job}.oauth2.proxy_url`, PASSWORD)
  })

  test('what merely resembles a placeholder is a value', async (t) => {
    await loads(t, `\
scrape_configs:
  - job_name: a
    basic_auth: { username: u, password: '<secret> ' }
    proxy_url: http://u:xxxxxx@proxy:3128/?route=secret
  - job_name: b
    oauth2: { client_id: a, client_secret: secret, token_url: 'https://idp/token?x=<secret>2&y=' }
`)
  })
})

describe('/config', () => {
  test('is YAML in Prometheus\'s key order (the gateway\'s own keys beside), JSON with ?format=json, and refuses another format', async (t) => {
    const app = await loads(t, `
scrape_configs:
  - job_name: full
    static_configs:
      - targets: ['a:9100']
        labels: { env: prod }
    http_headers: { X-A: { values: [a] } }
    max_concurrent_probes: 3
    allowed_targets: ['b:9100']
    tls_config: { insecure_skip_verify: true }
    follow_redirects: false
    basic_auth: { username: u, password: p }
    enable_compression: false
    scheme: https
    metrics_path: /m
    scrape_timeout: 5s
    scrape_interval: 30s
    params: { module: [x] }
  - job_name: hang
    honor_labels: true
`)
    const res = await app.inject('/config')
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    assert.match(res.body, /^# .*scrape-gateway\.yml, as loaded: effective values, secrets hidden\n# keys that only matter to Prometheus, ignored: scrape_configs\[1\]\.honor_labels\n/)
    const doc = parseYaml(res.body) as { global: Record<string, unknown>, scrape_configs: Array<Record<string, unknown>> }
    assert.deepEqual(Object.keys(doc.global), ['scrape_interval', 'scrape_timeout', 'body_size_limit'])
    assert.deepEqual(Object.keys(doc.scrape_configs[0] ?? {}), [
      'job_name', 'params', 'scrape_interval', 'scrape_timeout', 'metrics_path', 'scheme', 'enable_compression', 'body_size_limit', 'accept',
      'basic_auth', 'tls_config', 'follow_redirects', 'enable_http2', 'http_headers',
      'allowed_targets', 'max_concurrent_probes', 'static_configs',
    ])
    assert.deepEqual(doc.scrape_configs[0]?.basic_auth, { username: 'u', password: '<secret>' })
    assert.deepEqual(doc.scrape_configs[0]?.static_configs, [{ targets: ['a:9100'], labels: { env: 'prod' } }])
    assert.equal(doc.scrape_configs[0]?.max_concurrent_probes, 3)

    const json = await app.inject('/config?format=json')
    assert.match(json.headers['content-type'] as string, /^application\/json/)
    const { file, ignored_keys: ignored, ...rest } = JSON.parse(json.body) as Record<string, unknown>
    assert.equal(file, app.gateway.config.file)
    assert.deepEqual(ignored, ['scrape_configs[1].honor_labels'])
    assert.deepEqual(rest, doc, 'the JSON holds what the YAML does')

    const bad = await app.inject('/config?format=xml')
    assert.equal(bad.statusCode, 400)
    assert.equal(bad.body, 'SG_BAD_PARAM: format parameter must be yaml or json, got "xml"\n')
  })
})

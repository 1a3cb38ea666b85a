// What a Prometheus Operator Probe sends: `module=<job>` instead of `job=`,
// and, for Ingress targets, a URL as `target`. The URL is accepted only when
// it names what the job scrapes anyway, and its host:port meets the target
// policy like any other target.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { targetOfUrl } from '../src/config/target.js'
import type { GatewayConfig } from '../src/config/types.js'
import { parseExternalUrl, targetGroups, type TargetGroup } from '../src/routes/sd.js'
import { startGateway } from './helpers/gateway.js'
import { metricsHandler, startHttpTarget } from './helpers/targets.js'

describe('a target given as a URL', () => {
  it('gives its host[:port] when the scheme is the job\'s and the path empty or the metrics_path', () => {
    assert.equal(targetOfUrl('https://app.example:8443', 'https', '/metrics'), 'app.example:8443')
    assert.equal(targetOfUrl('HTTPS://app.example', 'https', '/metrics'), 'app.example')
    assert.equal(targetOfUrl('http://10.0.0.7:9100/metrics', 'http', '/metrics'), '10.0.0.7:9100')
    assert.equal(targetOfUrl('http://[fd00::7]:9100/federate', 'http', '/federate'), '[fd00::7]:9100')
  })

  it('is not a URL without a scheme: the caller\'s host[:port] goes to the policy as it is', () => {
    assert.equal(targetOfUrl('app.example:8443', 'https', '/metrics'), undefined)
    assert.equal(targetOfUrl('app.example:8443/metrics', 'https', '/metrics'), undefined)
  })

  it('is refused, with the reason, for another scheme, userinfo, a query, a fragment or another path', () => {
    const refused = (target: string, reason: RegExp): void => {
      assert.throws(() => targetOfUrl(target, 'https', '/metrics'), (err: Error) => reason.test(err.message), target)
    }
    refused('http://app.example:8443', /^target URL "http:\/\/app\.example:8443": scheme "http" is not the job's scheme "https"$/)
    refused('ftp://app.example', /scheme "ftp" is not the job's scheme "https"/)
    refused('https://user:pw@app.example', /userinfo \(user@\) is not allowed/)
    refused('https://app.example/metrics?x=1', /a query or fragment is not allowed/)
    refused('https://app.example?', /a query or fragment is not allowed/)
    refused('https://app.example/metrics#frag', /a query or fragment is not allowed/)
    refused('https://app.example/', /path "\/" is not the job's metrics_path "\/metrics"/)
    refused('https://app.example/admin/metrics', /path "\/admin\/metrics" is not the job's metrics_path/)
  })
})

describe('/sd target groups', () => {
  const config = {
    file: '/etc/scrape-gateway.yml',
    global: { scrapeInterval: 60_000, scrapeTimeout: 10_000, bodySizeLimit: 0 },
    ignored: [],
    jobs: [
      { name: 'node', staticConfigs: [{ targets: ['node-1:9100', 'node-2:9100'], labels: { env: 'prod', instance: 'node-one', __metrics_path__: '/bypass' } }] },
      { name: 'ksm', staticConfigs: [{ targets: ['ksm.kube-system.svc:8443'], labels: {} }] },
      { name: 'discovered-only', staticConfigs: [] },
    ],
  } as unknown as GatewayConfig

  it('one group per static target: the gateway as the address, /probe with job and target, instance and job labels, the group\'s labels', () => {
    const groups = targetGroups(config, new URL('https://gw.monitoring.svc:9462/prefix/'))
    assert.deepEqual(groups.map((g) => g.targets), [['gw.monitoring.svc:9462'], ['gw.monitoring.svc:9462'], ['gw.monitoring.svc:9462']])
    assert.deepEqual(groups[1]?.labels, {
      job: 'node',
      instance: 'node-one',
      env: 'prod',
      __scheme__: 'https',
      __metrics_path__: '/prefix/probe',
      __param_job: 'node',
      __param_target: 'node-2:9100',
    })
    assert.deepEqual(groups[2]?.labels, {
      job: 'ksm',
      instance: 'ksm.kube-system.svc:8443',
      __scheme__: 'https',
      __metrics_path__: '/prefix/probe',
      __param_job: 'ksm',
      __param_target: 'ksm.kube-system.svc:8443',
    })
  })

  it('--web.external-url is an http(s) URL without userinfo, query or fragment', () => {
    assert.equal(parseExternalUrl('http://gw:9462').href, 'http://gw:9462/')
    for (const [bad, why] of [['gw:9462', /the scheme must be http or https/], ['/probe', /not an absolute URL/],
      ['http://u:p@gw/', /userinfo/], ['http://gw/?a=1', /query or fragment/], ['http://gw/#x', /query or fragment/]] as const) {
      assert.throws(() => parseExternalUrl(bad), (err: Error) => why.test(err.message) && err.message.startsWith('invalid --web.external-url'), bad)
    }
  })
})

describe('GET /sd on a real gateway', () => {
  const yaml = `
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['Node-1:9100']
        labels: { env: prod }
  - job_name: discovered
    allowed_targets: ['10.0.0.0/8:9100']
`
  it('answers Prometheus\'s HTTP SD format, addressed to the Host it was asked at', async (t) => {
    const gw = await startGateway(yaml)
    t.after(() => gw.close())
    const res = await fetch(`${gw.url}/sd`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual(await res.json(), [{
      targets: [new URL(gw.url).host],
      labels: { job: 'node', instance: 'node-1:9100', env: 'prod', __scheme__: 'http', __metrics_path__: '/probe', __param_job: 'node', __param_target: 'node-1:9100' },
    }])
  })

  it('uses --web.external-url when given, and refuses a Host that is not host[:port]', async (t) => {
    const gw = await startGateway(yaml, { externalUrl: new URL('https://gw.example:8443/sg/') })
    t.after(() => gw.close())
    const groups = await (await fetch(`${gw.url}/sd`)).json() as TargetGroup[]
    assert.deepEqual(groups[0]?.targets, ['gw.example:8443'])
    assert.equal(groups[0]?.labels.__scheme__, 'https')
    assert.equal(groups[0]?.labels.__metrics_path__, '/sg/probe')

    const plain = await startGateway(yaml)
    t.after(() => plain.close())
    const bad = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const req = http.get(`${plain.url}/sd`, { headers: { host: 'a b' } }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
    })
    assert.equal(bad.status, 400)
    assert.match(bad.body, /^SG_BAD_PARAM: the Host header "a b" is not host\[:port\]; set --web.external-url\n$/)
  })
})

describe('/probe as a Probe calls it', () => {
  it('takes module= for job=, refuses both when they differ, and takes a URL target that names what the job scrapes', async (t) => {
    const target = await startHttpTarget(metricsHandler('operator_probe_up 1\n'))
    const gw = await startGateway(`
scrape_configs:
  - job_name: j
    metrics_path: /metrics
    static_configs: [{ targets: ['${target.host}'] }]
`)
    t.after(async () => { await gw.close(); await target.close() })
    const get = async (query: string): Promise<{ status: number, body: string }> => {
      const res = await fetch(`${gw.url}/probe?${query}`)
      return { status: res.status, body: await res.text() }
    }
    const t1 = encodeURIComponent(target.host)
    assert.deepEqual(await get(`module=j&target=${t1}`), { status: 200, body: 'operator_probe_up 1\n' })
    assert.deepEqual(await get(`job=j&module=j&target=${t1}`), { status: 200, body: 'operator_probe_up 1\n' })
    const differ = await get(`job=j&module=k&target=${t1}`)
    assert.equal(differ.status, 400)
    assert.equal(differ.body, 'SG_BAD_PARAM: job "j" and module "k" differ: module is another name for job; give one\n')
    assert.equal((await get(`module=j&module=j&target=${t1}`)).body, 'SG_BAD_PARAM: module parameter must be given once\n')
    assert.equal((await get(`target=${t1}`)).body, 'SG_BAD_PARAM: Job parameter is missing\n')

    for (const url of [`http://${target.host}`, `http://${target.host}/metrics`]) {
      assert.deepEqual(await get(`module=j&target=${encodeURIComponent(url)}`), { status: 200, body: 'operator_probe_up 1\n' }, url)
    }
    const wrongPath = await get(`module=j&target=${encodeURIComponent(`http://${target.host}/admin`)}`)
    assert.equal(wrongPath.status, 400)
    assert.match(wrongPath.body, /^SG_BAD_TARGET: target URL ".*": path "\/admin" is not the job's metrics_path "\/metrics" \[job="j" target=".*"\]\n$/)
    assert.equal((await get(`module=j&target=${encodeURIComponent(`https://${target.host}`)}`)).status, 400)
    // The host:port inside the URL meets the target policy like any other.
    const other = await get(`module=j&target=${encodeURIComponent('http://127.0.0.1:1/metrics')}`)
    assert.equal(other.status, 403)
    assert.match(other.body, /^SG_TARGET_FORBIDDEN: target "127\.0\.0\.1:1" is not allowed for job "j"/)
    assert.equal(target.requests.length, 4, 'only the accepted probes reached the target')
  })
})

// allowed_targets and the target policy (src/policy/target-policy.ts): exact
// targets, host wildcards, CIDR ranges (IPv4, and IPv6 via [::1]) and `*`
// ports through the real gateway; a name checked by the address it resolves
// to; the link-local and metadata rule checked without connecting (a lookup
// that resolves test names, and a connector that only records); proxies;
// load-time errors; and the warning for a job that allows nothing. Only
// 127.0.0.1 and ::1 are ever dialled.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { Connector } from '../src/client/feature.js'
import { pinnedConnector, type Lookup } from '../src/client/pinned-connect.js'
import { parseTargetRule } from '../src/config/allowed-targets.js'
import { TargetPolicy } from '../src/policy/target-policy.js'
import { isCoded } from '../src/errors.js'
import { rejects } from './helpers/config-errors.js'
import { startForwardProxy } from './helpers/forward-proxy.js'
import { startGateway } from './helpers/gateway.js'
import { exposition, metricsHandler, startHttpTarget, type Target } from './helpers/targets.js'

const BODY = exposition(5)

/** An http target on `host` that counts connections as well as requests: a refusal must leave both at zero. */
interface Counted {
  port: number
  connections: number
  hosts: string[]
  close (): Promise<void>
}

async function countedTarget (host = '127.0.0.1'): Promise<Counted> {
  const serve = metricsHandler(BODY)
  const counted = { port: 0, connections: 0, hosts: [] as string[], close: async () => {} }
  const server = http.createServer((req, res) => {
    counted.hosts.push(req.headers.host ?? '')
    serve(req, res)
  })
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    counted.connections++
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve))
  counted.port = (server.address() as AddressInfo).port
  counted.close = async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
  return counted
}

function policyOf (rules: readonly string[], targets: readonly string[] = [], scheme: 'http' | 'https' = 'http'): TargetPolicy {
  return new TargetPolicy({ name: 'j', scheme, targets, allowedTargets: rules.map(parseTargetRule) })
}

/** What admit() says: the target to dial, or the error code. */
function admits (policy: TargetPolicy, target: string): string {
  try {
    return policy.admit(target)
  } catch (err) {
    assert.ok(isCoded(err), String(err))
    return err.code
  }
}

describe('allowed_targets through the gateway', () => {
  let one: Counted
  let two: Counted

  before(async () => {
    one = await countedTarget()
    two = await countedTarget()
  })
  after(async () => { await one?.close(); await two?.close() })

  it('exact host:port, and `*` for any port', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: exact
    allowed_targets: ['127.0.0.1:${one.port}']
  - job_name: star
    allowed_targets: ['127.0.0.1:*']
`)
    t.after(() => gw.close())
    assert.equal((await gw.probe('exact', `127.0.0.1:${one.port}`)).status, 200)
    const other = await gw.probe('exact', `127.0.0.1:${two.port}`)
    assert.equal(other.status, 403)
    assert.equal(await other.text(),
      `SG_TARGET_FORBIDDEN: target "127.0.0.1:${two.port}" is not allowed for job "exact": not in its static_configs or allowed_targets [job="exact" target="127.0.0.1:${two.port}"]\n`)
    assert.equal(two.connections, 0)
    for (const port of [one.port, two.port]) assert.equal((await gw.probe('star', `127.0.0.1:${port}`)).status, 200)
    assert.equal((await gw.probe('star', `localhost:${one.port}`)).status, 403, '`*` is the port, not the host')
  })

  it('an IPv4 range with a port', async (t) => {
    const connections = two.connections
    const gw = await startGateway(`
scrape_configs:
  - job_name: loopback
    allowed_targets: ['127.0.0.0/8:${one.port}']
  - job_name: private
    allowed_targets: ['10.0.0.0/8:*', '192.168.0.0/16:*']
`)
    t.after(() => gw.close())
    assert.equal((await gw.probe('loopback', `127.0.0.1:${one.port}`)).status, 200)
    assert.equal((await gw.probe('loopback', `127.0.0.1:${two.port}`)).status, 403)
    assert.equal((await gw.probe('private', `127.0.0.1:${two.port}`)).status, 403)
    assert.equal(two.connections, connections)
  })

  it('an IPv6 range, via [::1]', async (t) => {
    let v6: Counted
    try {
      v6 = await countedTarget('::1')
    } catch {
      t.skip('no IPv6 loopback on this machine')
      return
    }
    const gw = await startGateway(`
scrape_configs:
  - job_name: v6
    allowed_targets: ['[::1/128]:${v6.port}']
  - job_name: ula
    allowed_targets: ['[fd00::/8]:*']
  - job_name: v4-only
    allowed_targets: ['0.0.0.0/0:*']
`)
    t.after(async () => { await gw.close(); await v6.close() })
    assert.equal((await gw.probe('v6', `[::1]:${v6.port}`)).status, 200)
    assert.equal((await gw.probe('v6', `[0:0:0:0:0:0:0:1]:${v6.port}`)).status, 200, 'compared in canonical form')
    assert.deepEqual(v6.hosts, [`[::1]:${v6.port}`, `[::1]:${v6.port}`], 'dialled in canonical form')
    const connections = v6.connections
    assert.equal((await gw.probe('ula', `[::1]:${v6.port}`)).status, 403)
    assert.equal((await gw.probe('v4-only', `[::1]:${v6.port}`)).status, 403, 'an IPv4 range never holds an IPv6 address')
    assert.equal(v6.connections, connections)
  })

  it('a name is checked by the address it resolves to: localhost in 127.0.0.0/8, and not in 10.0.0.0/8 (no connection)', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: inside
    allowed_targets: ['127.0.0.0/8:${two.port}']
  - job_name: outside
    allowed_targets: ['10.0.0.0/8:${two.port}']
`)
    t.after(() => gw.close())
    const inside = await gw.probe('inside', `localhost:${two.port}`)
    assert.equal(inside.status, 200, await inside.clone().text())
    assert.equal(await inside.text(), BODY)
    assert.equal(two.hosts.at(-1), `localhost:${two.port}`, 'the name is still the Host')

    const connections = two.connections
    const outside = await gw.probe('outside', `localhost:${two.port}`)
    assert.equal(outside.status, 403)
    assert.match(await outside.text(),
      new RegExp(`^SG_ADDRESS_FORBIDDEN: target "localhost:${two.port}" resolved to .*127\\.0\\.0\\.1.*, which is not allowed for job "outside": .* is in no allowed_targets range for port ${two.port} \\[job="outside"`))
    assert.equal(two.connections, connections, 'refused before any connection')
    // A name no range with its port covers is refused before it is even looked up.
    assert.equal((await gw.probe('outside', `localhost:${one.port}`)).status, 403)
  })

  it('host wildcards cover names below the domain, never the domain itself or an address', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: wild
    allowed_targets: ['*.monitoring.svc:8443', '*.test:${one.port}']
`)
    t.after(() => gw.close())
    // Refusals are decided before any lookup, so they can go through the listener.
    for (const target of ['monitoring.svc:8443', 'evilmonitoring.svc:8443', 'a.monitoring.svc:9100', 'a.monitoring.svc.evil:8443', `test:${one.port}`, `127.0.0.1:${one.port}`]) {
      const res = await gw.probe('wild', target)
      assert.equal(res.status, 403, target)
      await res.arrayBuffer()
    }
    // What is allowed would be looked up; the policy says so without a lookup.
    const policy = gw.app.gateway.job('wild')?.policy as TargetPolicy
    assert.equal(policy.admit('a.monitoring.svc:8443'), 'a.monitoring.svc:8443')
    assert.equal(policy.admit('Kube-State-Metrics.Kube-System.Monitoring.SVC.:8443'), 'kube-state-metrics.kube-system.monitoring.svc:8443')
  })

  it('/config shows allowed_targets as written', async (t) => {
    const gw = await startGateway(`
scrape_configs:
  - job_name: shown
    static_configs: [{ targets: ['Node-1:9100'] }]
    allowed_targets: ['*.svc:*', '10.0.0.0/8:9100', '[fd00::/8]:9100']
`)
    t.after(() => gw.close())
    const config = await (await fetch(`${gw.url}/config?format=json`)).json() as { scrape_configs: Array<Record<string, unknown>> }
    assert.deepEqual(config.scrape_configs[0]?.static_configs, [{ targets: ['node-1:9100'] }])
    assert.deepEqual(config.scrape_configs[0]?.allowed_targets, ['*.svc:*', '10.0.0.0/8:9100', '[fd00::/8]:9100'])
  })
})

describe('the decision, without connecting', () => {
  it('ranges: IPv4 and IPv6 apart, by port', () => {
    const policy = policyOf(['10.233.0.0/16:8443', '[fd00::/8]:9100', '192.168.1.0/24:*'])
    const cases: Array<[string, string]> = [
      ['10.233.5.6:8443', '10.233.5.6:8443'],
      ['10.234.0.1:8443', 'SG_TARGET_FORBIDDEN'],
      ['10.233.5.6:8444', 'SG_TARGET_FORBIDDEN'],
      ['[FD12::1]:9100', '[fd12::1]:9100'],
      ['[fd12::1]:9101', 'SG_TARGET_FORBIDDEN'],
      ['[fe80::1]:9100', 'SG_TARGET_FORBIDDEN'],
      ['192.168.1.77:1', '192.168.1.77:1'],
      ['192.168.2.1:80', 'SG_TARGET_FORBIDDEN'],
      // A name a range with its port covers waits for its address (here, any port: 192.168.1.0/24:*).
      ['node.example:8443', 'node.example:8443'],
      ['node.example:8080', 'node.example:8080'],
      // Never an odd spelling of an address in a range.
      ['167903493:8443', 'SG_BAD_TARGET'],
      ['010.233.5.6:8443', 'SG_BAD_TARGET'],
    ]
    for (const [target, want] of cases) assert.equal(admits(policy, target), want, target)
    assert.equal(admits(policyOf(['[::/0]:*']), '10.0.0.1:80'), 'SG_TARGET_FORBIDDEN', 'an IPv6 range never holds an IPv4 address')
    // A name no range with its port covers is refused at once.
    const byPort = policyOf(['10.233.0.0/16:8443'])
    assert.equal(admits(byPort, 'node.example:8443'), 'node.example:8443')
    assert.equal(admits(byPort, 'node.example:8080'), 'SG_TARGET_FORBIDDEN')
  })

  it('static_configs and exact rules; a target without a port is at the scheme\'s port', () => {
    const http = policyOf(['metrics.internal:*'], ['node-1.internal:9100', 'example.com'])
    assert.equal(admits(http, 'node-1.internal:9100'), 'node-1.internal:9100')
    assert.equal(admits(http, 'NODE-1.internal.:9100'), 'node-1.internal:9100')
    assert.equal(admits(http, 'example.com:80'), 'example.com:80')
    assert.equal(admits(http, 'example.com'), 'example.com:80')
    assert.equal(admits(http, 'example.com:443'), 'SG_TARGET_FORBIDDEN')
    assert.equal(admits(http, 'metrics.internal:1'), 'metrics.internal:1')
    assert.equal(admits(http, 'a.metrics.internal:1'), 'SG_TARGET_FORBIDDEN', 'an exact rule is not a wildcard')
    const https = policyOf([], ['example.com'], 'https')
    assert.equal(admits(https, 'example.com:443'), 'example.com:443')
    assert.equal(admits(https, 'example.com:80'), 'SG_TARGET_FORBIDDEN')
  })

  it('link-local, metadata and this-host addresses: only a rule inside their block, or a target naming them, allows them', () => {
    const wide = policyOf(['0.0.0.0/0:*', '100.64.0.0/10:*', '[::/0]:*'])
    for (const target of ['169.254.169.254:80', '169.254.0.1:9100', '100.100.100.200:80', '0.0.0.0:80', '0.1.2.3:80',
      '[fe80::1]:80', '[fd00:ec2::254]:80', '[::]:80']) {
      assert.equal(admits(wide, target), 'SG_TARGET_FORBIDDEN', target)
    }
    assert.equal(admits(wide, '100.64.1.1:80'), '100.64.1.1:80')
    assert.equal(admits(wide, '[fd00:ec2::253]:80'), '[fd00:ec2::253]:80')

    const named = policyOf(['169.254.169.254/32:80', '[fe80::/10]:*', '0.0.0.0:9100'], ['100.100.100.200:80'])
    assert.equal(admits(named, '169.254.169.254:80'), '169.254.169.254:80')
    assert.equal(admits(named, '169.254.169.254:81'), 'SG_TARGET_FORBIDDEN')
    assert.equal(admits(named, '169.254.169.253:80'), 'SG_TARGET_FORBIDDEN')
    assert.equal(admits(named, '[fe80::1]:1'), '[fe80::1]:1')
    assert.equal(admits(named, '100.100.100.200:80'), '100.100.100.200:80')
    assert.equal(admits(named, '0.0.0.0:9100'), '0.0.0.0:9100')
    try {
      wide.admit('169.254.169.254:80')
      assert.fail('admitted')
    } catch (err) {
      assert.equal((err as Error).message, 'target "169.254.169.254:80" is not allowed for job "j": 169.254.169.254 is link-local (cloud metadata), ' +
        'allowed only by an allowed_targets range inside 169.254.0.0/16 or a target naming it')
    }
  })

  it('a job with neither list refuses everything, and says why', () => {
    const none = policyOf([])
    assert.equal(none.allowsNothing, true)
    assert.throws(() => none.admit('127.0.0.1:9100'), {
      code: 'SG_TARGET_FORBIDDEN',
      message: 'target "127.0.0.1:9100" is not allowed for job "j": the job has neither static_configs nor allowed_targets',
    })
    assert.equal(policyOf(['a:1']).allowsNothing, false)
  })
})

describe('connect time: resolve once, check, dial the checked address', () => {
  interface Dial { hostname: string, servername: string | undefined }

  /** A connector that records what it was asked to dial and fails with `codes` in turn: it never connects. */
  function recorder (codes: string[] = []): { connect: Connector, dials: Dial[] } {
    const dials: Dial[] = []
    const connect: Connector = (opts, callback) => {
      dials.push({ hostname: opts.hostname, servername: opts.servername })
      callback(Object.assign(new Error(`recorded ${opts.hostname}`), { code: codes.shift() ?? 'ERECORDED' }), null)
    }
    return { connect, dials }
  }

  /** A lookup that answers from `table` and counts its calls: no DNS. */
  function resolver (table: Record<string, string[]>): { lookup: Lookup, asked: string[] } {
    const asked: string[] = []
    const lookup: Lookup = (hostname, _options, callback) => {
      asked.push(hostname)
      const answer = table[hostname] ?? []
      if (answer.length === 0) callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), [])
      else callback(null, answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))
    }
    return { lookup, asked }
  }

  async function dial (connector: Connector, hostname: string, port = '80', extra: Partial<Parameters<Connector>[0]> = {}): Promise<Error & { code?: string }> {
    return await new Promise((resolve) => {
      connector({ hostname, host: `${hostname}:${port}`, protocol: 'http:', port, servername: hostname, ...extra }, (...args) => {
        resolve(args[0] as Error)
      })
    })
  }

  const NAMES = {
    'metadata.test': ['169.254.169.254'],
    'mapped.test': ['::ffff:169.254.169.254'],
    'v6-metadata.test': ['fd00:ec2::254'],
    'link-local.test': ['fe80::1'],
    'mixed.test': ['169.254.169.254', '10.1.2.3'],
    'two.test': ['10.0.0.1', '10.0.0.2'],
    'outside.test': ['192.0.2.1'],
  }

  it('a name that resolves to a metadata or link-local address is refused before any connection', async () => {
    const policy = policyOf(['metadata.test:80', 'mapped.test:80', 'v6-metadata.test:80', 'link-local.test:80', '0.0.0.0/0:*', '[fd00::/8]:*'])
    for (const name of ['metadata.test', 'mapped.test', 'v6-metadata.test', 'link-local.test']) {
      const { connect, dials } = recorder()
      const { lookup, asked } = resolver(NAMES)
      const err = await dial(pinnedConnector(connect, policy, lookup), name)
      assert.equal(err.code, 'SG_ADDRESS_FORBIDDEN', name)
      assert.match(err.message, new RegExp(`^target "${name}:80" resolved to .*, which is not allowed for job "j": `), name)
      assert.deepEqual(asked, [name])
      assert.deepEqual(dials, [], `${name}: nothing was dialled`)
    }
  })

  it('unless a rule inside the block names it; then the checked address is dialled, with the name as server name', async () => {
    const policy = policyOf(['metadata.test:80', '169.254.169.254/32:80'])
    const { connect, dials } = recorder()
    const { lookup } = resolver(NAMES)
    const err = await dial(pinnedConnector(connect, policy, lookup), 'metadata.test')
    assert.equal(err.code, 'ERECORDED')
    await dial(pinnedConnector(connect, policy, lookup), 'metadata.test', '80', { servername: undefined })
    assert.deepEqual(dials, [
      { hostname: '169.254.169.254', servername: 'metadata.test' },
      { hostname: '169.254.169.254', servername: 'metadata.test' },
    ], 'the name is the server name even when undici gave none')
  })

  it('a host a connector is handed that is no valid target is refused', () => {
    const policy = policyOf(['10.0.0.0/8:*'])
    const refused = policy.connectable('bad host', 80, ['10.0.0.1'])
    assert.ok(refused instanceof Error && isCoded(refused) && refused.code === 'SG_ADDRESS_FORBIDDEN', String(refused))
    const proxied = policy.viaProxy('bad host', 80)
    assert.ok(proxied !== undefined && isCoded(proxied) && proxied.code === 'SG_TARGET_FORBIDDEN', String(proxied))
    assert.equal(policy.viaProxy('10.1.1.1', 80), undefined, 'an address literal is its own address, through a proxy too')
    assert.deepEqual(policy.connectable('fd00::1', 80, ['fd00::1']) instanceof Error, true, 'an IPv6 literal is checked in brackets, against IPv6 ranges')
  })

  it('of several addresses, only the allowed ones are dialled, in order, the next one only when one is unreachable', async () => {
    const { lookup } = resolver(NAMES)
    const mixed = recorder()
    await dial(pinnedConnector(mixed.connect, policyOf(['mixed.test:80']), lookup), 'mixed.test')
    assert.deepEqual(mixed.dials.map((d) => d.hostname), ['10.1.2.3'], 'the metadata address is skipped')

    const refused = recorder(['ECONNREFUSED'])
    const err = await dial(pinnedConnector(refused.connect, policyOf(['10.0.0.0/8:80']), lookup), 'two.test')
    assert.deepEqual(refused.dials.map((d) => d.hostname), ['10.0.0.1', '10.0.0.2'])
    assert.equal(err.code, 'ERECORDED')

    const reset = recorder(['ECONNRESET'])
    const resetErr = await dial(pinnedConnector(reset.connect, policyOf(['10.0.0.0/8:80']), lookup), 'two.test')
    assert.deepEqual(reset.dials.map((d) => d.hostname), ['10.0.0.1'], 'a reset is an answer, not an unreachable address')
    assert.equal(resetErr.code, 'ECONNRESET')
  })

  it('resolves once per connection: a rebinding DNS answer cannot change what was checked', async () => {
    const answers = [['10.0.0.7'], ['169.254.169.254']]
    const asked: string[] = []
    const lookup: Lookup = (hostname, _o, callback) => {
      asked.push(hostname)
      callback(null, (answers.shift() ?? []).map((address) => ({ address, family: 4 })))
    }
    const { connect, dials } = recorder()
    const connector = pinnedConnector(connect, policyOf(['10.0.0.0/8:80', 'rebind.test:80']), lookup)
    await dial(connector, 'rebind.test')
    assert.deepEqual(asked, ['rebind.test'])
    assert.deepEqual(dials.map((d) => d.hostname), ['10.0.0.7'], 'the address checked is the address dialled')
    const second = await dial(connector, 'rebind.test')
    assert.equal(second.code, 'SG_ADDRESS_FORBIDDEN', 'the next connection checks its own answer')
    assert.equal(dials.length, 1)
  })

  it('a range allows a name only at an address inside it; an IP literal is checked without a lookup', async () => {
    const { lookup, asked } = resolver(NAMES)
    const { connect, dials } = recorder()
    const connector = pinnedConnector(connect, policyOf(['10.0.0.0/8:80', '100.64.0.0/10:*']), lookup)
    assert.equal((await dial(connector, 'outside.test')).code, 'SG_ADDRESS_FORBIDDEN')
    assert.equal((await dial(connector, '100.100.100.200')).code, 'SG_ADDRESS_FORBIDDEN')
    assert.equal((await dial(connector, '10.9.8.7')).code, 'ERECORDED')
    assert.deepEqual(asked, ['outside.test'])
    assert.deepEqual(dials.map((d) => d.hostname), ['10.9.8.7'])
    assert.equal((await dial(connector, 'unknown.test')).code, 'ENOTFOUND', 'a lookup failure is the lookup\'s')
  })

  it('inside a CONNECT tunnel only the name is checked: a name allowed only by a range is refused', async () => {
    const { lookup, asked } = resolver(NAMES)
    const { connect, dials } = recorder()
    const connector = pinnedConnector(connect, policyOf(['10.0.0.0/8:443', 'named.test:443']), lookup)
    const tunnel = { protocol: 'https:', httpSocket: {} as Socket }
    const refused = await dial(connector, 'two.test', '443', tunnel)
    assert.equal(refused.code, 'SG_TARGET_FORBIDDEN')
    assert.match(refused.message, /through a proxy: only an allowed_targets range allows it, and the proxy, not the gateway, resolves the name$/)
    assert.equal((await dial(connector, 'named.test', '443', tunnel)).code, 'ERECORDED')
    assert.deepEqual(asked, [], 'the proxy resolved the names')
    assert.deepEqual(dials.map((d) => d.hostname), ['named.test'])
  })
})

describe('through a proxy', () => {
  let target: Target
  before(async () => { target = await startHttpTarget(metricsHandler(BODY)) })
  after(async () => { await target?.close() })

  it('names are checked by name only: one allowed only by a range is refused before the proxy is asked', async (t) => {
    const proxy = await startForwardProxy({ hosts: { 'metrics.test': '127.0.0.1' } })
    const gw = await startGateway(`
scrape_configs:
  - job_name: proxied
    proxy_url: ${proxy.url}
    allowed_targets: ['127.0.0.0/8:*', 'metrics.test:${target.port}']
`)
    t.after(async () => { await gw.close(); await proxy.close() })
    const refused = await gw.probe('proxied', `localhost:${target.port}`)
    assert.equal(refused.status, 403)
    assert.match(await refused.text(), new RegExp(`^SG_TARGET_FORBIDDEN: target "localhost:${target.port}" is not allowed for job "proxied" through a proxy: `))
    assert.equal(proxy.requests.length, 0)
    assert.equal((await gw.probe('proxied', `metrics.test:${target.port}`)).status, 200)
    assert.equal((await gw.probe('proxied', target.host)).status, 200, 'an address literal is its own address')
    assert.deepEqual(proxy.requests.map((r) => r.url), [`http://metrics.test:${target.port}/metrics`, `http://${target.host}/metrics`])
  })
})

describe('allowed_targets at load', () => {
  const COL = 23 // `    allowed_targets: [` then the entry
  const cases: Array<[string, string]> = [
    ['host', '"host" needs a port: host:port, or host:* for any port'],
    ['[::1]', '"[::1]" needs a port: host:port, or host:* for any port'],
    ['fd00::/8:9100', '"fd00::/8:9100" is not host:port (an IPv6 address or range goes in brackets: [fd00::/8]:9100)'],
    ['*:443', '"*:443": a host wildcard needs a domain (*.example.com:443); to allow every address, write the ranges 0.0.0.0/0 and [::/0]'],
    ['a.*.com:443', '"a.*.com:443": * may only be the whole first label (*.example.com) or the port'],
    ['*.10.0.0.1:443', '"*.10.0.0.1:443": a wildcard takes a domain name, not an address; write a range (a.b.c.d/n)'],
    ['*.-bad.test:443', '"*.-bad.test:443": "-bad.test" is not a valid hostname: a name is dot-separated labels of letters, digits, "_" and "-" (not first or last), 1-63 long'],
    ['host:0', '"host:0": the port must be 1-65535, or * for any port'],
    ['host:080', '"host:080": the port must be 1-65535, or * for any port'],
    ['host:http', '"host:http": the port must be 1-65535, or * for any port'],
    ['10.0.0.0/33:80', '"10.0.0.0/33:80": the prefix length must be 0-32'],
    ['[fd00::/129]:80', '"[fd00::/129]:80": the prefix length must be 0-128'],
    ['10.0.0.0/08:80', '"10.0.0.0/08:80": the prefix length must be 0-32'],
    ['10.233.1.0/16:8443', '"10.233.1.0/16:8443": 10.233.1.0/16 has host bits set; write the range\'s first address'],
    ['[fd00::1/8]:9100', '"[fd00::1/8]:9100": fd00::1/8 has host bits set; write the range\'s first address'],
    ['127.1/8:80', '"127.1/8:80": "127.1" is not a valid hostname: an IPv4 address is four decimal numbers 0-255 without leading zeros (a.b.c.d)'],
    ['[10.0.0.0/8]:80', '"[10.0.0.0/8]:80": "[10.0.0.0]" is not a valid hostname: not an IPv6 address'],
    ['2130706433:80', '"2130706433:80": "2130706433" is not a valid hostname: an IPv4 address is four decimal numbers 0-255 without leading zeros (a.b.c.d)'],
    ['[::ffff:127.0.0.1]:80', '"[::ffff:127.0.0.1]:80": "[::ffff:127.0.0.1]" is not a valid hostname: an IPv4-mapped IPv6 address; write the IPv4 address itself'],
    ['user@host:80', '"user@host:80": "user@host" is not a valid hostname: userinfo (user@) is not allowed'],
  ]
  for (const [rule, message] of cases) {
    it(`refuses ${rule}`, async () => {
      await rejects(`scrape_configs:\n  - job_name: j\n    allowed_targets: [${JSON.stringify(rule)}]\n`,
        { line: 3, col: COL, path: 'scrape_configs[0].allowed_targets[0]', message })
    })
  }

  it('refuses a rule that is not a string, a list that is not a list, and an odd static_configs target', async () => {
    await rejects('scrape_configs:\n  - job_name: j\n    allowed_targets: [{ a: 1 }]\n',
      { line: 3, col: COL, path: 'scrape_configs[0].allowed_targets[0]', message: 'cannot unmarshal !!map into string' })
    await rejects('scrape_configs:\n  - job_name: j\n    allowed_targets: 10.0.0.0/8:80\n',
      { line: 3, col: 22, path: 'scrape_configs[0].allowed_targets', message: 'cannot unmarshal !!str `10.0.0....` into []string' })
    await rejects("scrape_configs:\n  - job_name: j\n    static_configs: [{ targets: ['0x7f.1:80'] }]\n",
      { line: 3, col: 34, path: 'scrape_configs[0].static_configs[0].targets[0]', message: '"0x7f.1:80" is not a valid hostname: an IPv4 address is four decimal numbers 0-255 without leading zeros (a.b.c.d)' })
  })
})

describe('a job that allows nothing', () => {
  it('is warned about by name at load, and refuses every target', async (t) => {
    const target = await startHttpTarget(metricsHandler(BODY))
    const logFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'sg-policy-log-')), 'gateway.log')
    const logFd = openSync(logFile, 'w')
    const gw = await startGateway(`
scrape_configs:
  - job_name: listed
    static_configs: [{ targets: ['${target.host}'] }]
  - job_name: discovered
    kubernetes_sd_configs: [{ role: pod }]
`, { logLevel: 'warn', logFormat: 'json', logFd })
    t.after(async () => { await target.close() })
    const res = await gw.probe('discovered', target.host)
    assert.equal(res.status, 403)
    assert.match(await res.text(), /^SG_TARGET_FORBIDDEN: target "127\.0\.0\.1:\d+" is not allowed for job "discovered": the job has neither static_configs nor allowed_targets /)
    assert.equal(target.requests.length, 0)
    await gw.close()
    closeSync(logFd)
    const warnings = readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.level === 'WARN')
    assert.deepEqual(warnings.map((w) => [w.job, w.msg]), [
      ['discovered', 'job "discovered" has neither static_configs nor allowed_targets: every target is refused (403 SG_TARGET_FORBIDDEN)'],
    ])
  })
})

// Server-side request forgery through /probe: a caller names targets in every
// spelling that resolvers, URL parsers and HTTP clients are known to read
// differently, through the real listener. Each gets its one expected status;
// the allowed ones reach the allowed target, and a sink on 127.0.0.1 proves
// that no refused target ever got a connection. Only 127.0.0.1 is ever
// dialled: every refusal is decided before any DNS lookup or connection.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { exposition, metricsHandler, startHttpTarget, type Target } from './helpers/targets.js'

const BODY = exposition(10)

/**
 * [job, target, status, code]. `{A}` is the allowed target's port, `{S}` the
 * sink's. A target starting with `raw:` goes into the query as it is (to
 * test encodings); the others are URL-encoded once, as Prometheus does.
 */
type Case = readonly [job: string, target: string, status: number, code: string]

const OK = 'SG_OK'
const BAD = 'SG_BAD_TARGET'
const FORBIDDEN = 'SG_TARGET_FORBIDDEN'

const CASES: readonly Case[] = [
  // The allowed target, in the spellings that mean it.
  ['exact', '127.0.0.1:{A}', 200, OK],
  ['exact', 'localhost:{A}', 200, OK],
  ['exact', 'LOCALHOST:{A}', 200, OK],
  ['exact', 'LocalHost.:{A}', 200, OK],
  ['exact', '127.0.0.1.:{A}', 200, OK],
  ['range', '127.0.0.1:{A}', 200, OK],
  ['range', 'localhost:{A}', 200, OK],

  // Allowed hosts at another port, other hosts, and what a port or a host wildcard does not cover.
  ['exact', '127.0.0.1:{S}', 403, FORBIDDEN],
  ['exact', 'localhost:{S}', 403, FORBIDDEN],
  ['exact', 'LOCALHOST.:{S}', 403, FORBIDDEN],
  ['exact', '127.0.0.1', 403, FORBIDDEN],
  ['exact', '[::1]:{A}', 403, FORBIDDEN],
  ['exact', '[0:0:0:0:0:0:0:1]:{A}', 403, FORBIDDEN],
  ['exact', '0.0.0.0:{A}', 403, FORBIDDEN],
  ['exact', '[::]:{A}', 403, FORBIDDEN],
  ['exact', '169.254.169.254:80', 403, FORBIDDEN],
  ['exact', 'metadata.google.internal:80', 403, FORBIDDEN],
  ['exact', 'localhost.evil.test:{A}', 403, FORBIDDEN],
  ['range', 'localhost:{S}', 403, FORBIDDEN],
  ['range', '127.0.0.1:{S}', 403, FORBIDDEN],
  ['range', '0.0.0.0:{A}', 403, FORBIDDEN],
  ['range', '169.254.169.254:{A}', 403, FORBIDDEN],
  ['wild', 'svc.test:{A}', 403, FORBIDDEN],
  ['wild', 'evilsvc.test:{A}', 403, FORBIDDEN],
  ['wild', 'a.svc.test.evil:{A}', 403, FORBIDDEN],
  ['wild', 'a.svc.test:{S}', 403, FORBIDDEN],
  ['wild', '127.0.0.1:{A}', 403, FORBIDDEN],

  // IPv4 in the forms inet_aton reads as 127.0.0.1: refused, never normalised.
  ['exact', '2130706433:{A}', 400, BAD],
  ['exact', '0x7f000001:{A}', 400, BAD],
  ['exact', '0x7f.1:{A}', 400, BAD],
  ['exact', '0x7F.0.0.1:{A}', 400, BAD],
  ['exact', '0177.0.0.1:{A}', 400, BAD],
  ['exact', '0127.0.0.1:{A}', 400, BAD],
  ['exact', '127.000.000.001:{A}', 400, BAD],
  ['exact', '127.0.0.01:{A}', 400, BAD],
  ['exact', '127.1:{A}', 400, BAD],
  ['exact', '127.0.1:{A}', 400, BAD],
  ['exact', '127.0.0.1.1:{A}', 400, BAD],
  ['exact', '127.0.0.256:{A}', 400, BAD],
  ['exact', 'svc.123:{A}', 400, BAD],
  ['range', '2130706433:{A}', 400, BAD],
  ['range', '0x7f.1:{A}', 400, BAD],
  ['range', '127.1:{A}', 400, BAD],
  // IPv6 spellings of it, and brackets around what is not IPv6.
  ['exact', '[::ffff:127.0.0.1]:{A}', 400, BAD],
  ['exact', '[::ffff:7f00:1]:{A}', 400, BAD],
  ['exact', '[0:0:0:0:0:ffff:7f00:1]:{A}', 400, BAD],
  ['range', '[::ffff:127.0.0.1]:{A}', 400, BAD],
  ['exact', '[127.0.0.1]:{A}', 400, BAD],
  ['exact', '[localhost]:{A}', 400, BAD],
  ['exact', '::1:{A}', 400, BAD],
  ['exact', 'raw:[::1%25lo]:{A}', 400, BAD],
  ['exact', 'raw:[fe80::1%2525eth0]:{A}', 400, BAD],
  // Userinfo tricks: the allowed target before an @, the real one after it.
  ['exact', '127.0.0.1:{A}@127.0.0.1:{S}', 400, BAD],
  ['exact', 'localhost:{A}@localhost:{S}', 400, BAD],
  ['exact', 'user@127.0.0.1:{A}', 400, BAD],
  ['exact', 'user:pw@127.0.0.1:{A}', 400, BAD],
  ['exact', '127.0.0.1:{S}#@127.0.0.1:{A}', 400, BAD],
  ['exact', '127.0.0.1:{S}?@127.0.0.1:{A}', 400, BAD],
  // CR/LF and other control characters, spaces.
  ['exact', '127.0.0.1:{A}\r\nHost: 127.0.0.1:{S}', 400, BAD],
  ['exact', '127.0.0.1:{A}\n', 400, BAD],
  ['exact', '127.0.0.1:{A}\t', 400, BAD],
  ['exact', ' 127.0.0.1:{A}', 400, BAD],
  ['exact', '127.0.0.1:{A}\u0000', 400, BAD],
  // Encodings: what the query decodes to is the target; a % left after that is refused.
  ['exact', 'raw:127.0.0.1%3A{A}', 200, OK],
  ['exact', 'raw:127.0.0.1%253A{A}', 400, BAD],
  ['exact', 'raw:127.0.0.1:{A}%2F', 400, BAD],
  ['exact', 'raw:127.0.0.1:{A}%252F..%252F', 400, BAD],
  ['exact', 'raw:127%2E0%2E0%2E1:{A}', 200, OK],
  ['exact', 'raw:127%252E0%252E0%252E1:{A}', 400, BAD],
  ['exact', 'raw:%6c%6f%63%61%6c%68%6f%73%74:{A}', 200, OK],
  ['exact', 'raw:%256c%256f%2563%2561%256c%2568%256f%2573%2574:{A}', 400, BAD],
  ['exact', 'raw:127.0.0.1:{A}%0D%0AHost:%20evil', 400, BAD],
  // Paths, queries, schemes, ports, empty labels, non-ASCII.
  ['exact', '127.0.0.1:{A}/metrics', 400, BAD],
  ['exact', '127.0.0.1:{A}/../admin', 400, BAD],
  ['exact', '127.0.0.1:{A}?x=1', 400, BAD],
  ['exact', '127.0.0.1:{A}\\@127.0.0.1:{S}', 400, BAD],
  // A URL (what the Prometheus Operator sends for an Ingress) only as the job's own scheme and
  // metrics_path, without userinfo, query or fragment; the host:port inside meets the policy.
  ['exact', 'http://127.0.0.1:{A}', 200, OK],
  ['exact', 'http://LOCALHOST:{A}/metrics', 200, OK],
  ['exact', 'https://127.0.0.1:{A}', 400, BAD],
  ['exact', 'http://127.0.0.1:{A}/../admin', 400, BAD],
  ['exact', 'http://127.0.0.1:{A}/metrics?x=1', 400, BAD],
  ['exact', 'http://127.0.0.1:{A}#x', 400, BAD],
  ['exact', 'http://127.0.0.1:{A}@127.0.0.1:{S}', 400, BAD],
  ['exact', 'http://127.0.0.1:{S}', 403, FORBIDDEN],
  ['exact', 'http://[::ffff:127.0.0.1]:{A}', 400, BAD],
  ['exact', 'http://127.1:{A}', 400, BAD],
  ['exact', 'http://169.254.169.254:80/metrics', 403, FORBIDDEN],
  ['exact', '127.0.0.1:{A}:{S}', 400, BAD],
  ['exact', '127.0.0.1:0', 400, BAD],
  ['exact', '127.0.0.1:0{A}', 400, BAD],
  ['exact', '127.0.0.1:65536', 400, BAD],
  ['exact', '127.0.0.1:-1', 400, BAD],
  ['exact', '127.0.0.1:', 400, BAD],
  ['exact', '127..0.0.1:{A}', 400, BAD],
  ['exact', 'localhost..:{A}', 400, BAD],
  ['exact', '.localhost:{A}', 400, BAD],
  ['exact', '-localhost:{A}', 400, BAD],
  ['exact', '\uff11\uff12\uff17.0.0.1:{A}', 400, BAD],
  ['exact', 'l\u043ecalhost:{A}', 400, BAD],
  ['exact', '*:{A}', 400, BAD],
]

describe('SSRF through /probe', () => {
  let ok: Target
  let sink: net.Server
  let sinkPort: number
  let sinkConnections = 0
  let gw: Gateway

  before(async () => {
    ok = await startHttpTarget(metricsHandler(BODY))
    sink = net.createServer((socket) => {
      sinkConnections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
    sinkPort = (sink.address() as AddressInfo).port
    gw = await startGateway(`
scrape_configs:
  - job_name: exact
    static_configs: [{ targets: ['127.0.0.1:${ok.port}'] }]
    allowed_targets: ['localhost:${ok.port}']
  - job_name: range
    allowed_targets: ['127.0.0.0/8:${ok.port}']
  - job_name: wild
    allowed_targets: ['*.svc.test:${ok.port}']
`)
  })
  after(async () => {
    await gw?.close()
    await ok?.close()
    await new Promise((resolve) => sink?.close(resolve))
  })

  const fill = (s: string): string => s.replaceAll('{A}', String(ok.port)).replaceAll('{S}', String(sinkPort))

  for (const [job, written, status, code] of CASES) {
    it(`${job} ${JSON.stringify(written)} → ${status}`, async () => {
      const target = fill(written)
      const query = target.startsWith('raw:') ? target.slice(4) : encodeURIComponent(target)
      const before = ok.requests.length
      const res = await fetch(`${gw.url}/probe?job=${job}&target=${query}`)
      const text = await res.text()
      assert.equal(res.status, status, text)
      if (status === 200) {
        assert.equal(text, BODY)
        assert.equal(ok.requests.length, before + 1)
      } else {
        assert.ok(text.startsWith(`${code}: `), text)
        assert.equal(ok.requests.length, before, 'a refused target never reaches the allowed one either')
      }
    })
  }

  it('dials the canonical form it checked: lower case, no trailing dot', () => {
    const hosts = ok.requests.map((r) => r.headers.host)
    assert.ok(hosts.includes(`localhost:${ok.port}`), hosts.join())
    assert.ok(hosts.every((h) => h === `127.0.0.1:${ok.port}` || h === `localhost:${ok.port}`), hosts.join())
  })

  it('no refused target ever got a connection', () => {
    assert.equal(sinkConnections, 0)
  })
})

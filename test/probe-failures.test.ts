// How a probe fails. Before the reply has started, a failed scrape is a 5xx
// with one line `SG_CODE: reason [job="J" target="T"]`; once the body is
// being relayed, the gateway cuts the connection instead, so a caller never
// takes a truncated body for a complete one. Real targets on 127.0.0.1:0.
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import zlib from 'node:zlib'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { get, type Seen } from './helpers/client.js'
import { exposition, metricsHandler, refusedPort, startHttpTarget, type Handler, type Target } from './helpers/targets.js'
import { eventually } from './helpers/eventually.js'

const TEXT = 'text/plain; version=0.0.4; charset=utf-8'

function probeUrl (gw: Gateway, job: string, target: string): string {
  return `${gw.url}/probe?job=${encodeURIComponent(job)}&target=${encodeURIComponent(target)}`
}

/** The one-line error body, exactly. */
function errorLine (code: string, reason: string, job: string, target: string): string {
  return `${code}: ${reason} [job=${JSON.stringify(job)} target=${JSON.stringify(target)}]\n`
}

/** Asserts a coded error answered before the reply started; returns the reason text. */
function assertCoded (seen: Seen, status: number, code: string, job: string, target: string): string {
  const text = seen.body.toString()
  assert.equal(seen.status, status, `status (body: ${text})`)
  assert.equal(seen.complete, true, 'an error reply is a complete message')
  assert.equal(seen.headers['content-type'], 'text/plain; charset=utf-8')
  assert.equal(seen.headers['content-encoding'], undefined)
  const tail = ` [job=${JSON.stringify(job)} target=${JSON.stringify(target)}]\n`
  assert.ok(text.startsWith(`${code}: `), `expected ${code}, got ${JSON.stringify(text)}`)
  assert.ok(text.endsWith(tail), `expected the job/target tail, got ${JSON.stringify(text)}`)
  assert.equal(text.split('\n').length, 2, 'one line')
  return text.slice(code.length + 2, text.length - tail.length)
}

/** The reply started (200 head) and was then cut: never a clean end. */
function assertCut (seen: Seen): void {
  assert.equal(seen.status, 200)
  assert.equal(seen.complete, false, 'a started reply must not end cleanly')
  assert.equal(seen.aborted, true, 'the caller sees an aborted response')
}

/** Starts the gateway and targets; closes targets first so no probe outlives them, then the gateway. */
async function setup (t: TestContext, yaml: string, ...targets: Target[]): Promise<Gateway> {
  let gw: Gateway
  try {
    gw = await startGateway(yaml)
  } catch (err) {
    await Promise.all(targets.map(async (x) => { await x.close() }))
    throw err
  }
  t.after(async () => {
    await Promise.all(targets.map(async (x) => { await x.close() }))
    await gw.close()
  })
  return gw
}

/** Resolves when a target's response closes: `finished` false means it was cut before its end. */
interface Closes {
  handler (inner: Handler): Handler
  next (ms?: number): Promise<{ finished: boolean, afterMs: number }>
}

function watchCloses (): Closes {
  const waiting: Array<(v: { finished: boolean, afterMs: number }) => void> = []
  const done: Array<{ finished: boolean, afterMs: number }> = []
  return {
    handler: (inner) => (req, res) => {
      const started = Date.now()
      res.on('close', () => {
        const v = { finished: res.writableFinished, afterMs: Date.now() - started }
        const w = waiting.shift()
        if (w !== undefined) w(v)
        else done.push(v)
      })
      inner(req, res)
    },
    next: async (ms = 3000) => {
      const ready = done.shift()
      if (ready !== undefined) return ready
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the target's response did not close within ${ms} ms`)), ms)
        waiting.push((v) => { clearTimeout(timer); resolve(v) })
      })
    },
  }
}

/** Writes `head`, then the body in `chunk`-byte pieces every `everyMs`, until done or the peer leaves. */
function trickle (body: Buffer, chunk: number, everyMs: number, head: http.OutgoingHttpHeaders = { 'content-type': TEXT }): Handler {
  return (_req, res) => {
    res.writeHead(200, head)
    let at = 0
    const timer = setInterval(() => {
      if (res.destroyed) { clearInterval(timer); return }
      res.write(body.subarray(at, at + chunk))
      at += chunk
      if (at >= body.length) { clearInterval(timer); res.end() }
    }, everyMs)
    res.on('close', () => clearInterval(timer))
  }
}

/**
 * Sends `head` and `part` of the body, then kills the socket: once `cut()` is
 * called (after the caller has seen body bytes, so the reply has surely
 * started), or with `now`, as soon as the part is flushed.
 */
function dieMidBody (head: http.OutgoingHttpHeaders, part: Buffer, now = false): { handler: Handler, cut: () => void } {
  const pending: http.ServerResponse[] = []
  return {
    handler: (_req, res) => {
      res.writeHead(200, head)
      res.write(part, () => { if (now) res.socket?.destroy() })
      if (!now) pending.push(res)
    },
    cut: () => { for (const res of pending.splice(0)) res.socket?.destroy() },
  }
}

/** A raw TCP target that answers every request with `response` and then closes (a close-delimited body). */
/** Answers the first bytes it gets with `response` and closes; `silent`: accepts and never answers. */
async function startRawTarget (response: Buffer, { silent = false } = {}): Promise<Target> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    if (!silent) socket.once('data', () => socket.end(response))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    requests: [],
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A metric's value from the exposition text, labels matched in any order; 0 when absent. */
function metricValue (text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null || m[1] !== name) continue
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3])
  }
  return 0
}

/** A job that may be probed at any port of 127.0.0.1, where the tests' targets listen. */
const ANY_JOB = (name: string, extra = ''): string => `
scrape_configs:
  - job_name: ${name}
    allowed_targets: ['127.0.0.1:*']
${extra.split('\n').filter((l) => l.trim() !== '').map((l) => `    ${l}`).join('\n')}
`

describe('gzip', () => {
  test('a gzip body is relayed decoded, without Content-Encoding', async (t) => {
    const body = exposition(500)
    const target = await startHttpTarget(metricsHandler(body, { gzip: true }))
    const gw = await setup(t, ANY_JOB('z'), target)
    const seen = await get(probeUrl(gw, 'z', target.host))
    assert.equal(seen.status, 200)
    assert.equal(seen.complete, true)
    assert.equal(seen.headers['content-encoding'], undefined)
    assert.equal(seen.headers['content-type'], TEXT)
    assert.equal(seen.body.toString(), body)
    assert.equal(target.requests[0]?.headers['accept-encoding'], 'gzip')
  })

  test('garbage under Content-Encoding: gzip is a 502 SG_UPSTREAM_DECODE', async (t) => {
    const target = await startHttpTarget((_req, res) => {
      res.writeHead(200, { 'content-type': TEXT, 'content-encoding': 'gzip' })
      res.end('this is not gzip at all\n')
    })
    const gw = await setup(t, ANY_JOB('z'), target)
    const reason = assertCoded(await get(probeUrl(gw, 'z', target.host)), 502, 'SG_UPSTREAM_DECODE', 'z', target.host)
    assert.match(reason, /^gzip: /)
  })

  test('an empty body under Content-Encoding: gzip fails as in Prometheus (no gzip header)', async (t) => {
    const target = await startHttpTarget((_req, res) => {
      res.writeHead(200, { 'content-type': TEXT, 'content-encoding': 'gzip', 'content-length': 0 })
      res.end()
    })
    const gw = await setup(t, ANY_JOB('z'), target)
    const reason = assertCoded(await get(probeUrl(gw, 'z', target.host)), 502, 'SG_UPSTREAM_DECODE', 'z', target.host)
    assert.match(reason, /gzip/)
  })

  test('a gzip stream cut by the target mid-way never reaches the caller as a complete 200', async (t) => {
    const gz = zlib.gzipSync(exposition(5000))
    const dies = dieMidBody({ 'content-type': TEXT, 'content-encoding': 'gzip' }, gz.subarray(0, gz.length >> 1))
    const target = await startHttpTarget(dies.handler)
    const gw = await setup(t, ANY_JOB('z'), target)
    const seen = await get(probeUrl(gw, 'z', target.host), {}, dies.cut)
    // Half a stream decodes to data, which is relayed before the cut.
    assertCut(seen)
  })

  test('a truncated gzip stream that ends with a clean EOF (close-delimited) is not a complete 200', async (t) => {
    // No Content-Length, no chunking: only gzip's own trailer can tell the body is short.
    const text = exposition(5000)
    const gz = zlib.gzipSync(text)
    const head = `HTTP/1.1 200 OK\r\nContent-Type: ${TEXT}\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n`
    const target = await startRawTarget(Buffer.concat([Buffer.from(head), gz.subarray(0, gz.length - 100)]))
    const gw = await setup(t, ANY_JOB('z'), target)
    const seen = await get(probeUrl(gw, 'z', target.host))
    // The start of the stream decodes to data, relayed before the EOF shows
    // the trailer missing (zlib can tell only at the end): a cut, not a 502.
    assertCut(seen)
    assert.ok(seen.body.length > 0 && text.startsWith(seen.body.toString()), 'what was relayed is the decoded start of the body')
  })

  test('another Content-Encoding is relayed as is, like Prometheus hands it to the parser raw', async (t) => {
    const target = await startHttpTarget((_req, res) => {
      res.writeHead(200, { 'content-type': TEXT, 'content-encoding': 'x-custom' })
      res.end('raw bytes')
    })
    const gw = await setup(t, ANY_JOB('z'), target)
    const seen = await get(probeUrl(gw, 'z', target.host))
    assert.equal(seen.status, 200)
    assert.equal(seen.headers['content-encoding'], 'x-custom')
    assert.equal(seen.body.toString(), 'raw bytes')
  })
})

describe('body_size_limit', () => {
  test('a body over the limit in its first chunk is a 502 SG_BODY_SIZE_LIMIT', async (t) => {
    const target = await startHttpTarget(metricsHandler('a'.repeat(5000)))
    const gw = await setup(t, ANY_JOB('lim', 'body_size_limit: 1KB'), target)
    const seen = await get(probeUrl(gw, 'lim', target.host))
    assert.equal(seen.body.toString(), errorLine('SG_BODY_SIZE_LIMIT', 'body size limit exceeded (body_size_limit 1KiB)', 'lim', target.host))
    assert.equal(seen.status, 502)
  })

  test('a body of exactly the limit fails; one byte less succeeds', async (t) => {
    let size = 0
    const target = await startHttpTarget((req, res) => metricsHandler('a'.repeat(size))(req, res))
    const gw = await setup(t, ANY_JOB('lim', 'body_size_limit: 1KB'), target)
    size = 1024
    assertCoded(await get(probeUrl(gw, 'lim', target.host)), 502, 'SG_BODY_SIZE_LIMIT', 'lim', target.host)
    size = 1023
    const ok = await get(probeUrl(gw, 'lim', target.host))
    assert.equal(ok.status, 200)
    assert.equal(ok.complete, true)
    assert.equal(ok.body.length, 1023)
  })

  test('the limit counts decoded bytes: a small gzip body that inflates past it fails', async (t) => {
    const body = 'a'.repeat(100_000)
    assert.ok(zlib.gzipSync(body).length < 1024)
    const target = await startHttpTarget(metricsHandler(body, { gzip: true }))
    const gw = await setup(t, ANY_JOB('lim', 'body_size_limit: 1KB'), target)
    assertCoded(await get(probeUrl(gw, 'lim', target.host)), 502, 'SG_BODY_SIZE_LIMIT', 'lim', target.host)
  })

  test('the global body_size_limit applies to a job without one; a job value overrides it', async (t) => {
    const target = await startHttpTarget(metricsHandler('a'.repeat(5000)))
    const gw = await setup(t, `
global:
  body_size_limit: 1KB
scrape_configs:
  - job_name: inherits
    allowed_targets: ['127.0.0.1:*']
  - job_name: own
    body_size_limit: 10KB
    allowed_targets: ['127.0.0.1:*']
`, target)
    assertCoded(await get(probeUrl(gw, 'inherits', target.host)), 502, 'SG_BODY_SIZE_LIMIT', 'inherits', target.host)
    const ok = await get(probeUrl(gw, 'own', target.host))
    assert.equal(ok.status, 200)
    assert.equal(ok.body.length, 5000)
  })

  test('a slow body that passes the limit after the reply started is cut, and the upstream is dropped', async (t) => {
    const body = Buffer.from(exposition(40_000))
    assert.ok(body.length > 4 * 1024 * 1024)
    const closes = watchCloses()
    const target = await startHttpTarget(closes.handler(trickle(body, 64 * 1024, 5)))
    const gw = await setup(t, ANY_JOB('lim', 'body_size_limit: 2MB'), target)
    const res = await gw.probe('lim', target.host)
    // The first piece read (64 KiB at most) starts the reply; the limit is passed 2 MB later.
    assert.equal(res.status, 200)
    await assert.rejects(res.text(), 'the reply must not end cleanly')
    const closed = await closes.next()
    assert.equal(closed.finished, false, 'the gateway stops reading the target at the limit')
  })
})

describe('timeouts', () => {
  test('a target that never answers is a 504 SG_UPSTREAM_TIMEOUT at the job scrape_timeout', async (t) => {
    const closes = watchCloses()
    const target = await startHttpTarget(closes.handler(() => {}))
    const gw = await setup(t, ANY_JOB('slow', 'scrape_timeout: 1s'), target)
    const seen = await get(probeUrl(gw, 'slow', target.host))
    assert.equal(seen.body.toString(), errorLine('SG_UPSTREAM_TIMEOUT', 'scrape timed out after 1s (waiting for the response)', 'slow', target.host))
    assert.equal(seen.status, 504)
    assert.ok(seen.ms >= 900 && seen.ms < 2000, `answered after ${seen.ms} ms`)
    assert.equal(target.requests[0]?.headers['x-prometheus-scrape-timeout-seconds'], '1')
    assert.equal((await closes.next()).finished, false, 'the upstream request is dropped at the deadline')
  })

  test('an https target that never finishes the TLS handshake is a 504 at the deadline, not at the connect timeout', async (t) => {
    // Accepts the connection and never answers the ClientHello: the request
    // waits for a connection, which undici reports only at its own 10 s
    // connect timeout; the probe's deadline must not wait for that.
    const target = await startRawTarget(Buffer.alloc(0), { silent: true })
    const gw = await setup(t, ANY_JOB('tls', 'scheme: https\nscrape_timeout: 1s\ntls_config: {insecure_skip_verify: true}'), target)
    const seen = await get(probeUrl(gw, 'tls', target.host))
    assert.equal(seen.body.toString(), errorLine('SG_UPSTREAM_TIMEOUT', 'scrape timed out after 1s (waiting for the response)', 'tls', target.host))
    assert.equal(seen.status, 504)
    assert.ok(seen.ms >= 900 && seen.ms < 2000, `answered after ${seen.ms} ms`)
  })

  test("the caller's X-Prometheus-Scrape-Timeout-Seconds minus the offset lowers the deadline", async (t) => {
    const target = await startHttpTarget(() => {})
    const gw = await setup(t, ANY_JOB('slow', 'scrape_timeout: 10s'), target)
    const seen = await get(probeUrl(gw, 'slow', target.host), { 'X-Prometheus-Scrape-Timeout-Seconds': '1.5' })
    assert.equal(seen.body.toString(), errorLine('SG_UPSTREAM_TIMEOUT', 'scrape timed out after 1s (waiting for the response)', 'slow', target.host))
    assert.equal(seen.status, 504)
    assert.ok(seen.ms >= 900 && seen.ms < 2000, `answered after ${seen.ms} ms`)
    // The effective deadline is what the target is told.
    assert.equal(target.requests[0]?.headers['x-prometheus-scrape-timeout-seconds'], '1')
  })

  test('an unparsable timeout header is a 400 SG_BAD_TIMEOUT_HEADER and no scrape', async (t) => {
    const target = await startHttpTarget(metricsHandler('up 1\n'))
    const gw = await setup(t, ANY_JOB('slow', 'scrape_timeout: 10s'), target)
    const seen = await get(probeUrl(gw, 'slow', target.host), { 'X-Prometheus-Scrape-Timeout-Seconds': 'abc' })
    assert.equal(seen.body.toString(), errorLine('SG_BAD_TIMEOUT_HEADER',
      'Failed to parse timeout from Prometheus header: strconv.ParseFloat: parsing "abc": invalid syntax', 'slow', target.host))
    assert.equal(seen.status, 400)
    assert.equal(target.requests.length, 0)
  })

  test('a head with no body byte by the deadline is still a 504: the reply had not started', async (t) => {
    const target = await startHttpTarget((_req, res) => {
      res.writeHead(200, { 'content-type': TEXT, 'content-length': 100 })
      res.flushHeaders()
    })
    const gw = await setup(t, ANY_JOB('slow', 'scrape_timeout: 1s'), target)
    const seen = await get(probeUrl(gw, 'slow', target.host))
    assert.equal(seen.body.toString(), errorLine('SG_UPSTREAM_TIMEOUT', 'scrape timed out after 1s (reading the body)', 'slow', target.host))
    assert.equal(seen.status, 504)
    assert.equal(seen.headers['content-type'], 'text/plain; charset=utf-8', "the target's Content-Type is not left on the error reply")
  })

  test('a body that stalls past the deadline is cut, not ended', async (t) => {
    const closes = watchCloses()
    const target = await startHttpTarget(closes.handler((_req, res) => {
      res.writeHead(200, { 'content-type': TEXT, 'content-length': 10_000 })
      res.write('a'.repeat(3000))
    }))
    const gw = await setup(t, ANY_JOB('slow', 'scrape_timeout: 1s'), target)
    const seen = await get(probeUrl(gw, 'slow', target.host))
    assertCut(seen)
    assert.equal(seen.body.toString(), 'a'.repeat(3000))
    assert.ok(seen.ms >= 900 && seen.ms < 2000, `cut after ${seen.ms} ms`)
    assert.equal((await closes.next()).finished, false)
  })

  test('the deadline covers the whole body, not only idle gaps: a steady trickle is cut too', async (t) => {
    const target = await startHttpTarget(trickle(Buffer.from('a'.repeat(1_000_000)), 100, 50))
    const gw = await setup(t, ANY_JOB('slow', 'scrape_timeout: 1s'), target)
    const seen = await get(probeUrl(gw, 'slow', target.host))
    assertCut(seen)
    assert.ok(seen.ms >= 900 && seen.ms < 2000, `cut after ${seen.ms} ms`)
  })
})

describe('connect and status failures', () => {
  test('a refused port is a 502 SG_UPSTREAM_CONNECT naming ECONNREFUSED', async (t) => {
    const target = `127.0.0.1:${await refusedPort()}`
    const gw = await setup(t, ANY_JOB('gone'))
    const reason = assertCoded(await get(probeUrl(gw, 'gone', target)), 502, 'SG_UPSTREAM_CONNECT', 'gone', target)
    assert.match(reason, /ECONNREFUSED/)
  })

  for (const [status, text] of [[404, 'Not Found'], [401, 'Unauthorized'], [500, 'Internal Server Error']] as const) {
    test(`an upstream ${status} is a 502 SG_UPSTREAM_STATUS naming it`, async (t) => {
      const target = await startHttpTarget(metricsHandler(`${text}\n`, { status }))
      const gw = await setup(t, ANY_JOB('st'), target)
      const seen = await get(probeUrl(gw, 'st', target.host))
      assert.equal(seen.body.toString(), errorLine('SG_UPSTREAM_STATUS', `upstream returned ${status} ${text}`, 'st', target.host))
      assert.equal(seen.status, 502)
      assert.equal(seen.headers['content-type'], 'text/plain; charset=utf-8', "the upstream's Content-Type is not relayed on failure")
    })
  }

  test('the body of a non-200 that never comes is not waited for past the deadline', async (t) => {
    // Prometheus drains the error body under the scrape's context; an unbounded
    // drain would hold a connection to the target for as long as it likes.
    const closes = watchCloses()
    const target = await startHttpTarget(closes.handler((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain', 'content-length': 100 })
      res.flushHeaders()
    }))
    const gw = await setup(t, ANY_JOB('st', 'scrape_timeout: 1s'), target)
    const seen = await get(probeUrl(gw, 'st', target.host))
    assert.equal(seen.body.toString(), errorLine('SG_UPSTREAM_STATUS', 'upstream returned 500 Internal Server Error', 'st', target.host))
    assert.ok(seen.ms < 900, `the status is reported at once, not after the drain (${seen.ms} ms)`)
    assert.equal((await closes.next(2500)).finished, false, 'the gateway gives up on the body by the deadline')
  })

  test("an upstream status keeps the target's own reason phrase, as Go's resp.Status does", async (t) => {
    const target = await startHttpTarget((_req, res) => {
      res.writeHead(503, 'Warming Up', { 'content-type': 'text/plain' })
      res.end('later\n')
    })
    const gw = await setup(t, ANY_JOB('st'), target)
    const seen = await get(probeUrl(gw, 'st', target.host))
    assert.equal(seen.body.toString(), errorLine('SG_UPSTREAM_STATUS', 'upstream returned 503 Warming Up', 'st', target.host))
  })
})

describe('upstream closing mid-body', () => {
  const cases: Array<[string, http.OutgoingHttpHeaders]> = [
    ['Content-Length', { 'content-type': TEXT, 'content-length': 10_000 }],
    ['chunked', { 'content-type': TEXT }],
  ]
  for (const [framing, head] of cases) {
    test(`a ${framing} body cut after 3000 bytes cuts the caller's connection`, async (t) => {
      const dies = dieMidBody(head, Buffer.from('a'.repeat(3000)))
      const target = await startHttpTarget(dies.handler)
      const gw = await setup(t, ANY_JOB('cut'), target)
      const seen = await get(probeUrl(gw, 'cut', target.host), {}, dies.cut)
      assertCut(seen)
      assert.ok(seen.body.length <= 3000)
    })
  }

  test('the same cut arriving with the head (no pause) cuts the caller\'s connection too', async (t) => {
    // TCP delivers the 3000 bytes before the close, and the first of them
    // starts the reply: the close can only come after the first byte.
    const target = await startHttpTarget(dieMidBody({ 'content-type': TEXT, 'content-length': 10_000 }, Buffer.from('a'.repeat(3000)), true).handler)
    const gw = await setup(t, ANY_JOB('cut'), target)
    const seen = await get(probeUrl(gw, 'cut', target.host))
    assertCut(seen)
    assert.ok(seen.body.length > 0 && seen.body.length <= 3000, `${seen.body.length} bytes`)
  })
})

describe('a caller that leaves', () => {
  test('mid-body: the upstream request is aborted', async (t) => {
    const closes = watchCloses()
    const target = await startHttpTarget(closes.handler(trickle(Buffer.from('a'.repeat(10_000_000)), 1000, 50)))
    const gw = await setup(t, ANY_JOB('bye'), target)
    await new Promise<void>((resolve, reject) => {
      const req = http.get(probeUrl(gw, 'bye', target.host), { agent: false }, (res) => {
        res.once('data', () => { req.destroy(); resolve() })
      })
      req.on('error', (err) => { if (!req.destroyed) reject(err) })
    })
    const closed = await closes.next()
    assert.equal(closed.finished, false, 'the target was cut off, not read to the end')
    await eventually(async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text()
      assert.equal(metricValue(text, 'scrape_gateway_probes_total', { job: 'bye', result: 'canceled' }), 1)
      assert.equal(metricValue(text, 'scrape_gateway_probes_in_flight', {}), 0)
    })
  })

  test('before the response head: the upstream request is aborted', async (t) => {
    const closes = watchCloses()
    const target = await startHttpTarget(closes.handler(() => {}))
    const gw = await setup(t, ANY_JOB('bye', 'scrape_timeout: 10s'), target)
    const req = http.get(probeUrl(gw, 'bye', target.host), { agent: false })
    req.on('error', () => {})
    await eventually(async () => { assert.equal(target.requests.length, 1) })
    req.destroy()
    const closed = await closes.next()
    assert.equal(closed.finished, false)
    await eventually(async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text()
      assert.equal(metricValue(text, 'scrape_gateway_probes_total', { job: 'bye', result: 'canceled' }), 1)
    })
  })
})

describe('empty bodies and Content-Type', () => {
  test('an empty 200 is an empty 200', async (t) => {
    const target = await startHttpTarget(metricsHandler(''))
    const gw = await setup(t, ANY_JOB('e'), target)
    const seen = await get(probeUrl(gw, 'e', target.host))
    assert.equal(seen.status, 200)
    assert.equal(seen.complete, true)
    assert.equal(seen.body.length, 0)
    assert.equal(seen.headers['content-type'], TEXT)
  })

  test('no Content-Type upstream: none relayed (Prometheus relies on the blank type staying blank)', async (t) => {
    const target = await startHttpTarget((_req, res) => { res.end('up 1\n') })
    const gw = await setup(t, ANY_JOB('e'), target)
    const seen = await get(probeUrl(gw, 'e', target.host))
    assert.equal(seen.status, 200)
    assert.equal(seen.body.toString(), 'up 1\n')
    assert.equal(seen.headers['content-type'], undefined)
  })

  test('an empty Content-Type upstream stays blank', async (t) => {
    const target = await startHttpTarget((_req, res) => {
      res.setHeader('content-type', '')
      res.end('up 1\n')
    })
    const gw = await setup(t, ANY_JOB('e'), target)
    const seen = await get(probeUrl(gw, 'e', target.host))
    assert.equal(seen.status, 200)
    assert.equal(seen.headers['content-type'], '', 'relayed verbatim: present and empty')
  })
})

describe('probe metrics', () => {
  test('probes are counted by result, and decoded body bytes are counted', async (t) => {
    const plain = exposition(50)
    const zipped = exposition(300)
    const ok = await startHttpTarget(metricsHandler(plain))
    const gz = await startHttpTarget(metricsHandler(zipped, { gzip: true }))
    const missing = await startHttpTarget(metricsHandler('nope\n', { status: 404 }))
    const cut = dieMidBody({ 'content-type': TEXT }, Buffer.from('a'.repeat(3000)))
    const dies = await startHttpTarget(cut.handler)
    const gw = await setup(t, ANY_JOB('m'), ok, gz, missing, dies)

    assert.equal((await get(probeUrl(gw, 'm', ok.host))).status, 200)
    assert.equal((await get(probeUrl(gw, 'm', gz.host))).status, 200)
    assert.equal((await get(probeUrl(gw, 'm', missing.host))).status, 502)
    assert.equal((await get(probeUrl(gw, 'm', missing.host))).status, 502)
    // A cut the target caused is its error, not a caller cancellation, though the caller's connection closes too.
    for (let i = 0; i < 3; i++) assertCut(await get(probeUrl(gw, 'm', dies.host), {}, cut.cut))

    await eventually(async () => {
      const res = await fetch(`${gw.url}/metrics`)
      assert.equal(res.status, 200)
      const text = await res.text()
      assert.equal(metricValue(text, 'scrape_gateway_probes_total', { job: 'm', result: 'success' }), 2)
      assert.equal(metricValue(text, 'scrape_gateway_probes_total', { job: 'm', result: 'SG_UPSTREAM_STATUS' }), 2)
      assert.equal(metricValue(text, 'scrape_gateway_probes_total', { job: 'm', result: 'SG_UPSTREAM_BODY' }), 3)
      assert.equal(metricValue(text, 'scrape_gateway_probes_total', { job: 'm', result: 'canceled' }), 0)
      // Decoded bytes: the gzip target counts its inflated size; each cut body its 3000 bytes.
      assert.equal(metricValue(text, 'scrape_gateway_probe_body_bytes_total', { job: 'm' }),
        Buffer.byteLength(plain) + Buffer.byteLength(zipped) + 3 * 3000)
      assert.equal(metricValue(text, 'scrape_gateway_probe_duration_seconds_count', { job: 'm' }), 7)
      assert.equal(metricValue(text, 'scrape_gateway_probes_in_flight', {}), 0)
    })
  })
})

// A slow caller holds the target back: the gateway pauses the upstream
// response instead of buffering it, and a response that ends with its
// connection while paused (HTTP/1.0, Connection: close, a close-delimited
// body) is relayed whole instead of crashing the process (undici 7's paused
// parser at EOF, see src/client/response-flow.ts). Real sockets on 127.0.0.1.
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import zlib from 'node:zlib'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { get } from './helpers/client.js'
import { createCa } from './helpers/pki.js'
import { startHttp2Target } from './helpers/targets.js'

const MB = 1024 * 1024

function job (name: string): string {
  return `scrape_configs:\n  - job_name: ${name}\n    allowed_targets: ['127.0.0.1:*']\n`
}

/** A target that answers any request with `head` + `body`, then closes the connection. */
async function closingTarget (t: TestContext, head: string, body: Buffer): Promise<string> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', () => {
      socket.write(head)
      socket.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { server.close(() => resolve()) }))
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

/**
 * GET over a raw socket that reads nothing for `stallMs`, so the gateway's
 * writes back up while the target finishes and closes; then reads it all.
 */
async function slowGet (url: string, stallMs: number, headers: Record<string, string> = {}): Promise<{ head: string, body: Buffer, complete: boolean }> {
  const { hostname, port, pathname, search } = new URL(url)
  const socket = net.connect(Number(port), hostname)
  socket.pause()
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  socket.write(`GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n${extra}\r\n`)
  await new Promise((resolve) => setTimeout(resolve, stallMs))
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.resume()
  await new Promise<void>((resolve) => { socket.on('close', () => resolve()) })
  const raw = Buffer.concat(chunks)
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.subarray(0, split).toString()
  const length = /content-length: (\d+)/i.exec(head)
  const rest = raw.subarray(split + 4)
  const body = length !== null ? rest : dechunk(rest)
  return { head, body, complete: length !== null ? rest.length === Number(length[1]) : body.length >= 0 && rest.subarray(-5).toString() === '0\r\n\r\n' }
}

function dechunk (raw: Buffer): Buffer {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = raw.indexOf('\r\n', at)
    if (eol < 0) break
    const size = parseInt(raw.subarray(at, eol).toString(), 16)
    if (!(size > 0)) break
    out.push(raw.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(out)
}

async function stillServes (gw: Gateway): Promise<void> {
  const seen = await get(`${gw.url}/-/healthy`)
  assert.equal(seen.status, 200)
}

describe('a slow caller', () => {
  const body = Buffer.alloc(4 * MB, 'metric_total 1\n')
  const cases: Array<[string, string]> = [
    ['HTTP/1.0 with Content-Length', `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`],
    ['HTTP/1.1 with Connection: close', `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`],
    ['a close-delimited body', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n'],
  ]
  for (const [name, head] of cases) {
    test(`gets the whole body of a response that ends with its connection: ${name}`, async (t) => {
      const target = await closingTarget(t, head, body)
      const gw = await startGateway(job('closing'), { logLevel: false })
      t.after(() => gw.close())
      const seen = await slowGet(`${gw.url}/probe?job=closing&target=${target}`, 400)
      assert.match(seen.head, /^HTTP\/1\.1 200 /)
      assert.equal(seen.complete, true)
      assert.equal(seen.body.length, body.length)
      assert.ok(seen.body.equals(body), 'the body is relayed byte for byte')
      await stillServes(gw)
    })
  }

  test('gets a gzip body decoded whole when the target closes (HTTP/1.0, caller without gzip)', async (t) => {
    const gz = zlib.gzipSync(body)
    const head = `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`
    const target = await closingTarget(t, head, gz)
    const gw = await startGateway(job('closing'), { logLevel: false })
    t.after(() => gw.close())
    const seen = await slowGet(`${gw.url}/probe?job=closing&target=${target}`, 400)
    assert.match(seen.head, /^HTTP\/1\.1 200 /)
    assert.doesNotMatch(seen.head, /content-encoding/i)
    assert.equal(seen.complete, true)
    assert.ok(seen.body.equals(body), 'the decoded body is whole')
    await stillServes(gw)
  })

  test('holds the target back instead of buffering its body', async (t) => {
    // 64 MiB, far more than the kernel's socket buffers on both legs can hold.
    const chunk = Buffer.alloc(MB, 'metric_total 1\n')
    const total = 64
    let flushed = 0
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(total * MB) })
      let sent = 0
      const more = (): void => {
        while (sent < total) {
          sent++
          if (!res.write(chunk, () => { flushed++ })) {
            res.once('drain', more)
            return
          }
        }
        res.end()
      }
      more()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
    const target = `127.0.0.1:${(server.address() as AddressInfo).port}`
    const gw = await startGateway(job('big'), { logLevel: false })
    t.after(() => gw.close())

    const rssBefore = process.memoryUsage().rss
    let flushedWhileStalled = -1
    let rssWhileStalled = 0
    const stalled = slowGet(`${gw.url}/probe?job=big&target=${target}`, 1500)
    setTimeout(() => {
      flushedWhileStalled = flushed
      rssWhileStalled = process.memoryUsage().rss
    }, 1400)
    const seen = await stalled
    assert.equal(seen.complete, true)
    assert.equal(seen.body.length, total * MB)
    // What the target could hand off while the caller read nothing: the
    // socket buffers of both legs, not the body.
    assert.ok(flushedWhileStalled >= 0 && flushedWhileStalled < total / 2, `the target flushed ${flushedWhileStalled} MiB of ${total} while the caller read nothing`)
    assert.ok(rssWhileStalled - rssBefore < (total / 2) * MB, `RSS grew by ${((rssWhileStalled - rssBefore) / MB).toFixed(1)} MiB`)
  })

  test('over HTTP/2, slow callers pause their streams and get whole bodies, without warnings', async (t) => {
    const ca = createCa('backpressure h2 CA')
    // More than the kernel buffers for each caller, so that every relay pauses.
    const big = Buffer.alloc(16 * MB, 'metric_total 1\n')
    const target = await startHttp2Target(ca.issue({ cn: 'h2 target' }), (_req, res) => {
      res.setHeader('content-type', 'text/plain')
      res.end(big)
    })
    t.after(() => target.close())
    const gw = await startGateway(`scrape_configs:\n  - job_name: h2\n    scheme: https\n    tls_config: { ca_file: ${ca.certFile} }\n    allowed_targets: ['127.0.0.1:*']\n`, { logLevel: false })
    t.after(() => gw.close())
    const warnings: string[] = []
    const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
    process.on('warning', onWarning)
    t.after(() => { process.off('warning', onWarning) })

    // Warm up: the session (or sessions) the slow ones use.
    assert.equal((await get(`${gw.url}/probe?job=h2&target=${target.host}`)).status, 200)
    const seen = await Promise.all(Array.from({ length: 8 }, () => slowGet(`${gw.url}/probe?job=h2&target=${target.host}`, 500)))
    for (const s of seen) {
      assert.match(s.head, /^HTTP\/1\.1 200 /)
      assert.ok(s.body.equals(big), 'the body is relayed byte for byte')
    }
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(warnings, [])
  })
})

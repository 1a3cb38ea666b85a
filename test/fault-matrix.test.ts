// Hostile inputs, case by case: a raw-socket target of the test's own writes
// exactly the bytes each case needs (a body cut short in every framing, 1xx
// before the 200, every kind of malformed response; over TCP or TLS, kept
// alive, through a CONNECT tunnel, or playing a forward proxy), and raw-socket callers
// speaking HTTP/1.0 and HTTP/1.1 show how the gateway's reply ended. An
// HTTP/1.0 reply has no end marker, so a FIN there would pass a cut body for
// a complete one: after any failure past the first byte every caller gets a
// TCP reset (ECONNRESET), an HTTP/1.1 caller before the last chunk or the
// Content-Length as well.
// Each case also checks that /-/healthy answered within 100 ms while it ran,
// and the requests the gateway cannot parse answer in its one-line format.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import tls from 'node:tls'
import zlib from 'node:zlib'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { exposition } from './helpers/targets.js'
import { eventually } from './helpers/eventually.js'
import { startForwardProxy, type ForwardProxy } from './helpers/forward-proxy.js'
import { createCa } from './helpers/pki.js'

const TEXT = 'text/plain; version=0.0.4; charset=utf-8'

// --- the hostile target ---

/**
 * What the target does with one request: `first` at once; `then` one piece
 * at a time, 20 ms apart (separate reads at the gateway in practice); then
 * the end: `rest` (or a FIN when undefined) once the test calls cut(), or a
 * FIN at once, or, on a keep-alive target, nothing.
 */
interface Script {
  first: Buffer
  then?: Buffer[]
  /** false: end right after `first` and `then` (the whole response is in them). */
  hold: boolean
  rest?: Buffer
}

interface HostileOptions {
  /** Speak TLS (HTTP/1.1 by ALPN) with this certificate. */
  tls?: { cert: string, key: string }
  /** Answer every request on a connection, and never end one. */
  keepAlive?: boolean
}

interface Hostile {
  host: string
  /** The script for the next request. */
  next (script: Script): void
  /** Sends the held part (or a FIN) on every held connection. */
  cut (): void
  /** Connections accepted so far. */
  connections (): number
  /** The request line of every request so far. */
  readonly requestLines: string[]
  close (): Promise<void>
}

const pause = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function startHostile (opts: HostileOptions = {}): Promise<Hostile> {
  let script: Script = { first: Buffer.alloc(0), hold: false }
  const held: Array<{ socket: net.Socket, rest: Buffer | undefined }> = []
  const sockets = new Set<net.Socket>()
  const requestLines: string[] = []
  let accepted = 0
  const play = async (socket: net.Socket, mine: Script): Promise<void> => {
    // A little later than at once, so the health check runs beside the case.
    await pause(20)
    const pieces = [mine.first, ...(mine.then ?? [])]
    for (const [i, piece] of pieces.entries()) {
      if (i > 0) await pause(20)
      if (i === pieces.length - 1 && !mine.hold && opts.keepAlive !== true) socket.end(piece)
      else socket.write(piece)
    }
    if (mine.hold) held.push({ socket, rest: mine.rest })
  }
  const serve = (socket: net.Socket): void => {
    accepted++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let pending = ''
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1')
      for (let at = pending.indexOf('\r\n\r\n'); at !== -1; at = pending.indexOf('\r\n\r\n')) {
        requestLines.push(pending.slice(0, pending.indexOf('\r\n')))
        pending = pending.slice(at + 4)
        play(socket, script).catch(() => { socket.destroy() })
      }
    })
  }
  const server = opts.tls === undefined
    ? net.createServer(serve)
    : tls.createServer({ ...opts.tls, ALPNProtocols: ['http/1.1'] }, serve)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    host: `127.0.0.1:${port}`,
    next: (s) => { script = s },
    cut: () => {
      for (const { socket, rest } of held.splice(0)) {
        if (rest !== undefined) socket.end(rest)
        else socket.end()
      }
    },
    connections: () => accepted,
    requestLines,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

// --- the raw caller ---

interface Seen {
  status: number
  head: string
  headers: Record<string, string>
  /** The body as framed on the wire (chunked framing still in, for an HTTP/1.1 chunked reply). */
  raw: Buffer
  /** How the connection ended: 'fin' (a clean end) or the error the socket reported (ECONNRESET for a reset). */
  end: string
}

/**
 * GET `path` over a raw socket as an HTTP/`version` caller. `onQuiet` runs
 * once, when body bytes have arrived and then nothing for QUIET_MS: the
 * gateway has relayed all it could of what the target sent so far.
 */
async function rawGet (gw: Gateway, path: string, version: '1.0' | '1.1', headers: Record<string, string> = {}, onQuiet?: () => void): Promise<Seen> {
  const { port } = new URL(gw.url)
  const lines = [`GET ${path} HTTP/${version}`, 'Host: gateway', 'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  return rawRequest(Number(port), Buffer.from(lines.join('\r\n') + '\r\n\r\n'), onQuiet)
}

/**
 * Why the cut waits for a quiet caller: libuv reads a socket whose peer reset
 * it as a clean EOF when the reset arrives while bytes are still unread (a
 * short read with POLLHUP set ends the stream, uv__stream_io), so a node
 * caller tells a reset from a FIN only when it has read everything before the
 * reset. Go's and curl's readers get ECONNRESET either way.
 */
const QUIET_MS = 50

async function rawRequest (port: number, request: Buffer, onQuiet?: () => void): Promise<Seen> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let end = ''
    let quiet: NodeJS.Timeout | undefined
    let quietDone = false
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      if (onQuiet === undefined || quietDone) return
      clearTimeout(quiet)
      quiet = setTimeout(() => { quietDone = true; onQuiet() }, QUIET_MS)
    })
    socket.on('end', () => { end ||= 'fin' })
    socket.on('error', (err: NodeJS.ErrnoException) => { end ||= err.code ?? err.message })
    socket.on('close', () => {
      clearTimeout(quiet)
      const all = Buffer.concat(chunks)
      const at = all.indexOf('\r\n\r\n')
      const head = at < 0 ? all.toString('latin1') : all.subarray(0, at).toString('latin1')
      const [statusLine = '', ...rest] = head.split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of rest) {
        const i = line.indexOf(':')
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
      }
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), head, headers, raw: at < 0 ? Buffer.alloc(0) : all.subarray(at + 4), end })
    })
    socket.write(request)
  })
}

/** A chunked body without its framing; throws when the framing is not complete (no last chunk). */
function dechunk (raw: Buffer): Buffer {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = raw.indexOf('\r\n', at)
    if (eol < 0) throw new Error('chunked body cut inside a chunk header')
    const size = parseInt(raw.subarray(at, eol).toString(), 16)
    if (Number.isNaN(size)) throw new Error('bad chunk size')
    if (size === 0) return Buffer.concat(out)
    if (eol + 2 + size + 2 > raw.length) throw new Error('chunked body cut inside a chunk')
    out.push(raw.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}

/** The body the caller got, by the reply's own framing. */
function body (seen: Seen): Buffer {
  return seen.headers['transfer-encoding'] === 'chunked' ? dechunk(seen.raw) : seen.raw
}

// --- responses the target writes ---

function response (status: string, headers: Record<string, string | number>, payload: Buffer | string = ''): Buffer {
  const head = [`HTTP/1.1 ${status}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n') + '\r\n\r\n'
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(payload)])
}

function chunk (b: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')])
}

// --- the cases ---

let hostile: Hostile
/** Keep-alive: answers every request on a connection. */
let keepAlive: Hostile
/** TLS, keep-alive. */
let secure: Hostile
/** A CONNECT proxy in front of `secure`. */
let proxy: ForwardProxy
let gw: Gateway

/** A name only the (hostile) forward proxy sees: the gateway never resolves it. */
const FORWARDED = 'metrics.test:9100'

before(async () => {
  const ca = createCa()
  hostile = await startHostile()
  keepAlive = await startHostile({ keepAlive: true })
  secure = await startHostile({ tls: ca.issue({ cn: 'hostile' }), keepAlive: true })
  proxy = await startForwardProxy()
  gw = await startGateway(`
scrape_configs:
  - job_name: h
    static_configs:
      - targets: ['${hostile.host}']
  - job_name: keepalive
    static_configs:
      - targets: ['${keepAlive.host}']
  - job_name: tls
    scheme: https
    tls_config: { ca_file: '${ca.certFile}' }
    static_configs:
      - targets: ['${secure.host}']
  - job_name: tunnel
    scheme: https
    tls_config: { ca_file: '${ca.certFile}' }
    proxy_url: ${proxy.url}
    static_configs:
      - targets: ['${secure.host}']
  - job_name: forward
    proxy_url: http://${hostile.host}
    static_configs:
      - targets: ['${FORWARDED}']
`)
})

after(async () => {
  await gw.close()
  await Promise.all([hostile.close(), keepAlive.close(), secure.close(), proxy.close()])
})

const probePath = (job = 'h', target = hostile.host): string => `/probe?job=${job}&target=${encodeURIComponent(target)}`

/** Runs `run` while /-/healthy is asked; asserts the health check answered 200 within 100 ms. */
async function withHealthCheck<T> (run: () => Promise<T>): Promise<T> {
  const health = (async () => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    const started = performance.now()
    const res = await fetch(`${gw.url}/-/healthy`)
    await res.arrayBuffer()
    return { status: res.status, ms: performance.now() - started }
  })()
  const [result, h] = await Promise.all([run(), health])
  assert.equal(h.status, 200)
  assert.ok(h.ms < 100, `/-/healthy answered after ${h.ms.toFixed(1)} ms`)
  return result
}

/** The one-line error body of a probe failure (of job h, unless named), as the gateway words it. */
function assertProbeError (seen: Seen, status: number, code: string, job = 'h', target = hostile.host): string {
  const text = seen.raw.toString()
  assert.equal(seen.status, status, `status (body: ${JSON.stringify(text)})`)
  assert.equal(seen.headers['content-type'], 'text/plain; charset=utf-8')
  const tail = ` [job="${job}" target=${JSON.stringify(target)}]\n`
  assert.ok(text.startsWith(`${code}: `), `expected ${code}, got ${JSON.stringify(text)}`)
  assert.ok(text.endsWith(tail), `expected the job/target tail, got ${JSON.stringify(text)}`)
  assert.equal(text.split('\n').length, 2, 'one line')
  assert.equal(seen.end, 'fin', 'an error reply is complete and ends cleanly')
  return text.slice(code.length + 2, text.length - tail.length)
}

/** A metric's value by exact label text (`job="h",result="X"`). */
async function probes (result: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('scrape_gateway_probes_total{') && l.includes(`result="${result}"`) && l.includes('job="h"'))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

const CALLERS = ['1.0', '1.1'] as const
const TEXT_BODY = Buffer.from(exposition(2000))
const GZ_BODY = zlib.gzipSync(TEXT_BODY)

describe('a body cut short after the first byte: never a complete body (a reset to every caller; short framing to HTTP/1.1 too)', () => {
  const half = TEXT_BODY.subarray(0, 3000)
  const gzHalf = GZ_BODY.subarray(0, GZ_BODY.length >> 1)
  const cuts: Array<{ name: string, first: Buffer, acceptGzip: boolean, sent: Buffer }> = [
    {
      name: 'chunked',
      first: response('200 OK', { 'Content-Type': TEXT, 'Transfer-Encoding': 'chunked' }, chunk(half)),
      acceptGzip: false,
      sent: half,
    },
    {
      name: 'Content-Length',
      first: response('200 OK', { 'Content-Type': TEXT, 'Content-Length': TEXT_BODY.length }, half),
      acceptGzip: false,
      sent: half,
    },
    {
      name: 'gzip, decoded for the caller',
      first: response('200 OK', { 'Content-Type': TEXT, 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' }, chunk(gzHalf)),
      acceptGzip: false,
      sent: TEXT_BODY,
    },
    {
      name: 'gzip, passed through',
      first: response('200 OK', { 'Content-Type': TEXT, 'Content-Encoding': 'gzip', 'Content-Length': GZ_BODY.length }, gzHalf),
      acceptGzip: true,
      sent: gzHalf,
    },
  ]
  for (const c of cuts) {
    for (const version of CALLERS) {
      test(`${c.name} upstream cut short, HTTP/${version} caller`, async () => {
        hostile.next({ first: c.first, hold: true })
        const headers: Record<string, string> = c.acceptGzip ? { 'Accept-Encoding': 'gzip' } : {}
        const seen = await withHealthCheck(async () => rawGet(gw, probePath(), version, headers, () => { hostile.cut() }))
        assert.equal(seen.status, 200, 'the reply had started')
        // Every caller sees a reset: an HTTP/1.0 reply has no end marker, so a FIN would pass the cut
        // body for a complete one; an HTTP/1.1 reply also lacks its last chunk or its Content-Length.
        assert.equal(seen.end, 'ECONNRESET', 'a cut is a reset, not a FIN')
        if (version === '1.1') {
          assert.ok(seen.headers['transfer-encoding'] === 'chunked' || seen.headers['content-length'] !== undefined, 'an HTTP/1.1 reply has an end marker')
        }
        assert.ok(seen.raw.length > 0, 'body bytes were relayed before the cut')
        if (c.acceptGzip) {
          assert.equal(seen.headers['content-encoding'], 'gzip')
          assert.ok(c.sent.subarray(0, seen.raw.length).equals(seen.raw), 'what arrived is the start of the gzip stream')
        } else {
          assert.equal(seen.headers['content-encoding'], undefined)
        }
        if (version === '1.1' && seen.headers['transfer-encoding'] === 'chunked') {
          assert.throws(() => dechunk(seen.raw), 'no last chunk')
        }
        if (seen.headers['content-length'] !== undefined) {
          assert.ok(seen.raw.length < Number(seen.headers['content-length']))
        }
      })
    }
  }

  test('a malformed chunk after the first byte: a reset, and the probe is counted as SG_UPSTREAM_PROTOCOL', async () => {
    const before = await probes('SG_UPSTREAM_PROTOCOL')
    hostile.next({
      first: response('200 OK', { 'Content-Type': TEXT, 'Transfer-Encoding': 'chunked' }, chunk(half)),
      hold: true,
      rest: Buffer.from('zz\r\nnot a chunk\r\n'),
    })
    const seen = await withHealthCheck(async () => rawGet(gw, probePath(), '1.0', {}, () => { hostile.cut() }))
    assert.equal(seen.status, 200)
    assert.equal(seen.end, 'ECONNRESET')
    await eventually(async () => { assert.equal(await probes('SG_UPSTREAM_PROTOCOL'), before + 1) })
  })
})

describe('complete bodies end cleanly', () => {
  for (const version of CALLERS) {
    test(`a complete chunked body to an HTTP/${version} caller ends with a FIN`, async () => {
      hostile.next({ first: response('200 OK', { 'Content-Type': TEXT, 'Transfer-Encoding': 'chunked' }, Buffer.concat([chunk(TEXT_BODY), Buffer.from('0\r\n\r\n')])), hold: false })
      const seen = await withHealthCheck(async () => rawGet(gw, probePath(), version))
      assert.equal(seen.status, 200)
      assert.equal(seen.end, 'fin')
      assert.ok(body(seen).equals(TEXT_BODY))
    })
  }
})

describe('interim responses before the 200', () => {
  const final = response('200 OK', { 'Content-Type': TEXT, 'Content-Length': TEXT_BODY.length }, TEXT_BODY)

  for (const version of CALLERS) {
    test(`103 Early Hints is skipped: the 200 is relayed, body intact (HTTP/${version} caller)`, async () => {
      hostile.next({ first: Buffer.concat([response('103 Early Hints', { Link: '</style.css>; rel=preload; as=style' }), final]), hold: false })
      const seen = await withHealthCheck(async () => rawGet(gw, probePath(), version))
      assert.equal(seen.status, 200)
      assert.equal(seen.end, 'fin')
      assert.equal(seen.headers['content-type'], TEXT)
      assert.equal(seen.headers.link, undefined, "the interim response's headers are not relayed")
      assert.ok(body(seen).equals(TEXT_BODY))
    })
  }

  // undici 7 destroys the connection on any 100 (client-h1.js onHeadersComplete:
  // it sent no Expect); the gateway's connections drop a 100 head before
  // undici reads it (src/client/interim-filter.ts), as Go's client skips one.
  const CONTINUE = response('100 Continue', { 'X-Interim': 'yes' })

  /** A 200 relayed whole, and nothing of the interim responses: one status line, none of their headers. */
  function assertFinal (seen: Seen): void {
    assert.equal(seen.status, 200, seen.head)
    assert.equal(seen.end, 'fin')
    assert.equal(seen.head.match(/^HTTP\/1\.[01] /gm)?.length, 1, 'one status line')
    assert.equal(seen.headers['x-interim'], undefined, "the interim response's headers are not relayed")
    assert.equal(seen.headers['content-type'], TEXT)
    assert.ok(body(seen).equals(TEXT_BODY))
  }

  for (const version of CALLERS) {
    test(`100 Continue is skipped: the 200 is relayed, body intact (HTTP/${version} caller)`, async () => {
      hostile.next({ first: Buffer.concat([CONTINUE, final]), hold: false })
      assertFinal(await withHealthCheck(async () => rawGet(gw, probePath(), version)))
    })
  }

  test('a 100 split across reads, then the 200 in pieces: skipped', async () => {
    hostile.next({ first: CONTINUE.subarray(0, 11), then: [CONTINUE.subarray(11), final.subarray(0, 30), final.subarray(30)], hold: false })
    assertFinal(await withHealthCheck(async () => rawGet(gw, probePath(), '1.1')))
  })

  test('two 100s with a 103 between them: all skipped', async () => {
    const hints = response('103 Early Hints', { Link: '</style.css>; rel=preload; as=style' })
    hostile.next({ first: CONTINUE, then: [Buffer.concat([hints, CONTINUE]), final], hold: false })
    const seen = await withHealthCheck(async () => rawGet(gw, probePath(), '1.0'))
    assertFinal(seen)
    assert.equal(seen.headers.link, undefined)
  })

  test('a 100 and then the connection closing: the target closed before it answered, 502 SG_UPSTREAM_CONNECT', async () => {
    hostile.next({ first: CONTINUE, hold: false })
    const seen = await withHealthCheck(async () => rawGet(gw, probePath(), '1.1'))
    assert.equal(assertProbeError(seen, 502, 'SG_UPSTREAM_CONNECT'), 'other side closed (UND_ERR_SOCKET)')
  })

  for (const status of ['1000 Continue', '100x Continue']) {
    test(`HTTP/1.1 ${status} is no 100: undici's parser refuses it, 502 SG_UPSTREAM_PROTOCOL`, async () => {
      hostile.next({ first: Buffer.concat([response(status, {}), final]), hold: false })
      const seen = await withHealthCheck(async () => rawGet(gw, probePath(), '1.1'))
      assert.equal(assertProbeError(seen, 502, 'SG_UPSTREAM_PROTOCOL'),
        'malformed response: Response does not match the HTTP/1.1 protocol (Invalid response status)')
    })
  }

  test('101 Switching Protocols is not skipped: undici refuses the upgrade nobody asked for, 502 SG_UPSTREAM_PROTOCOL', async () => {
    hostile.next({ first: Buffer.concat([response('101 Switching Protocols', { Upgrade: 'h2c', Connection: 'Upgrade' }), final]), hold: false })
    const seen = await withHealthCheck(async () => rawGet(gw, probePath(), '1.1'))
    assert.equal(assertProbeError(seen, 502, 'SG_UPSTREAM_PROTOCOL'), 'malformed response: bad upgrade (UND_ERR_SOCKET)')
  })

  test('100s past the first 16 KiB of a response reach undici, which refuses them: 502 SG_UPSTREAM_PROTOCOL', async () => {
    const padded = response('100 Continue', { 'X-Pad': 'a'.repeat(1000) })
    hostile.next({ first: Buffer.concat([...Array.from({ length: 20 }, () => padded), final]), hold: false })
    const seen = await withHealthCheck(async () => rawGet(gw, probePath(), '1.1'))
    assert.equal(assertProbeError(seen, 502, 'SG_UPSTREAM_PROTOCOL'), 'malformed response: bad response (UND_ERR_SOCKET)')
  })

  test('keep-alive: a second probe on the same connection has its 100 skipped too', async () => {
    const before = keepAlive.connections()
    for (const version of CALLERS) {
      keepAlive.next({ first: CONTINUE, then: [final], hold: false })
      assertFinal(await withHealthCheck(async () => rawGet(gw, probePath('keepalive', keepAlive.host), version)))
    }
    assert.equal(keepAlive.connections(), before + 1, 'both probes on one connection')
  })

  test('a TLS target: the 100 is skipped, on a new connection and on the reused one', async () => {
    const before = secure.connections()
    for (const version of CALLERS) {
      secure.next({ first: CONTINUE.subarray(0, 7), then: [Buffer.concat([CONTINUE.subarray(7), final])], hold: false })
      assertFinal(await withHealthCheck(async () => rawGet(gw, probePath('tls', secure.host), version)))
    }
    assert.equal(secure.connections(), before + 1)
  })

  test('a TLS target through a CONNECT tunnel: the 100 is skipped inside the tunnel', async () => {
    const connects = proxy.connects.length
    secure.next({ first: Buffer.concat([CONTINUE, final]), hold: false })
    assertFinal(await withHealthCheck(async () => rawGet(gw, probePath('tunnel', secure.host), '1.1')))
    assert.equal(proxy.connects.length, connects + 1, 'the probe went through the tunnel')
  })

  test('a 100 relayed by a forward proxy is skipped on the connection to the proxy', async () => {
    // The hostile target plays the proxy: it answers the forwarded request itself.
    const requests = hostile.requestLines.length
    hostile.next({ first: CONTINUE, then: [final], hold: false })
    assertFinal(await withHealthCheck(async () => rawGet(gw, probePath('forward', FORWARDED), '1.1')))
    assert.deepEqual(hostile.requestLines.slice(requests), [`GET http://${FORWARDED}/metrics HTTP/1.1`], 'forwarded with an absolute URI')
  })
})

describe('malformed responses before the first byte: 502 SG_UPSTREAM_PROTOCOL', () => {
  const malformed: Array<{ name: string, bytes: Buffer, words: RegExp }> = [
    {
      name: 'a bad character in a header name',
      bytes: Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${TEXT}\r\nX-Bad\u0001Name: v\r\nContent-Length: 5\r\n\r\nup 1\n`, 'latin1'),
      words: /Invalid header token/,
    },
    {
      name: 'a bad character in a header value',
      bytes: Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${TEXT}\r\nX-Bad: a\u0000b\r\nContent-Length: 5\r\n\r\nup 1\n`, 'latin1'),
      words: /Invalid header value char/,
    },
    {
      name: 'headers over 16 KiB',
      bytes: response('200 OK', { 'Content-Type': TEXT, 'X-Big': 'a'.repeat(20_000), 'Content-Length': 5 }, 'up 1\n'),
      words: /UND_ERR_HEADERS_OVERFLOW/,
    },
    {
      name: 'a chunk size that is not hex',
      bytes: response('200 OK', { 'Content-Type': TEXT, 'Transfer-Encoding': 'chunked' }, 'zz\r\nup 1\n\r\n0\r\n\r\n'),
      words: /Invalid character in chunk size/,
    },
    {
      name: 'two Content-Lengths that disagree',
      bytes: Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${TEXT}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nup 1\n`),
      // llhttp refuses the second one; undici words every parser error after a Content-Length as a length mismatch.
      words: /UND_ERR_RES_CONTENT_LENGTH_MISMATCH/,
    },
    {
      name: 'an invalid status line',
      bytes: Buffer.from(`HTTP/1.1 2x0 OK\r\nContent-Type: ${TEXT}\r\nContent-Length: 5\r\n\r\nup 1\n`),
      words: /Invalid status code/,
    },
    {
      name: 'not HTTP at all',
      bytes: Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'),
      words: /Expected HTTP\//,
    },
  ]
  for (const m of malformed) {
    test(m.name, async () => {
      hostile.next({ first: m.bytes, hold: false })
      const seen = await withHealthCheck(async () => rawGet(gw, probePath(), '1.1'))
      const reason = assertProbeError(seen, 502, 'SG_UPSTREAM_PROTOCOL')
      assert.match(reason, /^malformed response: /)
      assert.match(reason, m.words)
    })
  }
})

describe('requests the gateway cannot parse answer in its one-line format', () => {
  test('a 100 KB request header is a 431 SG_HEADERS_TOO_LARGE', async () => {
    const seen = await withHealthCheck(async () => rawGet(gw, '/-/healthy', '1.1', { 'X-Big': 'a'.repeat(100_000) }))
    assert.equal(seen.status, 431)
    assert.equal(seen.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(seen.raw.toString(), 'SG_HEADERS_TOO_LARGE: the request line and headers are larger than 16384 bytes\n')
    assert.equal(Number(seen.headers['content-length']), seen.raw.length)
  })

  test('a 100 KB URL is a 431 SG_HEADERS_TOO_LARGE too (node counts the request line with the headers)', async () => {
    const seen = await withHealthCheck(async () => rawGet(gw, `/probe?job=h&target=${'a'.repeat(100_000)}`, '1.1'))
    assert.equal(seen.status, 431)
    assert.match(seen.raw.toString(), /^SG_HEADERS_TOO_LARGE: [^\n]+\n$/)
  })

  test('a malformed request line is a 400 SG_BAD_REQUEST', async () => {
    const { port } = new URL(gw.url)
    const seen = await withHealthCheck(async () => rawRequest(Number(port), Buffer.from('G@T / HTTP/1.1\r\nHost: x\r\n\r\n')))
    assert.equal(seen.status, 400)
    assert.equal(seen.headers['content-type'], 'text/plain; charset=utf-8')
    assert.match(seen.raw.toString(), /^SG_BAD_REQUEST: bad request: [^\n]*HPE_INVALID_METHOD[^\n]*\n$/)
  })

  test('a path that is not valid percent-encoding is a 400 SG_BAD_REQUEST', async () => {
    const seen = await rawGet(gw, '/probe%zz?job=h', '1.1')
    assert.equal(seen.status, 400)
    assert.equal(seen.headers['content-type'], 'text/plain; charset=utf-8')
    assert.match(seen.raw.toString(), /^SG_BAD_REQUEST: bad request: [^\n]+\n$/)
  })
})

// The interim filter (src/client/interim-filter.ts) under undici's own
// HTTP/1 client, on real connections: a raw server of the test's writes each
// response in exact pieces, and writes the next piece only once the client's
// socket has given the previous one up (read() took it), so every split is
// a split between two reads. What undici's parser got is recorded from the
// socket's read() as the parser calls it: the bytes it saw, byte for byte.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import tls from 'node:tls'
import { buildConnector, Client } from 'undici'
import { INTERIM_LOOKAHEAD, skipContinue, skippingContinue } from '../src/client/interim-filter.js'
import { createCa, type Ca } from './helpers/pki.js'
import { refusedPort } from './helpers/targets.js'

/** One response: pieces written one read apart; then the connection stays open (keep-alive) or ends. */
interface Reply {
  pieces: Array<string | Buffer>
  end?: boolean
}

interface Rig {
  client: Client
  /** Every read() undici's parser made with no size, in order: what it got (null: nothing yet). */
  reads: Array<Buffer | null>
  /** The connections the server accepted. */
  connections: () => number
  /** Queues replies, one per request, in order. */
  reply: (...replies: Reply[]) => void
  close: () => Promise<void>
}

const bytes = (p: string | Buffer): Buffer => typeof p === 'string' ? Buffer.from(p, 'latin1') : p

/** What undici's parser was handed, all reads together. */
function handed (rig: Rig): string {
  return Buffer.concat(rig.reads.filter((r): r is Buffer => r !== null)).toString('latin1')
}

async function startRig (opts: { tls?: { cert: string, key: string, ca: string } } = {}): Promise<Rig> {
  const queue: Reply[] = []
  const sockets = new Set<Socket>()
  let accepted = 0
  /** Plain bytes the client's socket has given up to its reader (its stream's own read, below the filter). */
  let taken = 0
  const reads: Array<Buffer | null> = []

  const serve = (socket: Socket): void => {
    accepted++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let pending = ''
    let writing = Promise.resolve()
    let sent = 0
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1')
      for (let at = pending.indexOf('\r\n\r\n'); at !== -1; at = pending.indexOf('\r\n\r\n')) {
        pending = pending.slice(at + 4)
        const r = queue.shift()
        assert.ok(r !== undefined, 'a reply for every request')
        writing = writing.then(async () => {
          for (const piece of r.pieces) {
            const b = bytes(piece)
            socket.write(b)
            sent += b.length
            // The next piece only once this one left the client's stream.
            const written = sent
            const waiting = (): boolean => taken < written && !socket.destroyed
            while (waiting()) await new Promise((resolve) => setImmediate(resolve))
          }
          if (r.end === true) socket.end()
        })
      }
    })
  }
  const server = opts.tls === undefined
    ? net.createServer(serve)
    : tls.createServer({ cert: opts.tls.cert, key: opts.tls.key, ALPNProtocols: ['http/1.1'] }, serve)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  const connect = buildConnector(opts.tls === undefined ? {} : { ca: opts.tls.ca })
  const client = new Client(`${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`, {
    connect: (o, callback) => {
      connect(o, (err, socket) => {
        if (err !== null) {
          callback(err, null)
          return
        }
        // Below the filter: count what the stream gives up. Above it: record what undici gets.
        const own = socket.read
        socket.read = function (size?: number) {
          const c = own.call(this, size) as Buffer | null
          if (c !== null) taken += c.length
          return c
        }
        skipContinue(socket)
        const filtered = socket.read
        socket.read = function (size?: number) {
          const c = filtered.call(this, size) as Buffer | null
          if (size === undefined) reads.push(c)
          return c
        }
        callback(null, socket)
      })
    },
  })
  return {
    client,
    reads,
    connections: () => accepted,
    reply: (...r) => { queue.push(...r) },
    close: async () => {
      await client.destroy()
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

interface Got {
  status: number
  headers: Record<string, unknown>
  body: string
}

async function get (rig: Rig): Promise<Got> {
  const res = await rig.client.request({ path: '/metrics', method: 'GET' })
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() }
}

/** undici's failure, or a response where one was expected to fail. */
async function failure (rig: Rig): Promise<string> {
  try {
    const got = await get(rig)
    return `a ${got.status} response`
  } catch (err) {
    return (err as Error).message
  }
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n'
const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nup 1\n'

describe('the interim filter, under undici', () => {
  let rig: Rig
  before(async () => { rig = await startRig() })
  after(async () => { await rig.close() })

  /** Runs one request with `reply`; `rig.reads` then holds only its reads. */
  async function run (reply: Reply): Promise<Got> {
    rig.reads.length = 0
    rig.reply(reply)
    return get(rig)
  }

  test('a 100 and the final head in one read: the 100 is dropped, the rest handed over as it came', async () => {
    const got = await run({ pieces: [CONTINUE + OK] })
    assert.equal(got.status, 200)
    assert.equal(got.body, 'up 1\n')
    assert.equal(handed(rig), OK)
  })

  test('a 100 split across reads, then the final response: nothing is handed over until the 100 is whole', async () => {
    const got = await run({ pieces: ['HTTP/1.1 10', '0 Contin', 'ue\r\n', '\r\n', OK] })
    assert.equal(got.status, 200)
    assert.equal(handed(rig), OK)
    const beforeFinal = rig.reads.slice(0, rig.reads.findIndex((r) => r !== null))
    assert.ok(beforeFinal.length >= 4, `a read came back empty for each piece of the 100 (${rig.reads.length} reads)`)
  })

  test('two 100s, each in its own read, then the final head split from its body', async () => {
    const got = await run({ pieces: [CONTINUE, 'HTTP/1.0 100 Continue\r\nX-Why: because\r\n\r\n', OK.slice(0, 20), OK.slice(20)] })
    assert.equal(got.status, 200)
    assert.equal(got.body, 'up 1\n')
    assert.equal(handed(rig), OK)
  })

  test('a final status split inside its status line is handed over whole once it cannot be a 100', async () => {
    const got = await run({ pieces: ['HTT', 'P/1.1 2', OK.slice(10)] })
    assert.equal(got.status, 200)
    assert.equal(handed(rig), OK)
  })

  test('a 100 without a reason phrase, and with an empty one, is dropped', async () => {
    const got = await run({ pieces: ['HTTP/1.1 100\r\n\r\nHTTP/1.1 100 \r\n\r\n' + OK] })
    assert.equal(got.status, 200)
    assert.equal(handed(rig), OK)
  })

  test('103 Early Hints is handed to undici (which skips it) and a 100 after it is still dropped', async () => {
    const hints = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'
    const got = await run({ pieces: [hints + CONTINUE, hints, CONTINUE + OK] })
    assert.equal(got.status, 200)
    assert.equal(got.headers.link, undefined)
    assert.equal(handed(rig), hints + hints + OK)
  })

  test('a 103 in the same read as the start of a 100, and as the final head: each handed over with what follows it', async () => {
    const hints = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'
    const got = await run({ pieces: [hints + 'HTTP/1.1 10', '0 Continue\r\n\r\n', hints + OK] })
    assert.equal(got.status, 200)
    assert.equal(handed(rig), hints + hints + OK)
    assert.equal(rig.reads.find((r) => r !== null)?.toString('latin1'), hints, 'the 103 went on at once, the start of the 100 was held')
  })

  test('keep-alive: the next request on the same connection has its own 100 dropped', async () => {
    const connections = rig.connections()
    for (let i = 0; i < 3; i++) {
      const got = await run({ pieces: [CONTINUE, OK] })
      assert.equal(got.status, 200)
      assert.equal(handed(rig), OK)
    }
    assert.equal(rig.connections(), connections, 'one connection for all three')
  })
})

describe('what the filter hands over unchanged, for undici to judge', () => {
  let rig: Rig
  before(async () => { rig = await startRig() })
  after(async () => { await rig.close() })

  /** Each case on a connection of its own (undici closes it on these failures). */
  async function refused (reply: Reply): Promise<string> {
    rig.reads.length = 0
    rig.reply({ ...reply, end: true })
    return failure(rig)
  }

  // undici's words for each, as the gateway would report them (502 SG_UPSTREAM_PROTOCOL).
  const cases: Array<{ name: string, bytes: string, words: RegExp }> = [
    { name: 'HTTP/1.1 1000 (four digits)', bytes: 'HTTP/1.1 1000 Continue\r\n\r\n' + OK, words: /\(Invalid response status\)$/ },
    { name: 'HTTP/1.1 100x', bytes: 'HTTP/1.1 100x Continue\r\n\r\n' + OK, words: /\(Invalid response status\)$/ },
    { name: '101 Switching Protocols (not an interim head)', bytes: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n' + OK, words: /^bad upgrade$/ },
    { name: 'a 100 with a bare LF', bytes: 'HTTP/1.1 100 Continue\nX: y\r\n\r\n' + OK, words: /\(Missing expected CR after response line\)$/ },
    { name: 'a 100 with a header line that has no colon', bytes: 'HTTP/1.1 100 Continue\r\nnot a header\r\n\r\n' + OK, words: /\(Invalid header token\)$/ },
    // llhttp takes the version; undici then refuses the 100 in it.
    { name: 'HTTP/2.0 100 (not HTTP/1.x)', bytes: 'HTTP/2.0 100 Continue\r\n\r\n' + OK, words: /^bad response$/ },
  ]
  for (const c of cases) {
    test(c.name, async () => {
      assert.match(await refused({ pieces: [c.bytes] }), c.words)
      assert.equal(handed(rig), c.bytes, 'handed over unchanged')
    })
  }

  test('a 100 and then the connection closing: undici sees nothing of it, and says the other side closed', async () => {
    assert.equal(await refused({ pieces: [CONTINUE] }), 'other side closed')
    assert.equal(handed(rig), '')
  })

  test('half a 100 and then the connection closing: the same', async () => {
    assert.equal(await refused({ pieces: ['HTTP/1.1 100 Cont'] }), 'other side closed')
    assert.equal(handed(rig), '')
  })

  test(`interim heads past the first ${INTERIM_LOOKAHEAD} bytes of a response are handed over, for undici to refuse`, async () => {
    const one = `HTTP/1.1 100 Continue\r\nX-Pad: ${'a'.repeat(1000)}\r\n\r\n`
    const count = Math.ceil(INTERIM_LOOKAHEAD / one.length) + 1
    const dropped = Math.floor(INTERIM_LOOKAHEAD / one.length)
    assert.equal(await refused({ pieces: [one.repeat(count) + OK] }), 'bad response')
    assert.equal(handed(rig), one.repeat(count - dropped) + OK, 'the heads within the lookahead were dropped, the rest handed over')
  })

  test('an unfinished 100 head as long as the lookahead is handed over as it is (undici: headers overflow)', async () => {
    const long = `HTTP/1.1 100 Continue\r\nX-Pad: ${'a'.repeat(INTERIM_LOOKAHEAD)}`
    const words = await refused({ pieces: [long.slice(0, 9000), long.slice(9000), '\r\n\r\n' + OK] })
    assert.equal(words, 'Headers Overflow Error')
    assert.ok(handed(rig).startsWith(long.slice(0, INTERIM_LOOKAHEAD)), 'the held start went over first, unchanged')
  })
})

describe('the filter over TLS, and where it stays out', () => {
  let ca: Ca
  before(() => { ca = createCa() })

  test('over TLS (HTTP/1.1 by ALPN): a split 100 is dropped, keep-alive reuse too', async () => {
    const leaf = ca.issue({ cn: 'target' })
    const rig = await startRig({ tls: { cert: leaf.cert, key: leaf.key, ca: ca.cert } })
    try {
      for (let i = 0; i < 2; i++) {
        rig.reads.length = 0
        rig.reply({ pieces: ['HTTP/1.1 100 Co', 'ntinue\r\n\r\n', OK] })
        const got = await get(rig)
        assert.equal(got.status, 200)
        assert.equal(got.body, 'up 1\n')
        assert.equal(handed(rig), OK)
      }
      assert.equal(rig.connections(), 1)
    } finally {
      await rig.close()
    }
  })

  test('a connection on which ALPN chose h2 keeps its own read', async () => {
    const leaf = ca.issue({ cn: 'target' })
    const server = tls.createServer({ cert: leaf.cert, key: leaf.key, ALPNProtocols: ['h2'] }, (s) => { s.on('error', () => {}) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      skippingContinue(buildConnector({ ca: ca.cert, allowH2: true }))(
        { hostname: '127.0.0.1', host: `127.0.0.1:${port}`, port: String(port), protocol: 'https:', servername: '' },
        (err, s) => { if (err !== null) reject(err); else resolve(s as tls.TLSSocket) })
    })
    try {
      assert.equal(socket.alpnProtocol, 'h2')
      assert.equal(Object.hasOwn(socket, 'read'), false, 'no filter on an HTTP/2 connection')
    } finally {
      socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  test('an HTTP/1.1 connection gets the filter once, however often it is offered', async () => {
    const server = net.createServer((s) => { s.on('error', () => {}) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const socket = net.connect(port, '127.0.0.1')
    try {
      skipContinue(socket)
      const filtered = socket.read
      assert.notEqual(filtered, net.Socket.prototype.read)
      skipContinue(socket)
      assert.equal(socket.read, filtered)
    } finally {
      socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  test('a failed connection is passed on as it failed', async () => {
    const port = await refusedPort()
    const err = await new Promise<Error | null>((resolve) => {
      skippingContinue(buildConnector({}))(
        { hostname: '127.0.0.1', host: `127.0.0.1:${port}`, port: String(port), protocol: 'http:', servername: '' },
        (...args) => { resolve(args[0]) })
    })
    assert.equal((err as NodeJS.ErrnoException | null)?.code, 'ECONNREFUSED')
  })
})

// Targets that serve the same payloads in every way an exporter frames a
// body: Content-Length, chunked, close-delimited HTTP/1.0 and HTTP/2. The
// payload is chosen by the request's `body` query parameter (a job's
// `params`), so one set of servers serves every case of a matrix.
import http from 'node:http'
import http2 from 'node:http2'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Writable } from 'node:stream'
import type { CertPair } from './pki.js'

export const FRAMINGS = ['content-length', 'chunked', 'http1.0-close', 'http2'] as const
export type Framing = typeof FRAMINGS[number]

/** The bytes a target sends for one `body` key, and whether they are gzip (Content-Encoding). */
export interface Payload {
  wire: Buffer
  gzip: boolean
}

export interface FramingTargets {
  /** host:port serving `framing` (content-length and chunked share a server; the job's params pick). */
  host (framing: Framing): string
  close (): Promise<void>
}

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
/** Not a multiple of anything the gateway or TLS uses, so chunk and record edges fall everywhere. */
const PIECE = 10_007

/** Writes `data` in PIECE-sized writes, waiting for drain, then ends. */
function stream (out: Writable, data: Buffer): void {
  let offset = 0
  const next = (): void => {
    while (offset < data.length) {
      const piece = data.subarray(offset, offset + PIECE)
      offset += piece.length
      if (!out.write(piece)) {
        out.once('drain', next)
        return
      }
    }
    out.end()
  }
  next()
}

function lookup (payloads: ReadonlyMap<string, Payload>, url: string): Payload | undefined {
  return payloads.get(new URL(url, 'http://x').searchParams.get('body') ?? '')
}

async function listen (server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

export async function startFramingTargets (payloads: ReadonlyMap<string, Payload>, cert: CertPair): Promise<FramingTargets> {
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket): void => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => sockets.delete(socket))
  }

  // HTTP/1.1: `framing=chunked` streams with no Content-Length.
  const h1 = http.createServer((req, res) => {
    const payload = lookup(payloads, req.url ?? '')
    if (payload === undefined) { res.writeHead(404).end(); return }
    const headers: http.OutgoingHttpHeaders = { 'content-type': CONTENT_TYPE }
    if (payload.gzip) headers['content-encoding'] = 'gzip'
    if (new URL(req.url ?? '', 'http://x').searchParams.get('framing') === 'chunked') {
      res.writeHead(200, headers)
      // Without this an empty body would go out with Content-Length: 0.
      res.flushHeaders()
      stream(res, payload.wire)
    } else {
      headers['content-length'] = payload.wire.length
      res.writeHead(200, headers)
      res.end(payload.wire)
    }
  })
  h1.on('connection', track)

  // HTTP/1.0 as Python exporters speak it: no length, the end of the body is the end of the connection.
  const raw = net.createServer((socket) => {
    track(socket)
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      const payload = lookup(payloads, head.split(' ')[1] ?? '')
      if (payload === undefined) { socket.end('HTTP/1.0 404 Not Found\r\n\r\n'); return }
      socket.write(`HTTP/1.0 200 OK\r\nContent-Type: ${CONTENT_TYPE}\r\n${payload.gzip ? 'Content-Encoding: gzip\r\n' : ''}\r\n`)
      stream(socket, payload.wire)
    }
    socket.on('data', onData)
  })

  const sessions = new Set<http2.Http2Session>()
  const h2 = http2.createSecureServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const payload = lookup(payloads, req.url)
    if (payload === undefined) { res.writeHead(404).end(); return }
    res.writeHead(200, { 'content-type': CONTENT_TYPE, ...(payload.gzip ? { 'content-encoding': 'gzip' } : {}) })
    stream(res as unknown as Writable, payload.wire)
  })
  h2.on('session', (session: http2.Http2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })

  const hosts = { h1: await listen(h1), raw: await listen(raw), h2: await listen(h2) }
  return {
    host: (framing) => framing === 'http1.0-close' ? hosts.raw : framing === 'http2' ? hosts.h2 : hosts.h1,
    async close () {
      for (const session of sessions) session.destroy()
      for (const socket of sockets) socket.destroy()
      h1.closeAllConnections()
      await Promise.all([h1, raw, h2].map(async (server) => new Promise<void>((resolve) => server.close(() => resolve()))))
    },
  }
}

// Real scrape targets on 127.0.0.1:0 for tests. Every request is recorded before the handler runs.
import http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import https from 'node:https'
import http2 from 'node:http2'
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import type tls from 'node:tls'
import zlib from 'node:zlib'

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  rawHeaders: string[]
  httpVersion: string
}

export interface Target {
  url: string
  /** '127.0.0.1:PORT' */
  host: string
  port: number
  requests: RecordedRequest[]
  close(): Promise<void>
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void
export type Http2Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void

export interface HttpsTargetOptions {
  cert: string
  key: string
  /** CA used to verify client certificates */
  ca?: string
  requestCert?: boolean
  minVersion?: tls.SecureVersion
  maxVersion?: tls.SecureVersion
}

function record (req: IncomingMessage | Http2ServerRequest): RecordedRequest {
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    httpVersion: req.httpVersion,
  }
}

async function listen (server: net.Server, scheme: 'http' | 'https', requests: RecordedRequest[],
  onClose: () => void = () => {}): Promise<Target> {
  // Tracked so close() can destroy idle keep-alive and half-handshaken sockets too.
  const sockets = new Set<net.Socket>()
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const host = `127.0.0.1:${port}`
  let closing: Promise<void> | undefined
  return {
    url: `${scheme}://${host}`,
    host,
    port,
    requests,
    close () {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        // http/https servers drop in-flight and keep-alive connections here; http2 relies on sessions + sockets.
        if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') server.closeAllConnections()
        onClose()
        for (const socket of sockets) socket.destroy()
      })
      return closing
    },
  }
}

export function startHttpTarget (handler: Handler): Promise<Target> {
  const requests: RecordedRequest[] = []
  const server = http.createServer((req, res) => {
    requests.push(record(req))
    handler(req, res)
  })
  return listen(server, 'http', requests)
}

export function startHttpsTarget (opts: HttpsTargetOptions, handler: Handler): Promise<Target> {
  const requests: RecordedRequest[] = []
  const server = https.createServer(opts, (req, res) => {
    requests.push(record(req))
    handler(req, res)
  })
  return listen(server, 'https', requests)
}

/** HTTP/2 over TLS with HTTP/1.1 fallback (allowHTTP1); check RecordedRequest.httpVersion for what was negotiated. */
export function startHttp2Target (opts: { cert: string; key: string }, handler: Http2Handler): Promise<Target> {
  const requests: RecordedRequest[] = []
  const sessions = new Set<Http2Session>()
  const server = http2.createSecureServer({ ...opts, allowHTTP1: true }, (req, res) => {
    requests.push(record(req))
    handler(req, res)
  })
  server.on('session', (session: Http2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  return listen(server, 'https', requests, () => {
    for (const session of sessions) session.destroy()
  })
}

/** What metricsHandler needs from either an HTTP/1 or an HTTP/2 response. */
interface MinimalResponse {
  statusCode: number
  setHeader(name: string, value: string | number): unknown
  end(body: Buffer): unknown
}

/** Serves `body`; usable with both startHttp(s)Target and startHttp2Target. */
export function metricsHandler (body: string, opts: { contentType?: string; gzip?: boolean; status?: number } = {}):
  Handler & Http2Handler {
  const payload = opts.gzip ? zlib.gzipSync(body) : Buffer.from(body)
  const handler = (_req: unknown, res: MinimalResponse): void => {
    res.statusCode = opts.status ?? 200
    res.setHeader('Content-Type', opts.contentType ?? 'text/plain; version=0.0.4; charset=utf-8')
    if (opts.gzip) res.setHeader('Content-Encoding', 'gzip')
    res.setHeader('Content-Length', payload.length)
    res.end(payload)
  }
  return handler
}

/**
 * Deterministic Prometheus text exposition with exactly `series` sample lines
 * (HELP/TYPE lines excluded) spread over counters, a gauge and a histogram.
 */
export function exposition (series: number): string {
  const n = Math.max(0, Math.floor(series))
  const bounds = ['0.005', '0.05', '0.5', '5', '+Inf']
  const perHistogram = bounds.length + 2 // buckets + _sum + _count
  const histograms = Math.floor(n / 4 / perHistogram)
  const rest = n - histograms * perHistogram
  const simple = [
    {
      name: 'container_cpu_usage_seconds_total',
      type: 'counter',
      help: 'Cumulative cpu time consumed by the container in seconds.',
      value: (i: number) => ((i * 7919) % 100_000 / 37).toFixed(3)
    },
    {
      name: 'container_memory_working_set_bytes',
      type: 'gauge',
      help: 'Current working set of the container in bytes.',
      value: (i: number) => String(((i * 104_729) % 512 + 16) * 1_048_576)
    },
    {
      name: 'kube_pod_container_status_restarts_total',
      type: 'counter',
      help: 'The number of container restarts per container.',
      value: (i: number) => String((i * 31) % 7)
    },
  ]
  const namespaces = ['default', 'monitoring', 'kube-system', 'payments']
  const labels = (i: number): string => {
    const pod = Math.floor(i / 2)
    const suffix = (Math.imul(pod + 1, 2_654_435_761) >>> 0).toString(36).padStart(7, '0').slice(-5)
    return `namespace="${namespaces[pod % namespaces.length]}",pod="app-${pod}-${suffix}",container="${i % 2 === 0 ? 'app' : 'sidecar'}"`
  }

  const lines: string[] = []
  simple.forEach((family, f) => {
    const count = Math.floor(rest / simple.length) + (f < rest % simple.length ? 1 : 0)
    if (count === 0) return
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`)
    for (let i = 0; i < count; i++) lines.push(`${family.name}{${labels(i)}} ${family.value(i)}`)
  })
  if (histograms > 0) {
    const name = 'http_request_duration_seconds'
    lines.push(`# HELP ${name} HTTP request latency in seconds.`, `# TYPE ${name} histogram`)
    for (let i = 0; i < histograms; i++) {
      const l = `${labels(i)},handler="/api/v1/items"`
      let cumulative = 0
      for (const [b, le] of bounds.entries()) {
        cumulative += ((i + 1) * (b + 3)) % 50 + 1
        lines.push(`${name}_bucket{${l},le="${le}"} ${cumulative}`)
      }
      lines.push(`${name}_sum{${l}} ${(cumulative * 0.137).toFixed(3)}`, `${name}_count{${l}} ${cumulative}`)
    }
  }
  return lines.length > 0 ? lines.join('\n') + '\n' : ''
}

/** A 127.0.0.1 port where nothing listens (bound then released; racy only in theory). */
export async function refusedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

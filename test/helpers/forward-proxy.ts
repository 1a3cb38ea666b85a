// A small forward proxy for tests (node:http or node:https on 127.0.0.1:0):
// CONNECT tunnels and absolute-URI requests, each recorded with its headers,
// optionally demanding a Proxy-Authorization (407 otherwise).
import http from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import https from 'node:https'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'

export interface ProxiedRequest {
  method: string
  /** `host:port` for CONNECT, the absolute URI otherwise. */
  url: string
  headers: IncomingHttpHeaders
}

export interface ForwardProxy {
  /** http(s)://127.0.0.1:PORT */
  url: string
  port: number
  /** CONNECT requests. */
  connects: ProxiedRequest[]
  /** Forwarded (absolute-URI) requests. */
  requests: ProxiedRequest[]
  close (): Promise<void>
}

export interface ForwardProxyOptions {
  /** Serve the proxy over TLS (an https:// proxy). */
  tls?: { cert: string, key: string }
  /** The exact Proxy-Authorization the proxy demands; anything else gets 407. */
  requireAuthorization?: string
  /** Names the proxy resolves itself, e.g. { 'metrics.test': '127.0.0.1' }. */
  hosts?: Record<string, string>
}

// Hop-by-hop headers a proxy must not pass on (RFC 9110 7.6.1), and its own credentials.
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate',
  'te', 'trailer', 'transfer-encoding', 'upgrade'])

function record (req: IncomingMessage): ProxiedRequest {
  return { method: req.method ?? '', url: req.url ?? '', headers: req.headers }
}

export async function startForwardProxy (opts: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const connects: ProxiedRequest[] = []
  const requests: ProxiedRequest[] = []
  const sockets = new Set<Duplex>()
  const track = (s: Duplex): void => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  }
  const resolve = (host: string): string => opts.hosts?.[host] ?? host
  const authorized = (req: IncomingMessage): boolean =>
    opts.requireAuthorization === undefined || req.headers['proxy-authorization'] === opts.requireAuthorization

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push(record(req))
    if (!authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-length': 0 }).end()
      return
    }
    let target: URL
    try {
      target = new URL(req.url ?? '')
    } catch {
      res.writeHead(400, { 'content-length': 0 }).end()
      return
    }
    const headers: IncomingHttpHeaders = {}
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value
    const upstream = http.request({
      host: resolve(target.hostname),
      port: target.port === '' ? 80 : Number(target.port),
      method: req.method,
      path: target.pathname + target.search,
      headers,
    }, (up) => {
      const back: IncomingHttpHeaders = {}
      for (const [name, value] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(name)) back[name] = value
      res.writeHead(up.statusCode ?? 502, back)
      up.pipe(res)
    })
    upstream.on('error', () => { if (!res.headersSent) res.writeHead(502, { 'content-length': 0 }).end(); else res.destroy() })
    req.pipe(upstream)
  }

  const server = opts.tls === undefined ? http.createServer(onRequest) : https.createServer(opts.tls, onRequest)
  server.on('connection', (s: net.Socket) => track(s))
  server.on('secureConnection', (s: Duplex) => track(s))
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    connects.push(record(req))
    track(client)
    client.on('error', () => {})
    if (!authorized(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const m = /^(.*):(\d+)$/.exec(req.url ?? '')
    if (m === null) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const upstream = net.connect(Number(m[2]), resolve((m[1] as string).replace(/^\[(.*)\]$/, '$1')))
    track(upstream)
    let connected = false
    upstream.once('connect', () => {
      connected = true
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => {
      if (!connected) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n')
      else client.destroy()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  return {
    url: `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    connects,
    requests,
    close () {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        for (const s of sockets) s.destroy()
      })
      return closing
    },
  }
}

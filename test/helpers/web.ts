// The gateway behind a web config (`--web.config.file`), started for real on
// 127.0.0.1 port 0, and a node:https client that shows what a caller saw:
// the status, the headers, the server's certificate, or the TLS failure.
// Every request opens its own connection (agent: false), so a request made
// after a certificate rotation is a new handshake.
import https from 'node:https'
import http from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import tls from 'node:tls'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildServer } from '../../src/server.js'
import { writeConfig } from './gateway.js'

export interface WebGateway {
  app: FastifyInstance
  /** https://127.0.0.1:PORT, or http:// without TLS */
  url: string
  dir: string
  webConfigFile: string
  close (): Promise<void>
}

/** Writes the gateway config and the web config side by side (relative paths in either resolve there) and listens. */
export async function startWebGateway (configYaml: string, webYaml: string): Promise<WebGateway> {
  const configFile = writeConfig(configYaml)
  const dir = path.dirname(configFile)
  const webConfigFile = path.join(dir, 'web.yml')
  writeFileSync(webConfigFile, webYaml)
  const app = await buildServer({ configFile, webConfigFile, logLevel: false })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('gateway has no port')
  const scheme = 'setSecureContext' in app.server ? 'https' : 'http'
  return { app, url: `${scheme}://127.0.0.1:${address.port}`, dir, webConfigFile, close: async () => { await app.close() } }
}

export interface CallOptions {
  method?: string
  /** The CA that must have issued the server's certificate. */
  ca?: string
  /** A client certificate and its key. */
  cert?: string
  key?: string
  /** `user:password`, sent as HTTP basic auth. */
  auth?: string
  headers?: Record<string, string>
  minVersion?: tls.SecureVersion
  maxVersion?: tls.SecureVersion
  ciphers?: string
  ecdhCurve?: string
}

export interface Seen {
  /** 0 when no response came (the TLS handshake or the connection failed). */
  status: number
  headers: IncomingHttpHeaders
  body: string
  /** SHA-256 fingerprint of the server's certificate (https only). */
  serverCert: string | undefined
  /** The negotiated cipher's OpenSSL name, and the protocol. */
  cipher: string | undefined
  protocol: string | undefined
  error: string | undefined
}

export async function call (url: string, opts: CallOptions = {}): Promise<Seen> {
  const u = new URL(url)
  const headers = { ...opts.headers }
  if (opts.auth !== undefined) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`
  const common = { method: opts.method ?? 'GET', headers, agent: false as const }
  return new Promise((resolve) => {
    const done = (res: http.IncomingMessage): void => {
      const socket = res.socket as tls.TLSSocket
      const serverCert = u.protocol === 'https:' ? socket.getPeerCertificate().fingerprint256 : undefined
      const cipher = u.protocol === 'https:' ? socket.getCipher().name : undefined
      const protocol = u.protocol === 'https:' ? socket.getProtocol() ?? undefined : undefined
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, serverCert, cipher, protocol, error: undefined }))
      res.on('error', (err) => resolve({ status: 0, headers: {}, body, serverCert, cipher, protocol, error: err.message }))
    }
    const req = u.protocol === 'https:'
      ? https.request(u, {
        ...common,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        minVersion: opts.minVersion,
        maxVersion: opts.maxVersion,
        ciphers: opts.ciphers,
        ecdhCurve: opts.ecdhCurve,
      }, done)
      : http.request(u, common, done)
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')))
    req.on('error', (err: NodeJS.ErrnoException) => {
      resolve({ status: 0, headers: {}, body: '', serverCert: undefined, cipher: undefined, protocol: undefined, error: err.code ?? err.message })
    })
    req.end()
  })
}

/**
 * A TLS handshake alone, with nothing written: 'accepted' once the server
 * sends its TLS 1.3 session ticket (after it checked the client's
 * certificate), else the alert's error code. An HTTP request would race the
 * server's alert (its close after unread data is a reset instead).
 */
export async function handshake (url: string, opts: Pick<CallOptions, 'ca' | 'cert' | 'key'>): Promise<string> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = tls.connect({ host: u.hostname, port: Number(u.port), ca: opts.ca, cert: opts.cert, key: opts.key })
    socket.once('session', () => { resolve('accepted'); socket.destroy() })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
    socket.once('close', () => resolve('closed without a session ticket'))
  })
}

// A real oauth2 token endpoint for tests, on 127.0.0.1 port 0 (http, or https
// with a certificate made by the test). Every request is recorded with its
// body before `respond` runs; the default answer issues `token-1`,
// `token-2`, ... as JSON with expires_in 3600.
import http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'

export interface TokenCall {
  method: string
  url: string
  headers: IncomingMessage['headers']
  /** The raw form body. */
  body: string
  form: URLSearchParams
  /** Whether the client went away before an answer was sent. */
  aborted: boolean
}

export type Responder = (call: TokenCall, res: ServerResponse, n: number) => void | Promise<void>

export interface TokenEndpoint {
  /** http(s)://127.0.0.1:PORT/oauth2/token */
  url: string
  calls: TokenCall[]
  respond: Responder
  close (): Promise<void>
}

/** The client id and secret of an HTTP Basic header, unescaped as the oauth2 spec says. */
export function basicCredentials (header: string | undefined): [string, string] | undefined {
  if (header === undefined || !header.startsWith('Basic ')) return undefined
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) return undefined
  const unescape = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '))
  return [unescape(decoded.slice(0, colon)), unescape(decoded.slice(colon + 1))]
}

export function json (res: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body))
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': payload.length })
  res.end(payload)
}

export const issueTokens: Responder = (_call, res, n) => {
  json(res, 200, { access_token: `token-${n}`, token_type: 'bearer', expires_in: 3600 })
}

export async function startTokenEndpoint (
  respond: Responder = issueTokens,
  tls?: { cert: string, key: string }
): Promise<TokenEndpoint> {
  const calls: TokenCall[] = []
  const sockets = new Set<Socket>()
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const call: TokenCall = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, form: new URLSearchParams(body), aborted: false }
      calls.push(call)
      res.on('close', () => { if (!res.writableFinished) call.aborted = true })
      void Promise.resolve().then(async () => endpoint.respond(call, res, calls.length)).catch(() => { res.destroy() })
    })
  }
  const server = tls === undefined ? http.createServer(onRequest) : https.createServer(tls, onRequest)
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const endpoint: TokenEndpoint = {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}/oauth2/token`,
    calls,
    respond,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      })
    },
  }
  return endpoint
}

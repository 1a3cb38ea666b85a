// A raw node:http client for the gateway: it shows whether a reply completed
// or was cut (fetch would hide that, and would decode gzip by itself).
import http from 'node:http'

/** What a caller saw, read with node:http so nothing is decoded or hidden. */
export interface Seen {
  /** 0 when the request failed before any response head. */
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** node's IncomingMessage.complete: the whole message was received. */
  complete: boolean
  aborted: boolean
  error: string | undefined
  ms: number
}

/** `onData` runs once, at the first body bytes the caller receives. */
export function get (url: string, headers: Record<string, string> = {}, onData?: () => void): Promise<Seen> {
  const started = Date.now()
  return new Promise((resolve) => {
    let responded = false
    const req = http.get(url, { headers, agent: false }, (res) => {
      responded = true
      const chunks: Buffer[] = []
      let aborted = false
      let error: string | undefined
      res.on('aborted', () => { aborted = true })
      res.on('error', (err) => { error = err.message })
      res.on('data', (c: Buffer) => {
        if (chunks.length === 0) onData?.()
        chunks.push(c)
      })
      res.on('close', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete, aborted, error, ms: Date.now() - started })
      })
    })
    // A reset after the head (a cut body) is reported here as well as on the
    // response: the response's 'close' settles it then, with what arrived.
    req.on('error', (err) => {
      if (responded) return
      resolve({ status: 0, headers: {}, body: Buffer.alloc(0), complete: false, aborted: false, error: err.message, ms: Date.now() - started })
    })
  })
}

// Maps what undici, node:tls and node:zlib throw to the gateway's coded errors.
import { Errors, isCoded } from '../errors.js'
import { describeTlsError } from './tls-errors.js'

/** Thrown into the request by the probe's own deadline. */
export class DeadlineExceeded extends Error {
  constructor (readonly timeoutMs: number) {
    super('deadline exceeded')
    this.name = 'DeadlineExceeded'
  }
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
])
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

function describe (err: Error): string {
  const code = (err as NodeJS.ErrnoException).code
  const msg = err.message.split('\n')[0] ?? ''
  return code !== undefined && !msg.includes(code) ? `${msg} (${code})` : msg
}

/**
 * @param phase `connect`: before the response headers; `body`: while relaying.
 * @param timeoutMs the probe's deadline, for the 504 message.
 */
export function classify (err: Error, phase: 'connect' | 'body', timeoutMs: number): Error {
  if (isCoded(err)) return err
  if (err instanceof DeadlineExceeded) {
    return new Errors.UPSTREAM_TIMEOUT(`${timeoutMs / 1000}s`, phase === 'connect' ? 'waiting for the response' : 'reading the body', { cause: err })
  }
  const code = (err as NodeJS.ErrnoException).code ?? ''
  if (TIMEOUT_CODES.has(code)) return new Errors.UPSTREAM_TIMEOUT(`${timeoutMs / 1000}s`, describe(err), { cause: err })
  if (code.startsWith('Z_')) {
    return new Errors.UPSTREAM_DECODE(`gzip: ${err.message}`, { cause: err })
  }
  const tlsWords = describeTlsError(err)
  if (tlsWords !== undefined) return new Errors.UPSTREAM_TLS(tlsWords, { cause: err })
  // undici wraps some socket errors; the cause carries the errno.
  const cause = (err as { cause?: unknown }).cause
  if (cause instanceof Error && (cause as NodeJS.ErrnoException).code !== undefined && !CONNECT_CODES.has(code)) {
    return classify(cause, phase, timeoutMs)
  }
  if (phase === 'body') return new Errors.UPSTREAM_BODY(`reading the body failed: ${describe(err)}`, { cause: err })
  return new Errors.UPSTREAM_CONNECT(describe(err), { cause: err })
}

// Errors raised before any route sees the request, answered in the gateway's
// one-line `SG_CODE: reason` text like every other error, instead of node's
// empty 400/431 or Fastify's JSON:
// - node's HTTP parser refused the request (a malformed request line or
//   header, headers over maxHeaderSize, headers too slow): Fastify's
//   `clientErrorHandler`, node's 'clientError' event. Only the socket exists,
//   so the reply is written raw and the connection closed, as node does.
// - Fastify could not decode the path (bad percent-encoding): `frameworkErrors`.
import http from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Errors, oneLine, type CodedError } from './errors.js'

type ConnectionError = Error & { code?: string }

/** The coded error for what node's HTTP parser reported; undefined when there is nobody to answer. */
export function parserError (err: ConnectionError): CodedError | undefined {
  switch (err.code) {
    // The caller reset the connection: nothing to answer (node does the same).
    case 'ECONNRESET':
      return undefined
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new Errors.REQUEST_TIMEOUT()
    // llhttp counts the request line with the headers: a URL past the limit is this too.
    case 'HPE_HEADER_OVERFLOW':
      return new Errors.HEADERS_TOO_LARGE(http.maxHeaderSize)
    default:
      return new Errors.BAD_REQUEST(parserWords(err))
  }
}

/** llhttp's reason without node's wrapping: `Parse Error: Invalid method encountered` → `invalid method encountered (HPE_INVALID_METHOD)`. */
function parserWords (err: ConnectionError): string {
  const reason = (err as { reason?: unknown }).reason
  const words = typeof reason === 'string' && reason !== '' ? reason : err.message.replace(/^Parse Error:\s*/, '')
  const line = words.split('\n')[0] ?? ''
  const lower = line.charAt(0).toLowerCase() + line.slice(1)
  return err.code !== undefined && !lower.includes(err.code) ? `${lower} (${err.code})` : lower
}

/** The one-line body every error reply carries: `CODE: message`, and where (a probe's job and target) when known. */
export function errorBody (code: string, message: string, where = ''): string {
  return `${code}: ${oneLine(message)}${where}\n`
}

/** Fastify's clientErrorHandler: answers on the raw socket, then closes it. */
export function clientErrorHandler (err: ConnectionError, socket: Socket): void {
  const coded = socket.destroyed ? undefined : parserError(err)
  if (coded === undefined) return
  const status = coded.statusCode ?? 400
  const body = errorBody(coded.code, coded.message)
  // Only a socket that can still take bytes gets them; it is closed either way (node and Fastify do both).
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' + body)
  }
  socket.destroy(err)
}

/** Fastify's frameworkErrors: a path that does not decode is a 400 in the gateway's words; the rest goes to the error handler. */
export function frameworkErrors (err: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_BAD_URL') {
    const coded = new Errors.BAD_REQUEST(err.message)
    void reply.code(coded.statusCode ?? 400).type('text/plain; charset=utf-8').send(errorBody(coded.code, coded.message))
    return
  }
  void reply.send(err)
}

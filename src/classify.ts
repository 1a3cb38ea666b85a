// The one mapping from what undici, node:net, node:tls and node:zlib throw to
// the registry's coded errors (src/errors.ts). Every place that turns a
// low-level failure into what a caller sees goes through classify(), saying
// where the failure happened:
// - the probe's request (`connect`: before the response head; `body`: while
//   relaying it): the deadline and undici's timeouts are SG_UPSTREAM_TIMEOUT,
//   a corrupt gzip SG_UPSTREAM_DECODE, a response that does not parse as
//   HTTP SG_UPSTREAM_PROTOCOL (in both phases: after the first byte the
//   caller's connection is cut all the same, but the log line and the
//   metric name the target's fault), what a client feature words itself
//   (the TLS feature's handshake failures) gets that feature's error, the
//   rest SG_UPSTREAM_CONNECT or SG_UPSTREAM_BODY;
// - a layer that waits before it dispatches (`wait`: an oauth2 token): only
//   the probe's deadline is the layer's to word; anything else goes on as it
//   is, and the probe maps it when it arrives there;
// - a hop on the way to the target (`via`: a forward proxy, a token
//   endpoint): every failure is the hop's, in its words and with its code.
// A low-level error in words is errorWords(), the same for all of them.
//
// Layering: this file, like the registry, sits below src/client, src/scrape
// and plugins/, and names no feature: a feature's own words reach it through
// the job's client (ClientFeature.describeFailure).
import { Errors, isCoded } from './errors.js'

/** Thrown into the request by the probe's own deadline. */
export class DeadlineExceeded extends Error {
  constructor (readonly timeoutMs: number) {
    super('deadline exceeded')
    this.name = 'DeadlineExceeded'
  }
}

/** Where a failure happened, and what the caller knows to word it. */
export type FailureContext =
  | {
    /** The probe's request: before its response head (`connect`), or while its body is relayed (`body`). */
    readonly phase: 'connect' | 'body'
    /** The probe's deadline, for a timeout's message. */
    readonly timeoutMs: number
    /** The job's client's words for failures its features know (JobClient.describeFailure). */
    readonly describe?: (err: Error) => Error | undefined
  }
  | {
    /** A layer that waits before it dispatches the probe's request (an oauth2 token). */
    readonly phase: 'wait'
    /** What was waited for, as a timeout's message says it: `waiting for the oauth2 token from U`. */
    readonly waitingFor: string
  }
  | {
    /** A hop on the way to the target (a forward proxy, a token endpoint). */
    readonly phase: 'via'
    /** The hop's coded error, from the failure in words. */
    readonly wrap: (words: string) => Error
    /** A failure already coded passes as it is (true), or is the hop's too (false: whatever failed, the token fetch did). */
    readonly keepCoded: boolean
  }

const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
])
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/**
 * undici's own words for a response its parser took but the client refuses:
 * a `100 Continue` the interim filter handed over (malformed, or past the
 * first 16 KiB of interim heads: src/client/interim-filter.ts; undici 7
 * destroys the connection on any 100, client-h1.js onHeadersComplete), or a
 * response with no request on the connection.
 */
const REFUSED_RESPONSES = new Set(['bad response', 'bad upgrade'])

/**
 * A response that is not HTTP: llhttp's errors (undici's HTTPParserError),
 * headers past undici's maxHeaderSize (undici counts them itself), or a
 * response undici refuses. Known by name as well as by code: undici 7.30
 * looks the HPE_* name up in a table keyed the other way round
 * (constants.ERROR is name → number), so its HTTPParserError has no code;
 * llhttp's reason is in the message.
 */
function malformed (err: Error, code: string, phase: 'connect' | 'body'): boolean {
  if (err.name === 'HTTPParserError' || code.startsWith('HPE_') || code === 'UND_ERR_HEADERS_OVERFLOW') return true
  if (code === 'UND_ERR_SOCKET') return REFUSED_RESPONSES.has(err.message)
  // undici reports any parser error as this one once it has seen a
  // Content-Length header (client-h1.js createError), so before the head it
  // is a head that did not parse: llhttp refuses a second Content-Length
  // there. After the head it is what it says, a body cut short.
  return code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' && phase === 'connect'
}

/** A low-level error in one line: its message's first line, and its code when the message does not show it. */
export function errorWords (err: unknown): string {
  const e = err as NodeJS.ErrnoException | null | undefined
  const msg = (e?.message ?? String(err)).split('\n')[0] ?? ''
  return e?.code !== undefined && !msg.includes(e.code) ? `${msg} (${e.code})` : msg
}

function timedOut (timeoutMs: number, what: string, cause: Error): Error {
  return new Errors.UPSTREAM_TIMEOUT(`${timeoutMs / 1000}s`, what, { cause })
}

/** The coded error for `err`, failed where `context` says. */
export function classify (err: unknown, context: FailureContext): Error {
  switch (context.phase) {
    case 'wait':
      if (err instanceof DeadlineExceeded) return timedOut(err.timeoutMs, context.waitingFor, err)
      return err instanceof Error ? err : new Error(String(err))
    case 'via':
      if (context.keepCoded && isCoded(err)) return err
      return context.wrap(errorWords(err))
    default:
      return upstream(err instanceof Error ? err : new Error(String(err)), context)
  }
}

function upstream (err: Error, context: Extract<FailureContext, { phase: 'connect' | 'body' }>): Error {
  const { phase, timeoutMs } = context
  if (isCoded(err)) return err
  if (err instanceof DeadlineExceeded) {
    return timedOut(timeoutMs, phase === 'connect' ? 'waiting for the response' : 'reading the body', err)
  }
  const code = (err as NodeJS.ErrnoException).code ?? ''
  if (TIMEOUT_CODES.has(code)) return timedOut(timeoutMs, errorWords(err), err)
  if (code.startsWith('Z_')) {
    return new Errors.UPSTREAM_DECODE(`gzip: ${err.message}`, { cause: err })
  }
  if (malformed(err, code, phase)) return new Errors.UPSTREAM_PROTOCOL(errorWords(err), { cause: err })
  const described = context.describe?.(err)
  if (described !== undefined) return described
  // undici wraps some socket errors; the cause carries the errno.
  const cause = (err as { cause?: unknown }).cause
  if (cause instanceof Error && (cause as NodeJS.ErrnoException).code !== undefined && !CONNECT_CODES.has(code)) {
    return upstream(cause, context)
  }
  if (phase === 'body') return new Errors.UPSTREAM_BODY(`reading the body failed: ${errorWords(err)}`, { cause: err })
  return new Errors.UPSTREAM_CONNECT(errorWords(err), { cause: err })
}

// One scrape on behalf of a caller: GET scheme://target/metrics_path?params
// through the job's client, under one deadline that covers connect, TLS,
// headers and the whole upstream body. Success is a 200 whose body is relayed
// chunk by chunk (src/scrape/relay.ts); everything else is a coded error.
//
// The probe is the undici dispatch handler of its request, so no request()
// promise, body stream or AbortSignal sits between the target and the caller:
// undici hands the probe each chunk, the probe writes it to the caller's
// response, and pauses the upstream request when the caller is slow.
//
// Every probe fills a record of what happened (src/client/record.ts): the
// probe's own facts here (the head, bytes, the outcome, the phase a failure
// came in), the client's layers and connectors theirs. The probe formats no
// text: src/report/text.ts renders a record when asked (debug=true).
import { STATUS_CODES } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import { Writable } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { CompiledJob } from './job.js'
import type { ProbeDispatchOptions } from '../client/feature.js'
import { ResponseFlow } from '../client/response-flow.js'
import { ProbeRecord, type Phase, type TimeoutFacts } from '../client/record.js'
import { connectionOf, connectionOfError, type ConnectionFacts } from '../client/connection-facts.js'
import { BodyRelay, type RelayMode } from './relay.js'
import { TIMEOUT_HEADER } from './timeout.js'
import { classify, DeadlineExceeded } from '../classify.js'
import { formatSeconds } from '../go-format.js'
import { Errors } from '../errors.js'

type Controller = Dispatcher.DispatchController

/** What the reply's head needs, known once the first byte of a 200's body is ready. */
export interface ProbeHead {
  /** The upstream Content-Type, verbatim (undefined when the target sent none). */
  contentType: string | undefined
  /** Content-Encoding to relay: the target's, unless the gateway decodes the body. */
  contentEncoding: string | undefined
  /**
   * The target's Content-Length when the body is relayed byte for byte and
   * nothing can fail it after its last byte: the reply then goes without
   * chunked framing, which saves a write (the last chunk) and the chunk
   * headers per probe. A caller that got fewer bytes sees the cut as well as
   * with chunked framing.
   */
  contentLength: string | undefined
}

export interface ProbeOutcome {
  /** Body bytes relayed to the caller (compressed when gzip was passed through); none for a debug probe. */
  bytes: number
  error: Error | undefined
  /** What happened, finished (summary set): the same object as Probe.record. */
  record: ProbeRecord
}

/** What the route knows of a probe beyond its job, target and deadline, for its record. */
export interface ProbeOptions {
  /** The target as the caller sent it (the probe dials the canonical form it is given). */
  readonly sent?: string
  /** How the deadline came about. */
  readonly timeout?: TimeoutFacts
  /** A debug probe: the body is read through the same limits and dropped (discard()), and its record rendered. */
  readonly debug?: boolean
}

/** A non-200's body is read and dropped, so the connection can be reused, up to this much. */
const DRAIN_LIMIT = 128 * 1024

/**
 * Where a probe is, for its caller:
 *
 *   connecting ──▶ receiving ──▶ streaming ──▶ done
 *        └─────────────┴──────────────┴──────▶ failed | canceled
 *
 * - connecting: the request is on its way (a connection, a token, redirect
 *   hops); no 200 head yet. A failure is an error reply, worded as `connect`.
 * - receiving: a 200's head is in; its first body byte is not ready yet. A
 *   failure is still an error reply, worded as `body`.
 * - streaming: the first byte is ready and the caller's reply has begun: a
 *   failure now cuts the caller's connection.
 * - done, failed, canceled: over. Canceled means the caller went away.
 */
export type ProbeState = 'connecting' | 'receiving' | 'streaming' | 'done' | 'failed' | 'canceled'

const NEXT: Readonly<Record<ProbeState, readonly ProbeState[]>> = {
  connecting: ['receiving', 'failed', 'canceled'],
  receiving: ['streaming', 'failed', 'canceled'],
  streaming: ['done', 'failed', 'canceled'],
  done: [],
  failed: [],
  canceled: [],
}

/**
 * The upstream exchange, which can outlive the probe: a non-200 fails the
 * probe at once, and its body is then drained (bounded) so the connection
 * can be reused.
 */
type Exchange = 'open' | 'draining' | 'over'

export class Probe implements Dispatcher.DispatchHandler {
  #state: ProbeState = 'connecting'
  #exchange: Exchange = 'open'
  readonly #timer: NodeJS.Timeout
  /** The controller of the request on the wire (each redirect hop has its own). */
  #controller: Controller | undefined
  /** Backpressure on the response, safe when its connection ends. */
  readonly #flow = new ResponseFlow()
  #signal: AbortController | undefined
  /** Why the probe stopped the upstream request (deadline, caller gone, failure). */
  #reason: Error | undefined
  /** Bytes of a non-200's body dropped so far. */
  #drained = 0
  #acceptsGzip = false
  #head: ProbeHead | undefined
  #relay: BodyRelay | undefined
  #out: Writable | undefined
  #resolveHead!: (head: ProbeHead) => void
  #rejectHead!: (err: Error) => void
  #resolveDone!: (o: ProbeOutcome) => void
  /** Resolves once the probe is over: relayed, failed or cancelled. */
  readonly done: Promise<ProbeOutcome> = new Promise((resolve) => { this.#resolveDone = resolve })
  /** What happened; finished (its summary set) once `done` resolves. */
  readonly record: ProbeRecord

  constructor (
    readonly job: CompiledJob,
    readonly target: string,
    readonly timeoutMs: number,
    options: ProbeOptions = {}
  ) {
    this.#timer = setTimeout(() => { this.#expire() }, timeoutMs)
    this.#timer.unref()
    const { config } = job
    this.record = new ProbeRecord(config.name, options.sent ?? target, target, `${config.scheme}://${target}${job.path}`,
      timeoutMs, options.timeout, options.debug === true)
  }

  get state (): ProbeState {
    return this.#state
  }

  /** Aborts when the probe ends early; made on first use (see ProbeDispatchOptions). */
  get signal (): AbortSignal {
    if (this.#signal === undefined) {
      this.#signal = new AbortController()
      if (this.#reason !== undefined) this.#signal.abort(this.#reason)
    }
    return this.#signal.signal
  }

  /**
   * Sends the request. Resolves when a 200's first body byte is ready to go
   * (or its body ended empty): until then any failure rejects with a coded
   * error, and the caller can still get an error reply. Then call relay().
   */
  start (accept: string | undefined, callerAcceptsGzip = false): Promise<ProbeHead> {
    const { job } = this
    const headers: Record<string, string> = {
      ...job.baseHeaders,
      [TIMEOUT_HEADER]: formatSeconds(this.timeoutMs),
    }
    if (accept !== undefined && accept !== '') headers.accept = accept
    this.#acceptsGzip = callerAcceptsGzip
    const opts: ProbeDispatchOptions = {
      origin: `${job.config.scheme}://${this.target}`,
      path: job.path,
      method: 'GET',
      headers,
      probe: this,
    }
    const head = new Promise<ProbeHead>((resolve, reject) => {
      this.#resolveHead = resolve
      this.#rejectHead = reject
    })
    try {
      job.client.dispatcher.dispatch(opts, this)
    } catch (err) {
      this.#stop(err as Error, 'failed')
    }
    return head
  }

  /** Writes the body to the caller's response (whose head the caller wrote), and ends it. */
  relay (out: Writable): void {
    this.#out = out
    // It failed in the microtasks between the head and here: cut the reply just begun.
    if (this.#state === 'failed') cut(out)
    else if (this.#state === 'streaming') this.#relay?.attach(out)
  }

  /**
   * A debug probe's relay: the body goes through the same relay (decoded-byte
   * limit, gunzip, deadline) into nothing. Call once start() resolved.
   */
  discard (): void {
    this.relay(new Writable({ write (_chunk, _encoding, callback) { callback() } }))
  }

  /** The caller went away: stop the upstream request, whatever stage it is in. */
  cancel (): void {
    // Called at every reply's close: a probe already over has nothing to
    // cancel, and building the Error (its stack) is most of a cancel's cost.
    if (this.#over) return
    // What the abort makes undici report is the caller's doing, not the
    // target's: the outcome is a cancellation, not an upstream error.
    this.#stop(new Error('the caller closed the connection'), 'canceled')
  }

  // --- undici's handler ---

  onRequestStart (controller: Controller): void {
    this.#controller = controller
    // Stopped while the request waited for a connection (or between redirect hops).
    if (this.#reason !== undefined) controller.abort(this.#reason)
    else this.#flow.started(controller)
  }

  onResponseStart (controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (this.#reason !== undefined) return
    // An interim response (103 Early Hints) is not the answer: the final
    // status decides, as in Go's client. undici 7 hands 1xx heads to the
    // handler and then parses on; a 100 it refuses outright (src/classify.ts).
    if (statusCode < 200) return
    const { record } = this
    record.headAt = performance.now()
    record.status = statusCode
    record.statusText = statusMessage
    record.responseHeaders = headers
    this.#connection(this.#socketFacts())
    if (statusCode !== 200) {
      // Drop the body so the connection can be reused, bounded in size here
      // and in time by the deadline, as Prometheus's drain is by the scrape's
      // context. Go's resp.Status keeps the target's reason phrase; HTTP/2 has none.
      this.#exchange = 'draining'
      const reason = statusMessage !== undefined && statusMessage !== '' ? statusMessage : (STATUS_CODES[statusCode] ?? '')
      this.#stop(new Errors.UPSTREAM_STATUS(`${statusCode} ${reason}`.trim()), 'failed')
      return
    }
    if (!this.#to('receiving')) return
    const encoding = headerValue(headers['content-encoding'])
    const limit = this.job.config.bodySizeLimit
    let mode: RelayMode = 'plain'
    // A caller that accepts gzip gets the target's gzip bytes as they are.
    if (encoding === 'gzip') mode = !this.#acceptsGzip ? 'decode' : limit > 0 ? 'meter' : 'plain'
    this.#head = {
      contentType: headerValue(headers['content-type']),
      contentEncoding: mode === 'decode' ? undefined : encoding,
      contentLength: mode === 'plain' ? decimal(headerValue(headers['content-length'])) : undefined,
    }
    this.#relay = new BodyRelay(mode, limit, this.#flow, this)
  }

  onResponseData (controller: Controller, chunk: Buffer): void {
    this.record.wireBytes += chunk.length
    if (this.#exchange === 'draining') {
      this.#drained += chunk.length
      if (this.#drained > DRAIN_LIMIT) controller.abort(new Error('drained enough'))
      return
    }
    this.#relay?.push(chunk)
  }

  onResponseEnd (): void {
    this.#exchangeOver()
    this.#relay?.end()
  }

  onResponseError (_controller: Controller | undefined, err: Error): void {
    this.#exchangeOver()
    this.#stop(err, 'failed')
  }

  // --- the relay's events ---

  ready (): void {
    if (this.#to('streaming')) this.#resolveHead(this.#head as ProbeHead)
  }

  ended (): void {
    if (this.#to('done')) this.#settle(undefined)
  }

  failed (err: Error): void {
    this.#stop(err, 'failed')
  }

  // --- transitions ---

  /** The one place the state changes; false when `next` cannot follow the current state (the probe is over). */
  #to (next: ProbeState): boolean {
    if (!NEXT[this.#state].includes(next)) return false
    this.#state = next
    return true
  }

  get #over (): boolean {
    return NEXT[this.#state].length === 0
  }

  #exchangeOver (): void {
    this.#exchange = 'over'
    if (this.#over) clearTimeout(this.#timer)
  }

  #expire (): void {
    if (this.#exchange === 'over') return
    const err = new DeadlineExceeded(this.timeoutMs)
    this.#stopUpstream(err)
    // A layer that was waiting on the signal (an oauth2 token fetch) or the
    // aborted request reports first, in its own words; this is the fallback
    // for a request still waiting for a connection, which nothing reports.
    if (!this.#over) setImmediate(() => { this.#stop(err, 'failed') })
  }

  #stopUpstream (reason: Error): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    this.#signal?.abort(reason)
    if (this.#exchange !== 'over') this.#controller?.abort(reason)
  }

  /** Ends the probe early: an error reply before the first byte, a cut connection after it. */
  #stop (err: Error, next: 'failed' | 'canceled'): void {
    const from = this.#state
    if (!this.#to(next)) return
    const coded = classify(err, { phase: from === 'connecting' ? 'connect' : 'body', timeoutMs: this.timeoutMs, describe: this.job.client.describeFailure })
    this.#recordFailure(err, coded, from, next)
    this.#relay?.destroy()
    // A draining exchange goes on: the failure is the target's status, not the connection's.
    if (this.#exchange !== 'draining') this.#stopUpstream(coded)
    if (from === 'streaming') {
      if (this.#out !== undefined) cut(this.#out)
    } else this.#rejectHead(coded)
    this.#settle(next === 'canceled' ? undefined : coded)
  }

  #settle (error: Error | undefined): void {
    // While the exchange is open (a drain, an abort not yet reported), the deadline still bounds it.
    if (this.#exchange === 'over') clearTimeout(this.#timer)
    const { record } = this
    const relay = this.#relay
    record.relayedBytes = record.debug ? 0 : relay?.bytes ?? 0
    // Gzip passed through unmetered is never decoded: its decoded size is unknown.
    const gzipPassedThrough = relay?.mode === 'plain' && this.#head?.contentEncoding === 'gzip'
    record.decodedBytes = relay === undefined ? 0 : gzipPassedThrough ? undefined : relay.decoded
    if (record.code === undefined) {
      record.code = 'success'
      record.httpStatus = 200
    }
    record.endAt = performance.now()
    this.#resolveDone({ bytes: record.relayedBytes, error, record })
  }

  // --- the record ---

  /** The facts of the connection the request went out on (learnt from undici's sendHeaders, see ResponseFlow). */
  #socketFacts (): ConnectionFacts | undefined {
    return connectionOf(this.#flow.connection)
  }

  #connection (facts: ConnectionFacts | undefined): void {
    if (facts === undefined) return
    const { record } = this
    record.connection = facts
    // Ready before this probe began: a keep-alive (or HTTP/2) connection, whose timings are not this probe's.
    record.reused = facts.readyAt !== undefined && facts.readyAt < record.start
  }

  #recordFailure (err: Error, coded: Error, from: ProbeState, next: 'failed' | 'canceled'): void {
    const { record } = this
    // The connection that failed came back with the error; else the one the request was on, or an attempt still under way.
    const failedConnection = connectionOfError(err)
    const attempt = record.attempt
    const connecting = attempt !== undefined && attempt.readyAt === undefined ? attempt : undefined
    this.#connection(failedConnection ?? connecting ?? this.#socketFacts())
    record.failedIn = this.#phase(from, failedConnection ?? connecting, err)
    record.cut = from === 'streaming'
    if (next === 'canceled') {
      record.code = 'canceled'
      // Nothing was answered, unless the reply had begun.
      record.httpStatus = from === 'streaming' ? 200 : 0
      return
    }
    record.code = (coded as { code?: string }).code ?? 'error'
    record.reason = coded.message
    record.httpStatus = from === 'streaming' ? 200 : (coded as { statusCode?: number }).statusCode ?? 502
  }

  /**
   * Where the probe was when it failed; undefined when that says nothing the
   * reason does not: the failure is the response head itself (a status), or
   * came before any connection was sought (a credentials file, a rotated CA
   * that does not load).
   */
  #phase (from: ProbeState, connecting: ConnectionFacts | undefined, err: Error): Phase | undefined {
    if (from !== 'connecting') return 'body'
    if (this.record.headAt !== undefined) return undefined
    if (connecting !== undefined && connecting.readyAt === undefined) {
      if (connecting.resolveStart !== undefined && connecting.resolveEnd === undefined) return 'resolve'
      return connecting.tcpAt === undefined ? 'connect' : 'tls'
    }
    if (this.#flow.connection !== undefined) return 'head'
    const token = this.record.token
    if (token !== undefined && token.readyAt === undefined) return 'token'
    // Still queued for a connection at the deadline, or refused one by the proxy's tunnel.
    return err instanceof DeadlineExceeded || this.record.proxy?.route === 'tunnel' ? 'connection' : undefined
  }
}

/**
 * Cuts the caller's reply after its first byte, with a TCP reset, for every
 * caller: a reply to an HTTP/1.0 caller has no end marker (no chunked framing;
 * a Content-Length only when the target sent one), so a clean close (FIN)
 * would look like a complete body; an HTTP/1.1 reply has one, but a reset is
 * what every client library reports as an error (ECONNRESET) rather than as
 * an early end it may overlook. A clean FIN only ever follows a complete body.
 * A TLS caller's socket (the web config's TLS) is a TLSWrap over the TCP
 * socket it came in on, its `_parent`: the reset goes there.
 */
function cut (out: Writable): void {
  const socket = (out as Writable & { socket?: TcpOrTls | null }).socket
  const tcp = socket?._parent ?? socket
  if (tcp !== undefined && tcp !== null && !tcp.destroyed) {
    try {
      tcp.resetAndDestroy()
      socket?.destroy()
      return
    } catch {
      // ERR_INVALID_HANDLE_TYPE: not a TCP handle; destroyed below.
    }
  }
  out.destroy()
}

/** A caller's socket: TCP, or TLS over the TCP socket in `_parent` (node's tls.Server). */
type TcpOrTls = Socket & { _parent?: Socket | null }

function decimal (v: string | undefined): string | undefined {
  return v !== undefined && /^\d{1,15}$/.test(v) ? v : undefined
}

function headerValue (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

// One scrape on behalf of a caller: GET scheme://target/metrics_path?params
// through the job's client, under one deadline that covers connect, TLS,
// headers and the whole upstream body. Success is a 200 whose body is relayed
// chunk by chunk (src/scrape/relay.ts); everything else is a coded error.
//
// The probe is the undici dispatch handler of its request, so no request()
// promise, body stream or AbortSignal sits between the target and the caller:
// undici hands the probe each chunk, the probe writes it to the caller's
// response, and pauses the upstream request when the caller is slow.
import { STATUS_CODES } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { Writable } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { CompiledJob } from './job.js'
import type { ProbeDispatchOptions } from '../client/feature.js'
import { ResponseFlow } from '../client/eof-guard.js'
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
  /** Body bytes relayed to the caller (compressed when gzip was passed through). */
  bytes: number
  error: Error | undefined
}

/** A non-200's body is read and dropped, so the connection can be reused, up to this much. */
const DRAIN_LIMIT = 128 * 1024

export class Probe implements Dispatcher.DispatchHandler {
  readonly #timer: NodeJS.Timeout
  /** The controller of the request on the wire (each redirect hop has its own). */
  #controller: Controller | undefined
  /** Backpressure on the response, safe when its connection ends. */
  readonly #flow = new ResponseFlow()
  #signal: AbortController | undefined
  /** Why the probe stopped the upstream request (deadline, caller gone, failure). */
  #reason: Error | undefined
  /** Before the 200's head: `connect`; after: `body` (the words a failure gets). */
  #phase: 'connect' | 'body' = 'connect'
  /** The upstream exchange is over: its body ended, or it failed. */
  #exchangeDone = false
  /** A non-200 whose body is being dropped. */
  #dropped: number | undefined
  #acceptsGzip = false
  #head: ProbeHead | undefined
  #relay: BodyRelay | undefined
  #out: Writable | undefined
  #headStarted = false
  #settled = false
  #canceled = false
  #resolveHead!: (head: ProbeHead) => void
  #rejectHead!: (err: Error) => void
  #resolveDone!: (o: ProbeOutcome) => void
  /** Resolves once the probe is over: relayed, failed or cancelled. */
  readonly done: Promise<ProbeOutcome> = new Promise((resolve) => { this.#resolveDone = resolve })

  constructor (
    readonly job: CompiledJob,
    readonly target: string,
    readonly timeoutMs: number,
  ) {
    this.#timer = setTimeout(() => { this.#expire() }, timeoutMs)
    this.#timer.unref()
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
      this.#fail(err as Error)
    }
    return head
  }

  /** Writes the body to the caller's response (whose head the caller wrote), and ends it. */
  relay (out: Writable): void {
    this.#out = out
    if (this.#settled) {
      if (!this.#canceled) out.destroy()
      return
    }
    this.#relay?.attach(out)
  }

  /** The caller went away: stop the upstream request, whatever stage it is in. */
  cancel (): void {
    if (this.#settled) return
    // What the abort makes undici report is the caller's doing, not the
    // target's: the outcome is a cancellation, not an upstream error.
    this.#canceled = true
    this.#fail(new Error('the caller closed the connection'))
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
    if (statusCode !== 200) {
      // Drop the body so the connection can be reused, bounded in size here
      // and in time by the deadline, as Prometheus's drain is by the scrape's
      // context. Go's resp.Status keeps the target's reason phrase; HTTP/2 has none.
      this.#dropped = 0
      const reason = statusMessage !== undefined && statusMessage !== '' ? statusMessage : (STATUS_CODES[statusCode] ?? '')
      this.#fail(new Errors.UPSTREAM_STATUS(`${statusCode} ${reason}`.trim()))
      return
    }
    this.#phase = 'body'
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
    if (this.#dropped !== undefined) {
      this.#dropped += chunk.length
      if (this.#dropped > DRAIN_LIMIT) controller.abort(new Error('drained enough'))
      return
    }
    this.#relay?.push(chunk)
  }

  onResponseEnd (): void {
    this.#exchangeDone = true
    if (this.#dropped !== undefined) clearTimeout(this.#timer)
    else this.#relay?.end()
  }

  onResponseError (_controller: Controller | undefined, err: Error): void {
    this.#exchangeDone = true
    if (this.#settled) clearTimeout(this.#timer)
    else this.#fail(err)
  }

  // --- the relay's events ---

  ready (): void {
    this.#headStarted = true
    this.#resolveHead(this.#head as ProbeHead)
  }

  ended (): void {
    this.#settle(undefined)
  }

  failed (err: Error): void {
    this.#fail(err)
  }

  // --- ending ---

  #expire (): void {
    const err = new DeadlineExceeded(this.timeoutMs)
    if (!this.#exchangeDone) this.#stopUpstream(err)
    // A layer that was waiting on the signal (an oauth2 token fetch) or the
    // aborted request reports first, in its own words; this is the fallback
    // for a request still waiting for a connection, which nothing reports.
    if (!this.#settled && !this.#exchangeDone) setImmediate(() => { this.#fail(err) })
  }

  #stopUpstream (reason: Error): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    this.#signal?.abort(reason)
    if (!this.#exchangeDone) this.#controller?.abort(reason)
  }

  #fail (err: Error): void {
    if (this.#settled) return
    const coded = classify(err, { phase: this.#phase, timeoutMs: this.timeoutMs, describe: this.job.client.describeFailure })
    this.#relay?.destroy()
    if (this.#dropped === undefined) this.#stopUpstream(coded)
    // Before the first byte the caller gets an error reply; after it, a cut connection.
    if (!this.#headStarted) this.#rejectHead(coded)
    else this.#out?.destroy()
    this.#settle(this.#canceled ? undefined : coded)
  }

  #settle (error: Error | undefined): void {
    if (this.#settled) return
    this.#settled = true
    if (this.#exchangeDone) clearTimeout(this.#timer)
    this.#resolveDone({ bytes: this.#relay?.bytes ?? 0, error })
  }
}

function decimal (v: string | undefined): string | undefined {
  return v !== undefined && /^\d{1,15}$/.test(v) ? v : undefined
}

function headerValue (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

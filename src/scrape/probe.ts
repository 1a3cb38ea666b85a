// One scrape on behalf of a caller: GET scheme://target/metrics_path?params
// through the job's client, under one deadline that covers connect, TLS,
// headers and the whole body. Success is a 200 whose body is relayed as a
// stream (gunzipped, counted, limited); everything else is a coded error.
import { STATUS_CODES } from 'node:http'
import type { Duplex, Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import type { CompiledJob } from './job.js'
import { BodyLimit } from './limit.js'
import { GzipMeter } from './gzip-meter.js'
import { classify, DeadlineExceeded } from './classify.js'
import { TIMEOUT_HEADER } from './timeout.js'
import { formatSeconds } from '../config/duration.js'
import { Errors } from '../errors.js'

export interface ProbeResponse {
  /** The upstream Content-Type, verbatim (undefined when the target sent none). */
  contentType: string | undefined
  /** Content-Encoding to relay: the target's, unless the gateway decoded the body. */
  contentEncoding: string | undefined
  /**
   * The target's Content-Length when the body is relayed byte for byte and
   * nothing can fail it after its last byte: the reply then goes without
   * chunked framing, which saves a write (the last chunk) and the chunk
   * headers per probe. A caller that got fewer bytes sees the cut as well as
   * with chunked framing.
   */
  contentLength: string | undefined
  /** The decoded body; errors on it are already coded. */
  body: Readable
}

export interface ProbeOutcome {
  /** Body bytes relayed to the caller (compressed when gzip was passed through). */
  bytes: number
  error: Error | undefined
}

export class Probe {
  readonly #controller = new AbortController()
  readonly #timer: NodeJS.Timeout
  #last: BodyLimit | GzipMeter | undefined
  #settled = false
  #canceled = false
  #resolveDone!: (o: ProbeOutcome) => void
  /** Resolves once the probe is over: relayed, failed or cancelled. */
  readonly done: Promise<ProbeOutcome> = new Promise((resolve) => { this.#resolveDone = resolve })

  constructor (
    readonly job: CompiledJob,
    readonly target: string,
    readonly timeoutMs: number,
  ) {
    this.#timer = setTimeout(() => this.#controller.abort(new DeadlineExceeded(timeoutMs)), timeoutMs)
    this.#timer.unref()
  }

  /** The caller went away: stop the upstream request, whatever stage it is in. */
  cancel (): void {
    if (this.#settled) return
    // What the abort makes undici and the pipeline throw is the caller's doing,
    // not the target's: the outcome is a cancellation, not an upstream error.
    this.#canceled = true
    this.#controller.abort(new Error('the caller closed the connection'))
  }

  #finish (error: Error | undefined): void {
    if (this.#settled) return
    this.#settled = true
    clearTimeout(this.#timer)
    this.#resolveDone({ bytes: this.#last?.bytes ?? 0, error: this.#canceled ? undefined : error })
  }

  /** Sends the request; resolves when a 200's headers arrived, rejects with a coded error otherwise. */
  async start (accept: string | undefined, callerAcceptsGzip = false): Promise<ProbeResponse> {
    const { job } = this
    const headers: Record<string, string> = {
      ...job.baseHeaders,
      [TIMEOUT_HEADER]: formatSeconds(this.timeoutMs),
    }
    if (accept !== undefined && accept !== '') headers.accept = accept

    let res
    try {
      res = await job.client.dispatcher.request({
        origin: `${job.config.scheme}://${this.target}`,
        path: job.path,
        method: 'GET',
        headers,
        signal: this.#controller.signal,
      })
    } catch (err) {
      const coded = classify(err as Error, 'connect', this.timeoutMs)
      this.#finish(coded)
      throw coded
    }

    if (res.statusCode !== 200) {
      // Read and drop the body so the connection can be reused, bounded in
      // time as Prometheus's drain is by the scrape's context: #finish stops
      // the deadline, and a target that never sends the body would hold the
      // connection for good.
      res.body.dump({ limit: 128 * 1024, signal: AbortSignal.timeout(this.timeoutMs) }).catch(() => {})
      // Go's resp.Status keeps the target's own reason phrase; HTTP/2 has none.
      const reason = res.statusText || (STATUS_CODES[res.statusCode] ?? '')
      const err = new Errors.UPSTREAM_STATUS(`${res.statusCode} ${reason}`.trim())
      this.#finish(err)
      throw err
    }

    const encoding = headerValue(res.headers['content-encoding'])
    const gzip = encoding === 'gzip'
    const mapError = (err: Error): Error => classify(err, 'body', this.timeoutMs)
    // A caller that accepts gzip gets the target's gzip bytes as they are.
    const passGzip = gzip && callerAcceptsGzip
    const decode = gzip && !passGzip
    const last = passGzip ? new GzipMeter(job.config.bodySizeLimit, mapError) : new BodyLimit(job.config.bodySizeLimit, mapError, decode)
    this.#last = last
    relay(decode ? [res.body, createGunzip(), last] : [res.body, last], (err) => {
      this.#finish(err === undefined ? undefined : mapError(err))
    })
    return {
      contentType: headerValue(res.headers['content-type']),
      contentEncoding: decode ? undefined : encoding,
      contentLength: last.checksTail ? undefined : decimal(headerValue(res.headers['content-length'])),
      body: last,
    }
  }
}

/**
 * Pipes `source` through `stages` into the last stage, which the reply reads.
 * Like stream.pipeline, but without its per-call AbortController and
 * end-of-stream watchers on every stage (measurable on the probe path): any
 * stage's error destroys the last one (whose _destroy codes it), and the last
 * one closing early (an error, or the caller leaving) destroys the others,
 * which aborts the upstream request.
 */
function relay ([source, ...stages]: [Readable, ...Duplex[]], done: (err: Error | undefined) => void): void {
  const last = stages[stages.length - 1] as Duplex
  let prev: Readable = source
  for (const stage of stages) prev = prev.pipe(stage)
  let error: Error | undefined
  for (const s of [source, ...stages.slice(0, -1)]) s.once('error', (err: Error) => { last.destroy(err) })
  last.once('error', (err: Error) => { error = err })
  last.once('close', () => {
    if (error !== undefined || !last.readableEnded) {
      for (const s of [source, ...stages.slice(0, -1)]) s.destroy()
      done(error ?? new Error('the relay was closed before the body ended'))
    } else {
      done(undefined)
    }
  })
}

function decimal (v: string | undefined): string | undefined {
  return v !== undefined && /^\d{1,15}$/.test(v) ? v : undefined
}

function headerValue (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

// The body of a 200 on its way to the caller, chunk by chunk, with no stream
// between undici and the reply: each chunk undici hands the probe is counted,
// checked against body_size_limit and written to the caller's response, and
// backpressure pauses the upstream request itself. Three modes:
// - plain:  relayed as it comes (identity, or gzip to a caller that accepts
//           gzip when the job has no limit); the relayed bytes are counted.
// - decode: gunzipped for a caller that does not accept gzip; decoded bytes
//           are counted and relayed.
// - meter:  gzip passed through to a caller that accepts it, while a side
//           decoder inflates a copy only to count decoded bytes against the
//           limit. The reply does not end until that decoder has, so a limit
//           or gzip error at the tail still cuts the connection.
// Output waits in `pending` until the caller's response is attached, which
// the probe does only once the first byte is ready: until then a failure can
// still be an error reply.
import type { Writable } from 'node:stream'
import { createGunzip, type Gunzip } from 'node:zlib'
import { Errors } from '../errors.js'
import { formatBase2Bytes } from '../config/bytes.js'

export type RelayMode = 'plain' | 'decode' | 'meter'

/**
 * How much the caller's response (or the decoder) may hold before the
 * upstream is paused. Not the streams' own signal: write() says to wait
 * whenever a write reaches their 16 KiB high-water mark, which a 16 KiB chunk
 * (a TLS record) always does, even when the kernel took it at once; pausing
 * on that paused and resumed the upstream parser for nearly every chunk.
 * What is still queued after the write is what counts.
 */
export const RELAY_BUFFER = 64 * 1024

/** What the relay needs of the upstream request: flow control. */
export interface Upstream {
  pause (): void
  resume (): void
}

export interface RelayEvents {
  /** The first output byte is ready (or the body ended empty): attach the caller now. */
  ready (): void
  /** Every byte was written and the response ended. */
  ended (): void
  /** The body failed (limit, gzip); the probe decides what the caller sees. */
  failed (err: Error): void
}

export class BodyRelay {
  /** Bytes written (or to be written) to the caller: decoded in decode mode, compressed in meter mode. */
  bytes = 0
  /** Meter mode: decoded bytes counted against the limit (in the other modes, `bytes` are the decoded bytes). */
  #decoded = 0

  #out: Writable | undefined
  #pending: Buffer[] = []
  #corked = false
  /** Uncorks the caller's response: what this turn wrote goes out in one writev. */
  readonly #flush = (): void => {
    if (!this.#corked) return
    this.#corked = false
    this.#out?.uncork()
  }
  #ready = false
  /** The whole body is in: input ended, and the decoder (if any) has flushed. */
  #complete = false
  #over = false
  /** Reasons the upstream is paused; it resumes when none is left. */
  #blocked = 0
  readonly #decoder: Gunzip | undefined

  constructor (
    readonly mode: RelayMode,
    private readonly limit: number,
    private readonly upstream: Upstream,
    private readonly events: RelayEvents,
  ) {
    if (mode === 'plain') return
    const decoder = createGunzip()
    this.#decoder = decoder
    decoder.on('error', (err) => { this.#fail(err) })
    decoder.on('end', () => { this.#finish() })
    if (mode === 'decode') {
      decoder.on('data', (chunk: Buffer) => {
        if (this.#count(chunk.length) && !this.#emit(chunk)) {
          decoder.pause()
          this.#afterDrain(() => decoder.resume())
        }
      })
    } else {
      decoder.on('data', (chunk: Buffer) => { this.#countDecoded(chunk.length) })
    }
  }

  /** A chunk of the upstream body. */
  push (chunk: Buffer): void {
    // undici's parser hands out an empty chunk after most body spans; written
    // to the caller, each would cost a write(2) of nothing.
    if (this.#over || chunk.length === 0) return
    if (this.mode === 'decode') {
      this.#feed(chunk)
      return
    }
    if (this.mode === 'plain' && !this.#count(chunk.length)) return
    if (this.mode === 'meter') this.bytes += chunk.length
    if (!this.#emit(chunk)) {
      this.#block()
      this.#afterDrain(() => { this.#unblock() })
    }
    if (this.mode === 'meter') this.#feed(chunk)
  }

  /** The upstream body ended. */
  end (): void {
    if (this.#over) return
    if (this.#decoder !== undefined) this.#decoder.end()
    else this.#finish()
  }

  /** The caller's response: pending output is written, the rest follows as it comes. */
  attach (out: Writable): void {
    if (this.#over) return
    this.#out = out
    for (const chunk of this.#pending) out.write(chunk)
    this.#pending = []
    if (this.#complete) this.#end(out)
  }

  /** Stops everything: the probe failed or was cancelled. Idempotent. */
  destroy (): void {
    this.#over = true
    this.#decoder?.destroy()
    this.#pending = []
  }

  #feed (chunk: Buffer): void {
    const decoder = this.#decoder as Gunzip
    decoder.write(chunk)
    if (decoder.writableLength >= RELAY_BUFFER) {
      this.#block()
      decoder.once('drain', () => { this.#unblock() })
    }
  }

  /** Counts relayed bytes; false (after failing) when they reach the limit, as Prometheus fails. */
  #count (n: number): boolean {
    const total = this.bytes + n
    if (this.limit > 0 && total >= this.limit) {
      this.#fail(new Errors.BODY_SIZE_LIMIT(`body_size_limit ${formatBase2Bytes(this.limit)}`))
      return false
    }
    this.bytes = total
    return true
  }

  #countDecoded (n: number): void {
    this.#decoded += n
    if (this.limit > 0 && this.#decoded >= this.limit) {
      this.#fail(new Errors.BODY_SIZE_LIMIT(`body_size_limit ${formatBase2Bytes(this.limit)}`))
    }
  }

  /**
   * Writes (or keeps) an output chunk; false when the producer must wait for
   * #afterDrain.
   *
   * Chunks come one TLS record (16 KiB) at a time, and on loopback a write's
   * cost in the kernel is mostly per call (waking the reader); nginx writes
   * 128 KiB at once. So the response is corked at the first chunk of an
   * event-loop turn and uncorked when the turn's I/O is done (setImmediate),
   * or as soon as RELAY_BUFFER is queued: the turn's chunks leave in one
   * writev, without a copy.
   *
   * Before the caller is attached, output is kept without pausing anything:
   * the probe attaches the caller in the microtasks after `ready`, before any
   * more I/O, so `pending` holds at most what one read delivered.
   */
  #emit (chunk: Buffer): boolean {
    const out = this.#out
    if (out !== undefined) {
      if (!this.#corked) {
        this.#corked = true
        out.cork()
        setImmediate(this.#flush)
      }
      out.write(chunk)
      if (out.writableLength < RELAY_BUFFER) return true
      this.#flush()
      return out.writableLength < RELAY_BUFFER
    }
    this.#pending.push(chunk)
    if (!this.#ready) {
      this.#ready = true
      this.events.ready()
    }
    return true
  }

  /** Runs `fn` once the caller's response drained (asked only past RELAY_BUFFER, so write() did say to wait). */
  #afterDrain (fn: () => void): void {
    this.#out?.once('drain', fn)
  }

  #block (): void {
    if (this.#blocked++ === 0) this.upstream.pause()
  }

  #unblock (): void {
    if (this.#over) return
    if (--this.#blocked === 0) this.upstream.resume()
  }

  /** Input and decoder are done: end the reply, or let the probe attach the caller first. */
  #finish (): void {
    if (this.#over) return
    this.#complete = true
    if (this.#out !== undefined) {
      this.#end(this.#out)
    } else if (!this.#ready) {
      this.#ready = true
      this.events.ready()
    }
  }

  #end (out: Writable): void {
    this.#over = true
    this.#corked = false
    out.end()
    this.events.ended()
  }

  #fail (err: Error): void {
    if (this.#over) return
    this.destroy()
    this.events.failed(err)
  }
}

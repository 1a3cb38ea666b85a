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
// Output is batched: chunks wait in `batch` until the caller's response is
// attached (the probe does that only once the first byte is ready: until then
// a failure can still be an error reply), and after that until the end of the
// event-loop turn, so a turn's chunks reach the response in one go.
//
// The relay relies on nothing of the response but the stream contract:
// write() in order, 'drain' after a write() that returned false, end() after
// the last write. It never corks the response: Node 22's ServerResponse
// keeps a corked chunked response's writes in a buffer of its own, writes
// the last-chunk marker before that buffer on end(), and emits no 'drain'
// for writes it buffered that way (README "Performance", issue 7).
import type { Writable } from 'node:stream'
import { createGunzip, type Gunzip } from 'node:zlib'
import { Errors } from '../errors.js'
import { formatBase2Bytes } from '../go-format.js'

export type RelayMode = 'plain' | 'decode' | 'meter'

/**
 * How much output is batched before it is written at once, and how much
 * more may wait while the caller's response has not drained, before the
 * producer (the upstream request, the decoder) is paused.
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
  /** Output not yet written to the caller's response. */
  #batch: Buffer[] = []
  #batched = 0
  #flushQueued = false
  readonly #flushSoon = (): void => {
    this.#flushQueued = false
    if (!this.#over && !this.#waiting) this.#write()
  }

  /** The caller's response said to wait (write() returned false) and has not drained yet. */
  #waiting = false
  /** Producers (the upstream, the decoder) waiting for the caller's response to drain. */
  #waiters: Array<() => void> = []
  readonly #onDrain = (): void => {
    this.#waiting = false
    if (this.#over) return
    if (this.#batched > 0) this.#write()
    const waiters = this.#waiters
    this.#waiters = []
    for (const fn of waiters) fn()
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
    private readonly events: RelayEvents
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

  /** Decoded bytes of the body so far: the relayed bytes, except in meter mode. (Gzip passed through in plain mode is not decoded: the caller knows.) */
  get decoded (): number {
    return this.mode === 'meter' ? this.#decoded : this.bytes
  }

  /** The upstream body ended. */
  end (): void {
    if (this.#over) return
    if (this.#decoder !== undefined) this.#decoder.end()
    else this.#finish()
  }

  /** The caller's response: what is batched is written now, the rest follows as it comes. */
  attach (out: Writable): void {
    if (this.#over) return
    this.#out = out
    if (this.#complete) {
      this.#end(out)
      return
    }
    if (this.#batched > 0) this.#write()
  }

  /** Stops everything: the probe failed or was cancelled. Idempotent. */
  destroy (): void {
    this.#over = true
    this.#decoder?.destroy()
    this.#batch = []
    this.#batched = 0
    this.#waiters = []
    this.#out?.removeListener('drain', this.#onDrain)
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
   * Batches an output chunk; false when the producer must wait (#afterDrain).
   *
   * Chunks come one TLS record (16 KiB) at a time, and on loopback a write's
   * cost in the kernel is mostly per call (waking the reader); nginx writes
   * 128 KiB at once. So a turn's chunks are batched and written together
   * when the turn's I/O is done (setImmediate), or as soon as RELAY_BUFFER is
   * batched: node:http sends the writes of one tick in one writev.
   *
   * The producer is asked to wait only when the batch and what the response
   * still queues reach RELAY_BUFFER together, and the response has said to
   * wait (so a 'drain' will come). write() returns false whenever a write reaches the
   * response's 16 KiB high-water mark, which a 16 KiB record always does,
   * even when the kernel takes it at once: pausing on that alone paused and
   * resumed the upstream parser for nearly every chunk.
   *
   * Before the caller is attached, output is kept without pausing anything:
   * the probe attaches the caller in the microtasks after `ready`, before any
   * more I/O, so the batch holds at most what one read delivered.
   */
  #emit (chunk: Buffer): boolean {
    this.#batch.push(chunk)
    this.#batched += chunk.length
    const out = this.#out
    if (out === undefined) {
      if (!this.#ready) {
        this.#ready = true
        this.events.ready()
      }
      return true
    }
    // What waits here and in the response together is what is bounded.
    if (this.#batched + out.writableLength < RELAY_BUFFER) {
      if (!this.#flushQueued) {
        this.#flushQueued = true
        setImmediate(this.#flushSoon)
      }
      return true
    }
    if (this.#waiting) return false
    this.#write()
    // Past RELAY_BUFFER still queued after the write, the write said to wait too: a 'drain' will come.
    return !this.#waiting || out.writableLength < RELAY_BUFFER
  }

  /** Writes the batch to the caller's response. */
  #write (): void {
    const out = this.#out as Writable
    const batch = this.#batch
    this.#batch = []
    this.#batched = 0
    let ok = true
    for (const chunk of batch) ok = out.write(chunk)
    if (!ok && !this.#waiting) {
      this.#waiting = true
      out.once('drain', this.#onDrain)
    }
  }

  /** Runs `fn` once the caller's response drained and the batch went out. */
  #afterDrain (fn: () => void): void {
    this.#waiters.push(fn)
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
    if (this.#batched > 0) this.#write()
    this.#over = true
    this.#waiters = []
    out.removeListener('drain', this.#onDrain)
    out.end()
    this.events.ended()
  }

  #fail (err: Error): void {
    if (this.#over) return
    this.destroy()
    this.events.failed(err)
  }
}

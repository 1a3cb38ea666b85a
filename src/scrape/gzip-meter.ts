// The relay stage for a gzip body passed to the caller still compressed (the
// caller accepts gzip, so decoding and re-encoding would be wasted work).
// body_size_limit still counts decoded bytes: with a limit, a side decoder
// inflates a copy of each chunk only to count it, and the stream does not end
// until that decoder has, so a limit or gzip error at the tail still cuts the
// connection instead of completing the reply. Without a limit nothing is
// inflated: the caller decodes, and detects a corrupt stream itself.
import { Transform, type TransformCallback } from 'node:stream'
import { createGunzip, type Gunzip } from 'node:zlib'
import { Errors } from '../errors.js'
import { formatBase2Bytes } from '../config/bytes.js'

export class GzipMeter extends Transform {
  /** Compressed bytes passed on. */
  bytes = 0
  /** Decoded bytes counted (only with a limit). */
  decoded = 0
  readonly #side: Gunzip | undefined
  /** With a side decoder, a limit or gzip error can come at the tail, after the last compressed byte is passed on. */
  readonly checksTail: boolean
  #sideError: Error | undefined

  constructor (
    limit: number,
    private readonly classify: (err: Error) => Error,
  ) {
    super()
    if (limit > 0) {
      const side = createGunzip()
      side.on('data', (chunk: Buffer) => {
        this.decoded += chunk.length
        if (this.decoded >= limit) this.destroy(new Errors.BODY_SIZE_LIMIT(`body_size_limit ${formatBase2Bytes(limit)}`))
      })
      side.on('error', (err) => {
        this.#sideError = err
        this.destroy(err)
      })
      this.#side = side
    }
    this.checksTail = this.#side !== undefined
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    if (this.#side === undefined) {
      done(null, chunk)
      return
    }
    // Wait for the side decoder to take the chunk, so it never buffers more
    // than one chunk ahead of the relay.
    this.push(chunk)
    if (this.#side.write(chunk)) done()
    else this.#side.once('drain', () => { done() })
  }

  override _flush (done: TransformCallback): void {
    const side = this.#side
    if (side === undefined) {
      done()
      return
    }
    side.once('end', () => { done(this.#sideError ?? null) })
    side.end()
    side.resume()
  }

  override _destroy (err: Error | null, done: (error?: Error | null) => void): void {
    this.#side?.destroy()
    done(err === null ? null : this.classify(err))
  }
}

/** Whether an Accept-Encoding header admits gzip (`gzip` or `*`, with q > 0). */
export function acceptsGzip (header: string | string[] | undefined): boolean {
  if (header === undefined) return false
  const value = Array.isArray(header) ? header.join(',') : header
  for (const part of value.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';')
    if (coding.trim() !== 'gzip' && coding.trim() !== '*') continue
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    if (q === undefined || Number(q.slice(2)) > 0) return true
  }
  return false
}

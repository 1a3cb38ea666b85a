// The last stage of the relay: counts decoded bytes, enforces body_size_limit
// (Prometheus fails when the bytes read reach the limit), and turns whatever
// error ends the pipeline into the gateway's coded error.
import { Transform, type TransformCallback } from 'node:stream'
import { Errors } from '../errors.js'
import { formatBase2Bytes } from '../config/bytes.js'

export class BodyLimit extends Transform {
  bytes = 0

  /**
   * Whether an error can come after the last byte is passed on (a gunzip
   * stage before this one fails at the gzip trailer): then the caller must not
   * be told the length, or a complete-looking reply would hide the failure.
   */
  readonly checksTail: boolean

  constructor (
    private readonly limit: number,
    private readonly classify: (err: Error) => Error,
    decoded = false,
  ) {
    super()
    this.checksTail = decoded
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const total = this.bytes + chunk.length
    if (this.limit > 0 && total >= this.limit) {
      done(new Errors.BODY_SIZE_LIMIT(`body_size_limit ${formatBase2Bytes(this.limit)}`))
      return
    }
    // Counts what is passed on, so the bytes metric never includes a rejected chunk.
    this.bytes = total
    done(null, chunk)
  }

  // pipeline() destroys every stage with the first error; the error this
  // stream emits is the one its consumer (the reply) sees, so map it here.
  override _destroy (err: Error | null, done: (error?: Error | null) => void): void {
    done(err === null ? null : this.classify(err))
  }
}

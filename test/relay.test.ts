// BodyRelay on its own: what reaches the caller's response for each mode,
// with a real Writable standing in for the response.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import zlib from 'node:zlib'
import { BodyRelay, RELAY_BUFFER, type RelayMode } from '../src/scrape/relay.js'

class Recorder extends Writable {
  readonly chunks: Buffer[] = []
  /** How many chunks each write to the "socket" carried. */
  readonly batches: number[] = []
  override _write (chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk)
    this.batches.push(1)
    done()
  }

  override _writev (chunks: Array<{ chunk: Buffer }>, done: () => void): void {
    for (const { chunk } of chunks) this.chunks.push(chunk)
    this.batches.push(chunks.length)
    done()
  }
}

function relay (mode: RelayMode, limit = 0): { r: BodyRelay, out: Recorder, events: string[], upstream: string[] } {
  const events: string[] = []
  const upstream: string[] = []
  const r = new BodyRelay(mode, limit, { pause: () => upstream.push('pause'), resume: () => upstream.push('resume') }, {
    ready: () => events.push('ready'),
    ended: () => events.push('ended'),
    failed: (err) => events.push(`failed ${(err as { code?: string }).code ?? err.message}`),
  })
  const out = new Recorder()
  return { r, out, events, upstream }
}

/** Waits until `events` has `n` entries (the decoder works off the main thread). */
async function until (events: string[], n: number): Promise<void> {
  while (events.length < n) await new Promise((resolve) => setTimeout(resolve, 2))
}

async function finished (out: Writable): Promise<void> {
  if (out.writableFinished) return
  await new Promise<void>((resolve) => out.once('finish', () => resolve()))
}

describe('BodyRelay', () => {
  test('empty chunks (undici hands them out) are never written', async () => {
    const { r, out, events } = relay('plain')
    r.push(Buffer.from('a 1\n'))
    r.attach(out)
    r.push(Buffer.alloc(0))
    r.push(Buffer.from('b 2\n'))
    r.push(Buffer.alloc(0))
    r.end()
    await finished(out)
    assert.deepEqual(out.chunks.map(String), ['a 1\n', 'b 2\n'])
    assert.deepEqual(events, ['ready', 'ended'])
    assert.equal(r.bytes, 8)
  })

  test('the chunks of one event-loop turn are written together, at the end of the turn', async () => {
    const { r, out } = relay('plain')
    r.push(Buffer.from('a 1\n'))
    r.attach(out)
    assert.deepEqual(out.chunks.map(String), ['a 1\n'], 'what was ready before the caller is written at once')
    for (const line of ['b 2\n', 'c 3\n']) r.push(Buffer.from(line))
    assert.equal(out.chunks.length, 1, 'nothing is written before the turn ends')
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(out.chunks.map(String), ['a 1\n', 'b 2\n', 'c 3\n'])
    for (const line of ['d 4\n', 'e 5\n']) r.push(Buffer.from(line))
    r.end()
    await finished(out)
    assert.equal(Buffer.concat(out.chunks).toString(), 'a 1\nb 2\nc 3\nd 4\ne 5\n')
  })

  test('a full batch meeting an undrained response pauses the upstream until it drains', async () => {
    const { r, upstream } = relay('plain')
    // A response that holds each write until the test lets it go, with a high-water mark of 1 byte.
    const held: Array<() => void> = []
    const out = new Writable({ highWaterMark: 1, write (_chunk, _enc, done) { held.push(done) } })
    r.push(Buffer.alloc(1))
    r.attach(out)
    assert.equal(out.writableNeedDrain, true, 'the first byte filled the response')
    r.push(Buffer.alloc(RELAY_BUFFER - 2))
    assert.deepEqual(upstream, [], 'a batch that is not full waits without pausing anything')
    r.push(Buffer.alloc(2))
    assert.deepEqual(upstream, ['pause'], 'a full batch waits for drain, and so does the upstream')
    while (held.length > 0) held.shift()?.()
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(upstream, ['pause', 'resume'])
    r.end()
  })

  test('an empty body is ready at its end, and ends the response', async () => {
    const { r, out, events } = relay('plain')
    r.end()
    assert.deepEqual(events, ['ready'])
    r.attach(out)
    await finished(out)
    assert.deepEqual(events, ['ready', 'ended'])
    assert.equal(out.chunks.length, 0)
  })

  test('plain: bytes reaching body_size_limit fail before they are written', () => {
    const { r, out, events } = relay('plain', 10)
    r.push(Buffer.from('123456'))
    r.attach(out)
    r.push(Buffer.from('7890'))
    assert.deepEqual(events, ['ready', 'failed SG_BODY_SIZE_LIMIT'])
    assert.deepEqual(out.chunks.map(String), ['123456'])
  })

  test('decode: the caller gets the decoded bytes, counted against the limit', async () => {
    const body = 'x 1\n'.repeat(1000)
    const { r, out, events } = relay('decode')
    r.push(zlib.gzipSync(body))
    r.end()
    await until(events, 1)
    r.attach(out)
    await finished(out)
    assert.equal(Buffer.concat(out.chunks).toString(), body)
    assert.deepEqual(events, ['ready', 'ended'])
    assert.equal(r.bytes, body.length, 'decoded bytes counted')
  })

  test('meter: the gzip bytes pass as they are, and a decoded size over the limit fails', async () => {
    const gz = zlib.gzipSync('y 2\n'.repeat(100_000))
    const { r, out, events } = relay('meter', 4096)
    r.push(gz)
    r.attach(out)
    r.end()
    await until(events, 2)
    assert.deepEqual(events, ['ready', 'failed SG_BODY_SIZE_LIMIT'])
    assert.ok(Buffer.concat(out.chunks).equals(gz), 'the compressed bytes were relayed untouched')
    assert.equal(out.writableEnded, false, 'the response is not ended: the probe cuts it')
  })
})

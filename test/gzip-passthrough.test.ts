// A caller that accepts gzip gets the target's gzip bytes unchanged; the
// body_size_limit still counts decoded bytes, and a failure at any point still
// cuts the reply instead of completing it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import zlib from 'node:zlib'
import { startGateway } from './helpers/gateway.js'
import { get } from './helpers/client.js'
import { exposition, startHttpTarget, type Target } from './helpers/targets.js'
import { acceptsGzip } from '../src/scrape/accept-encoding.js'

const TEXT = 'text/plain; version=0.0.4; charset=utf-8'

async function gzipTarget (payload: Buffer): Promise<Target> {
  return startHttpTarget((_req, res) => {
    res.writeHead(200, { 'content-type': TEXT, 'content-encoding': 'gzip', 'content-length': payload.length })
    res.end(payload)
  })
}

async function setup (t: { after: (fn: () => Promise<void>) => void }, payload: Buffer, limit?: string): Promise<{ url: string }> {
  const target = await gzipTarget(payload)
  const gw = await startGateway(`
scrape_configs:
  - job_name: gz
${limit === undefined ? '' : `    body_size_limit: ${limit}\n`}    static_configs: [{ targets: ['${target.host}'] }]
`)
  t.after(async () => { await target.close(); await gw.close() })
  return { url: `${gw.url}/probe?job=gz&target=${encodeURIComponent(target.host)}` }
}

test('acceptsGzip reads Accept-Encoding as RFC 9110 does', () => {
  assert.equal(acceptsGzip(undefined), false)
  assert.equal(acceptsGzip('gzip'), true)
  assert.equal(acceptsGzip('deflate, GZIP;q=0.5'), true)
  assert.equal(acceptsGzip('gzip;q=0'), false)
  assert.equal(acceptsGzip('gzip; q=0.0, identity'), false)
  assert.equal(acceptsGzip('*'), true)
  assert.equal(acceptsGzip('identity'), false)
  assert.equal(acceptsGzip('x-gzip'), false)
})

test('gzip is passed through unchanged to a caller that accepts it, and decoded for one that does not', async (t) => {
  const text = exposition(3000)
  const payload = zlib.gzipSync(text)
  const { url } = await setup(t, payload)

  const gz = await get(url, { 'accept-encoding': 'gzip' })
  assert.equal(gz.status, 200)
  assert.equal(gz.complete, true)
  assert.equal(gz.headers['content-encoding'], 'gzip')
  assert.equal(gz.headers['content-type'], TEXT)
  assert.deepEqual(gz.body, payload, 'the very bytes the target sent')

  const plain = await get(url, { 'accept-encoding': 'identity' })
  assert.equal(plain.status, 200)
  assert.equal(plain.headers['content-encoding'], undefined)
  assert.equal(plain.body.toString(), text)
})

test('with a body_size_limit, passed-through gzip is still limited by its decoded size', async (t) => {
  const text = exposition(3000) // ~330 kB decoded, a few kB compressed
  const payload = zlib.gzipSync(text)
  assert.ok(payload.length < 64 * 1024)
  const { url } = await setup(t, payload, '64KiB')
  const seen = await get(url, { 'accept-encoding': 'gzip' })
  // Passed through, the first compressed byte is ready (and the reply starts)
  // before the side decoder has inflated any of it: the limit can only be
  // reached after the first byte, so it cuts the reply.
  assert.equal(seen.status, 200)
  assert.equal(seen.headers['content-encoding'], 'gzip')
  assert.equal(seen.complete, false, 'a reply that started must be cut, never completed')
  assert.equal(seen.aborted, true)
})

test('with a body_size_limit above the decoded size, passed-through gzip completes', async (t) => {
  const text = exposition(3000)
  const payload = zlib.gzipSync(text)
  const { url } = await setup(t, payload, '10MiB')
  const seen = await get(url, { 'accept-encoding': 'gzip' })
  assert.equal(seen.status, 200)
  assert.equal(seen.complete, true)
  assert.deepEqual(seen.body, payload)
})

test('a corrupt gzip tail is caught by the side decoder when a limit is set: the reply is cut', async (t) => {
  const payload = zlib.gzipSync(exposition(3000))
  // Damage the CRC32 trailer: only the end of the stream is wrong.
  payload.writeUInt8((payload.at(-5) ?? 0) ^ 0xff, payload.length - 5)
  const { url } = await setup(t, payload, '10MiB')
  const seen = await get(url, { 'accept-encoding': 'gzip' })
  // The trailer is checked after the first compressed byte went out: a cut, not a 502.
  assert.equal(seen.status, 200)
  assert.equal(seen.headers['content-encoding'], 'gzip')
  assert.equal(seen.complete, false, 'never a clean end')
  assert.equal(seen.aborted, true)
})

test('the target\'s Content-Length is relayed only when nothing can fail after the last byte', async (t) => {
  const text = exposition(3000)
  const payload = zlib.gzipSync(text)
  const { url } = await setup(t, payload) // no body_size_limit: nothing checks the gzip tail
  const passed = await get(url, { 'accept-encoding': 'gzip' })
  assert.equal(passed.headers['content-length'], String(payload.length))
  assert.equal(passed.headers['transfer-encoding'], undefined)
  const decoded = await get(url, { 'accept-encoding': 'identity' })
  assert.equal(decoded.headers['content-length'], undefined, 'a decoded body may still fail at the gzip trailer')
  assert.equal(decoded.headers['transfer-encoding'], 'chunked')
  assert.equal(decoded.body.toString(), text)
})

test('with a body_size_limit, passed-through gzip goes chunked (the side decoder checks the tail)', async (t) => {
  const payload = zlib.gzipSync(exposition(3000))
  const { url } = await setup(t, payload, '10MiB')
  const seen = await get(url, { 'accept-encoding': 'gzip' })
  assert.equal(seen.status, 200)
  assert.equal(seen.headers['content-length'], undefined)
  assert.equal(seen.headers['transfer-encoding'], 'chunked')
})

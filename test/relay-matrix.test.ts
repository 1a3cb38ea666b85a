// Byte-exact relay, case by case: every way a target frames a body, gzip or
// not, to callers that accept gzip or not and read fast or slowly, at the
// sizes where chunk, record and buffer edges fall. Each case checks what the
// caller got against what the target sent (or its gunzip) by SHA-256, the
// status, the Content-Encoding, that the body ended properly, and that the
// gateway's log line counts the bytes the caller received. One gateway serves
// every case, many at a time; each case has its own job, so its log line is
// its own. This is the test that sees Node 22 end a corked chunked response
// before its last chunks (issue 7 in README "Performance").
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import zlib from 'node:zlib'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { createCa, tmpDir, type Ca } from './helpers/pki.js'
import { FRAMINGS, startFramingTargets, type Framing, type FramingTargets, type Payload } from './helpers/framings.js'

const KiB = 1024
const MiB = 1024 * KiB
const SIZES = [0, 1, 16 * KiB - 1, 16 * KiB + 1, 64 * KiB, MiB, 10 * MiB]
const CONCURRENCY = 12

interface Case {
  name: string
  framing: Framing
  gzip: boolean
  size: number
  callerAcceptsGzip: boolean
  slow: boolean
  /** A body_size_limit well above the body: gzip to a gzip caller then runs through the side decoder (meter mode). */
  limit: boolean
}

function cases (): Case[] {
  const all: Case[] = []
  for (const framing of FRAMINGS) {
    for (const gzip of [false, true]) {
      for (const size of SIZES) {
        for (const callerAcceptsGzip of [false, true]) {
          for (const slow of [false, true]) {
            for (const limit of gzip && callerAcceptsGzip ? [false, true] : [false]) {
              const name = [framing, gzip ? 'gzip' : 'identity', size, callerAcceptsGzip ? 'caller-gzip' : 'caller-identity',
                slow ? 'slow' : 'fast', ...(limit ? ['limit'] : [])].join('.')
              all.push({ name, framing, gzip, size, callerAcceptsGzip, slow, limit })
            }
          }
        }
      }
    }
  }
  return all
}

/** Exposition-like text of exactly `size` bytes, with values that keep gzip honest. */
function text (size: number): Buffer {
  const lines: string[] = []
  let length = 0
  let x = 0x9e3779b9
  for (let i = 0; length < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    const line = `relay_matrix_sample{pod="app-${i % 977}",le="${i % 13}"} ${(x >>> 0) / 1000}\n`
    lines.push(line)
    length += line.length
  }
  return Buffer.from(lines.join('')).subarray(0, size)
}

interface Seen {
  status: number
  contentEncoding: string | undefined
  contentLength: string | undefined
  complete: boolean
  bytes: number
  sha256: string
  error: string | undefined
}

/** GET with node:http, hashing what arrives; a slow caller stops reading for a moment after every chunk. */
async function call (url: string, c: Case): Promise<Seen> {
  return new Promise((resolve) => {
    const headers = c.callerAcceptsGzip ? { 'accept-encoding': 'gzip' } : {}
    const req = http.get(url, { headers, agent: false }, (res) => {
      const hash = createHash('sha256')
      let bytes = 0
      let error: string | undefined
      res.on('error', (err) => { error = err.message })
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk)
        bytes += chunk.length
        if (c.slow) {
          res.pause()
          setTimeout(() => res.resume(), 2)
        }
      })
      res.on('close', () => {
        resolve({
          status: res.statusCode ?? 0,
          contentEncoding: res.headers['content-encoding'],
          contentLength: res.headers['content-length'],
          complete: res.complete,
          bytes,
          sha256: hash.digest('hex'),
          error,
        })
      })
    })
    req.on('error', (err) => {
      resolve({ status: 0, contentEncoding: undefined, contentLength: undefined, complete: false, bytes: 0, sha256: '', error: err.message })
    })
  })
}

function sha256 (b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

describe('relay matrix: the caller gets the target\'s bytes, whole, in every framing', { timeout: 120_000 }, () => {
  const all = cases()
  const payloads = new Map<string, Payload>()
  const expected = new Map<string, { sha256: string, length: number }>()
  const seen = new Map<string, Seen>()
  const logged = new Map<string, { bytes: number, result: string }>()
  let ca: Ca
  let targets: FramingTargets
  let gw: Gateway
  let logDir: string

  before(async () => {
    const plain = text(Math.max(...SIZES))
    for (const size of SIZES) {
      const identity = plain.subarray(0, size)
      const gz = zlib.gzipSync(identity)
      payloads.set(`identity-${size}`, { wire: identity, gzip: false })
      payloads.set(`gzip-${size}`, { wire: gz, gzip: true })
    }
    ca = createCa('relay matrix CA')
    targets = await startFramingTargets(payloads, ca.issue({ cn: 'relay matrix target' }))
    const jobs = all.map((c) => {
      const params = [`body: ['${c.gzip ? 'gzip' : 'identity'}-${c.size}']`]
      if (c.framing === 'chunked') params.push("framing: ['chunked']")
      return `
  - job_name: ${c.name}
    scrape_interval: 2m
    scrape_timeout: 1m
    params: { ${params.join(', ')} }
${c.framing === 'http2' ? `    scheme: https\n    tls_config: { ca_file: ${ca.certFile} }\n` : ''}${c.limit ? '    body_size_limit: 64MB\n' : ''}    static_configs: [{ targets: ['${targets.host(c.framing)}'] }]`
    })
    logDir = tmpDir('sg-relay-matrix-')
    const logFd = fs.openSync(path.join(logDir, 'gateway.log'), 'w')
    gw = await startGateway(`scrape_configs:${jobs.join('')}\n`, { logLevel: 'info', logFormat: 'json', logFd })

    // Many cases at a time against the one gateway; the big bodies are spread over the run.
    const queue = [...all].sort((a, b) => b.size - a.size)
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
        const url = `${gw.url}/probe?job=${encodeURIComponent(c.name)}&target=${targets.host(c.framing)}`
        seen.set(c.name, await call(url, c))
      }
    }))
    // The log's last lines are written at close.
    await gw.close()
    fs.closeSync(logFd)
    for (const line of fs.readFileSync(path.join(logDir, 'gateway.log'), 'utf8').split('\n')) {
      if (line === '') continue
      const entry = JSON.parse(line) as { job?: string, bytes?: number, result?: string }
      if (entry.job !== undefined && entry.bytes !== undefined) logged.set(entry.job, { bytes: entry.bytes, result: entry.result ?? '' })
    }
    for (const size of SIZES) {
      for (const key of [`identity-${size}`, `gzip-${size}`]) {
        const wire = payloads.get(key)?.wire ?? Buffer.alloc(0)
        expected.set(key, { sha256: sha256(wire), length: wire.length })
      }
    }
  })

  after(async () => {
    await gw?.close()
    await targets?.close()
    if (logDir !== undefined) fs.rmSync(logDir, { recursive: true, force: true })
    if (ca !== undefined) fs.rmSync(path.dirname(ca.certFile), { recursive: true, force: true })
  })

  for (const c of all) {
    test(c.name, () => {
      const got = seen.get(c.name)
      assert.ok(got !== undefined, 'the case ran')
      assert.equal(got.error, undefined)
      assert.equal(got.status, 200)
      assert.ok(got.complete, 'the response ended with its end marker (or its whole Content-Length)')
      // gzip reaches a caller that accepts it as the target's bytes; any other caller gets it decoded.
      const passThrough = c.gzip && c.callerAcceptsGzip
      assert.equal(got.contentEncoding, passThrough ? 'gzip' : undefined)
      const want = expected.get(`${passThrough ? 'gzip' : 'identity'}-${c.size}`)
      assert.ok(want !== undefined)
      assert.equal(got.bytes, want.length, 'byte count')
      assert.equal(got.sha256, want.sha256, 'SHA-256 of the body')
      if (got.contentLength !== undefined) assert.equal(Number(got.contentLength), want.length)
      assert.deepEqual(logged.get(c.name), { bytes: got.bytes, result: 'success' }, 'the gateway\'s log line counts what the caller received')
    })
  }
})

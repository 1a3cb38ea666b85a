// The relay under load: thousands of probes, many at a time over keep-alive
// connections as Prometheus and load generators send them, through chunked
// and Content-Length targets, gzip or not, to callers that accept gzip or
// not. Every body the callers get is compared with the target's: the number
// that differ must be 0. (Cut-short bodies on Node 22 showed most under load.)
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import zlib from 'node:zlib'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { createCa, type Ca } from './helpers/pki.js'
import { startFramingTargets, type FramingTargets, type Payload } from './helpers/framings.js'
import { exposition } from './helpers/targets.js'

const PROBES = 3000
const CONCURRENCY = 32
/** Series per body: from about 2 KB to about 600 KB of text. */
const SERIES = [20, 150, 400, 1000, 2500, 6000]
const FRAMINGS = ['content-length', 'chunked'] as const

interface Job { name: string, framing: typeof FRAMINGS[number], key: string }

function sha256 (b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

let ca: Ca
let targets: FramingTargets
let gw: Gateway
const payloads = new Map<string, Payload>()
const jobs: Job[] = []

before(async () => {
  for (const series of SERIES) {
    const text = Buffer.from(exposition(series))
    payloads.set(`identity-${series}`, { wire: text, gzip: false })
    payloads.set(`gzip-${series}`, { wire: zlib.gzipSync(text), gzip: true })
  }
  ca = createCa('relay load CA')
  targets = await startFramingTargets(payloads, ca.issue({ cn: 'relay load target' }))
  for (const framing of FRAMINGS) {
    for (const key of payloads.keys()) jobs.push({ name: `${framing}-${key}`, framing, key })
  }
  gw = await startGateway(`scrape_configs:\n${jobs.map((j) => `
  - job_name: ${j.name}
    params: { body: ['${j.key}']${j.framing === 'chunked' ? ", framing: ['chunked']" : ''} }
    static_configs: [{ targets: ['${targets.host(j.framing)}'] }]`).join('')}\n`, { maxConcurrentProbes: 1024 })
})

after(async () => {
  await gw?.close()
  await targets?.close()
  if (ca !== undefined) fs.rmSync(path.dirname(ca.certFile), { recursive: true, force: true })
})

test(`${PROBES} probes, ${CONCURRENCY} at a time: no body differs from the target's`, { timeout: 120_000 }, async (t) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  t.after(() => agent.destroy())
  const expected = new Map<string, string>()
  for (const [key, payload] of payloads) {
    expected.set(`${key}/pass`, sha256(payload.wire))
    expected.set(`${key}/decoded`, sha256(payload.gzip ? zlib.gunzipSync(payload.wire) : payload.wire))
  }
  let next = 0
  let x = 12345
  const differing: string[] = []
  const byStatus = new Map<number, number>()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < PROBES) {
      next++
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      const job = jobs[x % jobs.length] as Job
      const acceptsGzip = (x >>> 8) % 2 === 0
      const url = `${gw.url}/probe?job=${job.name}&target=${targets.host(job.framing)}`
      // A request that fails (a cut body, or bytes after a body's end that the next response on the connection trips over) counts as differing.
      const got = await new Promise<{ status: number, body: Buffer, complete: boolean, encoding: string | undefined }>((resolve) => {
        http.get(url, { agent, headers: acceptsGzip ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', () => {})
          res.on('close', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete, encoding: res.headers['content-encoding'] }))
        }).on('error', () => resolve({ status: 0, body: Buffer.alloc(0), complete: false, encoding: undefined }))
      })
      byStatus.set(got.status, (byStatus.get(got.status) ?? 0) + 1)
      const passThrough = got.encoding === 'gzip'
      const want = expected.get(`${job.key}/${passThrough ? 'pass' : 'decoded'}`)
      if (got.status !== 200 || !got.complete || sha256(got.body) !== want || passThrough !== (acceptsGzip && job.key.startsWith('gzip'))) {
        differing.push(`${job.name} (caller ${acceptsGzip ? 'accepts gzip' : 'identity'}): status ${got.status}, ${got.body.length} bytes, complete ${String(got.complete)}`)
      }
    }
  }))
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(byStatus))}; bodies that differ: ${differing.length}`)
  assert.deepEqual(differing.slice(0, 10), [], `${differing.length} of ${PROBES} bodies differ from the target's`)
})

// Hostile targets cannot starve the gateway: probes in flight are capped per
// job (--probe.max-concurrency-per-job, or the job's max_concurrent_probes)
// under the global cap, and /probe answers only GET (HEAD would be a full
// scrape that holds the caller until the body ends).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { get, type Seen } from './helpers/client.js'
import { metricsHandler, startHttpTarget } from './helpers/targets.js'
import { rejects } from './helpers/config-errors.js'

/** A target that answers every request with a 200's headers and then never sends a byte more. */
interface HangingTarget {
  host: string
  /** Requests whose head it has read. */
  requests: () => number
  /** Destroys every socket, which ends the probes they hold. */
  close: () => Promise<void>
}

async function startHangingTarget (): Promise<HangingTarget> {
  const sockets = new Set<net.Socket>()
  let requests = 0
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let head = ''
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1')
      while (head.includes('\r\n\r\n')) {
        head = head.slice(head.indexOf('\r\n\r\n') + 4)
        requests++
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nTransfer-Encoding: chunked\r\n\r\n')
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    host: `127.0.0.1:${port}`,
    requests: () => requests,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A deadline far beyond the test, so only closing the target ends a hanging probe. */
const PATIENT = 'scrape_interval: 5m\n    scrape_timeout: 5m'

function probeUrl (gw: Gateway, job: string, target: string): string {
  return `${gw.url}/probe?job=${encodeURIComponent(job)}&target=${encodeURIComponent(target)}`
}

async function until (what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** Any method, read with node:http (fetch refuses a body on HEAD and hides nothing we need here). */
function send (method: string, url: string): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Starts `n` probes and waits until `target` holds `admitted` of them and every other one has been answered. */
async function flood (gw: Gateway, job: string, target: HangingTarget, n: number, admitted: number): Promise<{ held: Array<Promise<Seen>>, refused: Seen[] }> {
  const before = target.requests()
  const answered: Seen[] = []
  const all = Array.from({ length: n }, () => get(probeUrl(gw, job, target.host)).then((seen) => { answered.push(seen); return seen }))
  await until(`${admitted} probes upstream and ${n - admitted} refused`, () => target.requests() === before + admitted && answered.length === n - admitted)
  return { held: all, refused: [...answered] }
}

test('300 probes to a hanging target: the job\'s cap refuses all but 64, and another job and /-/healthy still answer at once', async (t) => {
  const hanging = await startHangingTarget()
  const prompt = await startHttpTarget(metricsHandler('up 1\n'))
  const gw = await startGateway(`
scrape_configs:
  - job_name: slow
    ${PATIENT}
    static_configs: [{ targets: ['${hanging.host}'] }]
  - job_name: prompt
    static_configs: [{ targets: ['${prompt.host}'] }]
`)
  let held: Array<Promise<Seen>> = []
  t.after(async () => {
    await hanging.close()
    await Promise.all(held)
    await prompt.close()
    await gw.close()
  })

  const flooded = await flood(gw, 'slow', hanging, 300, 64)
  held = flooded.held
  assert.equal(flooded.refused.length, 236)
  for (const r of flooded.refused) {
    assert.equal(r.status, 503)
    assert.equal(r.headers['retry-after'], '1')
    assert.equal(r.body.toString(),
      `SG_TOO_MANY_PROBES: 64 probes of job "slow" are already in flight (--probe.max-concurrency-per-job), retry later [job="slow" target="${hanging.host}"]\n`)
  }
  assert.equal(hanging.requests(), 64, 'refused probes opened nothing upstream')

  // While the 64 hang: /-/healthy first (the 300 were sent before it), then another job.
  const healthy = await get(`${gw.url}/-/healthy`)
  assert.equal(healthy.status, 200)
  assert.ok(healthy.ms < 100, `/-/healthy took ${healthy.ms} ms`)
  const other = await get(probeUrl(gw, 'prompt', prompt.host))
  assert.equal(other.status, 200)
  assert.equal(other.body.toString(), 'up 1\n')
  assert.ok(other.ms < 1000, `the other job's probe took ${other.ms} ms`)

  // Closing the target ends the hanging probes: no body byte ever came, so each is an error reply.
  await hanging.close()
  const ended = (await Promise.all(held)).filter((r) => r.status !== 503)
  assert.equal(ended.length, 64)
  for (const r of ended) {
    assert.equal(r.status, 502)
    assert.match(r.body.toString(), /^SG_UPSTREAM_BODY: /)
  }
  const again = await get(probeUrl(gw, 'slow', hanging.host))
  assert.equal(again.status, 502, 'the job\'s slots are free again: the probe reached the (closed) target instead of a 503')
  assert.match(again.body.toString(), /^SG_UPSTREAM_CONNECT: /)
})

test('the global cap still holds: --probe.max-concurrency is 503 naming the flag, across jobs', async (t) => {
  const a = await startHangingTarget()
  const b = await startHangingTarget()
  const gw = await startGateway(`
scrape_configs:
  - job_name: a
    ${PATIENT}
    static_configs: [{ targets: ['${a.host}'] }]
  - job_name: b
    ${PATIENT}
    static_configs: [{ targets: ['${b.host}'] }]
`, { maxConcurrentProbes: 4 })
  const held: Array<Promise<Seen>> = []
  t.after(async () => {
    await a.close()
    await b.close()
    await Promise.all(held)
    await gw.close()
  })

  held.push(...(await flood(gw, 'a', a, 3, 3)).held)
  const fromB = await flood(gw, 'b', b, 3, 1)
  held.push(...fromB.held)
  assert.equal(fromB.refused.length, 2)
  for (const r of fromB.refused) {
    assert.equal(r.status, 503)
    assert.equal(r.headers['retry-after'], '1')
    assert.match(r.body.toString(), /^SG_TOO_MANY_PROBES: 4 probes are already in flight \(--probe\.max-concurrency\), retry later /)
  }
})

test('max_concurrent_probes overrides --probe.max-concurrency-per-job, up or down, and a reload keeps counting the probes in flight', async (t) => {
  const hanging = await startHangingTarget()
  const config = (wide: number): string => `
scrape_configs:
  - job_name: plain
    ${PATIENT}
    static_configs: [{ targets: ['${hanging.host}'] }]
  - job_name: wide
    ${PATIENT}
    max_concurrent_probes: ${wide}
    static_configs: [{ targets: ['${hanging.host}'] }]
`
  const gw = await startGateway(config(3), { maxConcurrentProbesPerJob: 1 })
  const held: Array<Promise<Seen>> = []
  t.after(async () => {
    await hanging.close()
    await Promise.all(held)
    await gw.close()
  })

  const plain = await flood(gw, 'plain', hanging, 2, 1)
  held.push(...plain.held)
  assert.match(plain.refused[0]?.body.toString() ?? '', /^SG_TOO_MANY_PROBES: 1 probes of job "plain" are already in flight \(--probe\.max-concurrency-per-job\), retry later /)

  const wide = await flood(gw, 'wide', hanging, 4, 3)
  held.push(...wide.held)
  assert.equal(wide.refused.length, 1)
  assert.equal(wide.refused[0]?.status, 503)
  assert.match(wide.refused[0]?.body.toString() ?? '', /^SG_TOO_MANY_PROBES: 3 probes of job "wide" are already in flight \(the job's max_concurrent_probes\), retry later /)

  // A reload that raises wide's cap to 4: its 3 probes from before still count, so one more gets in, not four.
  writeFileSync(gw.configFile, config(4))
  // The reload is done once the new config serves: the old clients close in the background, once the
  // held probes end (src/state.ts), so its promise settles while they still hang.
  await gw.app.reloadConfig()
  assert.equal(gw.app.gateway.job('wide')?.config.maxConcurrentProbes, 4)
  const afterReload = await flood(gw, 'wide', hanging, 2, 1)
  held.push(...afterReload.held)
  assert.match(afterReload.refused[0]?.body.toString() ?? '', /^SG_TOO_MANY_PROBES: 4 probes of job "wide" are already in flight/)
})

test('max_concurrent_probes must be a positive integer, refused at load with file:line', async () => {
  const job = (value: string): string => `scrape_configs:\n  - job_name: j\n    max_concurrent_probes: ${value}\n    static_configs: [{ targets: ['127.0.0.1:9'] }]\n`
  const at = { line: 3, col: 28, path: 'scrape_configs[0].max_concurrent_probes' }
  await rejects(job('0'), { ...at, message: 'must be a positive integer, got 0' })
  await rejects(job('-2'), { ...at, message: 'must be a positive integer, got -2' })
  await rejects(job('1.5'), { ...at, message: 'cannot unmarshal !!float `1.5` into int' })
  await rejects(job('ten'), { ...at, message: 'cannot unmarshal !!str `ten` into int' })
})

test('HEAD /probe is 405 with Allow: GET and scrapes nothing; other methods are 405 too', async (t) => {
  const target = await startHttpTarget(metricsHandler('up 1\n'))
  const gw = await startGateway(`
scrape_configs:
  - job_name: j
    static_configs: [{ targets: ['${target.host}'] }]
`)
  t.after(async () => { await target.close(); await gw.close() })
  const url = probeUrl(gw, 'j', target.host)

  const head = await send('HEAD', url)
  assert.equal(head.status, 405)
  assert.equal(head.headers.allow, 'GET')
  assert.equal(head.body, '')
  assert.equal(target.requests.length, 0, 'the target saw no request')

  for (const method of ['POST', 'PUT', 'DELETE']) {
    const r = await send(method, url)
    assert.equal(r.status, 405, method)
    assert.equal(r.headers.allow, 'GET', method)
    assert.equal(r.body, `SG_METHOD_NOT_ALLOWED: ${method} is not allowed on /probe; use GET\n`)
  }
  assert.equal(target.requests.length, 0)

  const ok = await send('GET', url)
  assert.deepEqual([ok.status, ok.body], [200, 'up 1\n'])
})

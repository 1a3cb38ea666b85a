// The bench's --gateway-processes machinery, without running the bench: the
// launcher starts N processes behind one port with the single process's
// flags, gives each its own log, reports their pids, stops them all, and
// fails loudly when one dies; the options, the log counts and the Scaling
// table. The processes are node-floor.mjs (what --gateway=floor runs), so no
// build of the gateway is needed.
//
//   npx tsx --test test/bench/scaling.test.ts
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { eventually } from '../helpers/eventually.js'
import { alive } from '../helpers/daemon.js'
import { createCa } from '../helpers/pki.js'
import { PRODUCTION_NODE_ARGS, startGatewayProcess, writeGatewayConfig, type GatewayProcess, type PortSharing } from './gateway.js'
import { countLogLines, logKey } from './logs.js'
import { parseOptions, REPO_ROOT } from './options.js'
import { processTree } from './sample.js'
import { renderMarkdown, type CaseResult, type Report } from './report.js'

const work = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-scaling-'))
const ca = createCa('bench scaling test CA')
const tokenFile = path.join(work, 'token')
writeFileSync(tokenFile, 'not-a-real-token', { mode: 0o600 })
const body = { label: '1k', path: '/metrics', series: 1, bytes: 1000, gzipBytes: 100 }
const configFile = writeGatewayConfig({ dir: work, target: '127.0.0.1:9', bodies: [body], caFile: ca.certFile, tokenFile })
const started: GatewayProcess[] = []

after(async () => {
  await Promise.all(started.map(async (g) => g.stop()))
  rmSync(work, { recursive: true, force: true })
})

async function start (processes: number, sharing: PortSharing, config = configFile): Promise<GatewayProcess> {
  const g = await startGatewayProcess({ repoRoot: REPO_ROOT, configFile: config, dir: work, kind: 'floor', node: process.execPath, processes, sharing })
  started.push(g)
  return g
}

function cmdline (pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '')
}

/** Node >= 22.12 on the 22 line, >= 23.1 after it: where listen() knows reusePort. */
function hasReusePort (): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}

describe('launcher.mjs: N processes behind one port', () => {
  for (const sharing of ['cluster', 'cluster-rr'] as const) {
    it(`${sharing}: starts each process with the single process's flags, its own log, and stops them all`, async () => {
      const g = await start(2, sharing)
      const workers = g.workers()
      assert.equal(workers.length, 2)
      assert.equal(new Set(workers).size, 2)
      assert.deepEqual(g.pids(), [g.child.pid, ...workers])
      // The launcher's children: its process tree (what the bench's CPU accounting walks) holds them.
      assert.deepEqual(processTree(g.child.pid).sort(), g.pids().sort())
      const single = g.command.split(' ').slice(1)
      for (const pid of workers) assert.deepEqual(cmdline(pid).slice(1), single)
      assert.ok(single.includes(PRODUCTION_NODE_ARGS[0]!))
      assert.equal(g.processes, 2)
      assert.deepEqual(g.logs.map((f) => path.basename(f).replace(/^gateway-\d+/, 'G')), ['G.log', 'G.process-1.log', 'G.process-2.log'])
      for (const log of g.logs) assert.ok(existsSync(log), log)
      const res = await fetch(`${g.url}/-/ready`)
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'ready\n')
      await g.stop()
      for (const pid of g.pids()) await eventually(async () => assert.equal(alive(pid), false, `pid ${pid} outlived the stop`))
    })
  }

  it('a process that dies stops the launcher with exit code 1, and the other process with it', async () => {
    const g = await start(2, 'cluster')
    const [first, second] = g.workers() as [number, number]
    process.kill(first, 'SIGKILL')
    const { code } = await g.child.exited
    assert.equal(code, 1)
    await eventually(async () => assert.equal(alive(second), false))
    assert.match(readFileSync(g.log, 'utf8'), new RegExp(`process 1 \\(pid ${first}\\) exited \\(SIGKILL\\)`))
  })

  it('a process that fails to start fails the start, with its own log in the error', async () => {
    await assert.rejects(start(2, 'cluster', path.join(work, 'no-such-config.yml')), (err: Error) => {
      assert.match(err.message, /gateway launcher exited \(code 1\)/)
      // Whichever process failed first; the launcher stopped the other.
      assert.match(err.message, /--- gateway-\d+\.process-[12]\.log\n/)
      assert.match(err.message, /ENOENT/)
      assert.match(err.message, /no-such-config\.yml/)
      return true
    })
  })

  it(`reuseport ${hasReusePort() ? 'binds one socket per process' : 'is refused'} on node ${process.version}`, async () => {
    if (!hasReusePort()) {
      await assert.rejects(start(2, 'reuseport'), /reuseport needs listen's reusePort \(node >= 22\.12 or >= 23\.1\)/)
      return
    }
    const g = await start(2, 'reuseport')
    for (const pid of g.workers()) assert.ok(cmdline(pid).some((a) => a.endsWith('reuse-port.mjs')), 'the preload that sets reusePort')
    const res = await fetch(`${g.url}/-/ready`)
    assert.equal(res.status, 200)
    await res.arrayBuffer()
  })
})

describe('--gateway-processes and --gateway-sharing', () => {
  it('default to the gateway alone, through cluster when more', () => {
    const o = parseOptions([])
    assert.ok(o !== 'help')
    assert.deepEqual(o.gatewayProcesses, [1])
    assert.equal(o.gatewaySharing, 'cluster')
  })

  it('take a list of counts and a sharing', () => {
    const o = parseOptions(['--gateway-processes=1,2,4', '--gateway-sharing=reuseport'])
    assert.ok(o !== 'help')
    assert.deepEqual(o.gatewayProcesses, [1, 2, 4])
    assert.equal(o.gatewaySharing, 'reuseport')
  })

  for (const [args, message] of [
    [['--gateway-processes=1,1'], /--gateway-processes: 1 is given twice/],
    [['--gateway-processes=0'], /--gateway-processes: "0" is not a positive integer/],
    [['--gateway-processes='], /--gateway-processes is empty/],
    [['--gateway-sharing=fork'], /--gateway-sharing: "fork" is not one of cluster, cluster-rr, reuseport/],
  ] as const) {
    it(`refuse ${args.join(' ')}`, () => assert.throws(() => parseOptions([...args]), message))
  }
})

describe('the log notes', () => {
  it('read JSON with numeric or word levels, logfmt, and anything else as it is', () => {
    assert.equal(logKey('{"level":40,"msg":"probe failed","result":"canceled","err":"x"}'), 'warn "probe failed" result=canceled')
    assert.equal(logKey('{"level":"ERROR","msg":"probe failed","result":"failed","err":"SG_UPSTREAM_TLS boom"}'),
      'error "probe failed" result=failed (SG_UPSTREAM_TLS boom)')
    assert.equal(logKey('time=2026-01-02T15:04:05.123Z level=WARN msg="probe failed" job=a result=failed err="SG_UPSTREAM_CONNECT refused \\"x\\""'),
      'warn "probe failed" result=failed (SG_UPSTREAM_CONNECT refused "x")')
    assert.equal(logKey('level=WARN msg=reload err.message="bad file"'), 'warn "reload" (bad file)')
    assert.equal(logKey('launcher: process 1 (pid 7) exited (SIGKILL)'), '`launcher: process 1 (pid 7) exited (SIGKILL)`')
  })

  it('count lines over every process\'s log', () => {
    const a = 'level=WARN msg="probe failed" result=canceled\nlevel=WARN msg="probe failed" result=canceled\n'
    const b = '{"level":40,"msg":"probe failed","result":"canceled"}\n\n'
    assert.deepEqual(countLogLines([a, b]), ['3× warn "probe failed" result=canceled — wrk closes its connections mid-response when each period ends'])
  })
})

describe('the Scaling table', () => {
  const wrk = (rps: number): CaseResult['wrk'] => ({
    requests: rps * 4, durationS: 4, rps, bytes: 0, p50Ms: 1, p90Ms: 2, p99Ms: 3, maxMs: 4, meanMs: 1, socketErrors: 0, statusErrors: 0, cpuMs: 100,
  })
  const gatewayCase = (processes: number, rps: number, peerCpuMs: number, processCpuMs?: number[]): CaseResult => ({
    size: '100k',
    encoding: 'gzip',
    connections: 32,
    peer: 'gateway',
    runtime: 'v20.0.0',
    processes,
    wrk: wrk(rps),
    peerCpuMs,
    processCpuMs,
    targetCpuMs: 0,
    hostBusy: 0.5,
    otherLoad: 0,
    peakRssKb: 1024 * processes,
    hwmKb: 1024 * processes,
    response: { contentEncoding: 'gzip', wireBytes: 8000, decodedBytes: 100_000 },
    extended: false,
    runs: 1,
    spread: { rps: [rps, rps], cpuMsPerReq: [peerCpuMs / rps / 4, peerCpuMs / rps / 4] },
  })
  const report = (processes: number[], cases: CaseResult[]): Report => {
    const options = parseOptions([`--gateway-processes=${processes.join(',')}`])
    assert.ok(options !== 'help')
    return {
      date: new Date(0),
      totalSeconds: 1,
      command: 'npx tsx test/bench/run.ts',
      machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 1, kernel: 'Linux', node: 'v20.0.0', nginx: undefined, wrk: '4', gateway: '0' },
      options,
      target: 'node',
      gatewayCommand: undefined,
      runtimes: [{ bin: 'node', version: 'v20.0.0', label: 'v20.0.0' }],
      bodies: [],
      clientHeaders: {},
      cases,
      memory: [],
      growth: [],
      hwmResettable: true,
      launcherRssKb: processes.some((n) => n > 1) ? 40 * 1024 : undefined,
      notes: [],
    }
  }

  it('sets each count side by side with its CPU split and the ratios to the first count', () => {
    const one = gatewayCase(1, 1000, 4000)
    const two = gatewayCase(2, 1500, 7200, [5400, 1800])
    const md = renderMarkdown(report([1, 2], [one, two]))
    assert.match(md, /## Scaling: gateway processes behind one port/)
    assert.match(md, /the launcher itself: 40\.0 MB idle/)
    const scaling = md.slice(md.indexOf('## Scaling'), md.indexOf('## Throughput'))
    const line = scaling.split('\n').find((l) => l.startsWith('| 100k | gzip | 32 | 1,000 |'))
    assert.ok(line !== undefined, md)
    const cells = line.split('|').slice(1, -1).map((c) => c.trim())
    // ×1: req/s, CPU ms/req, cores, host busy; ×2: the same and the split; then req/s and CPU/req ×2 ÷ ×1.
    assert.deepEqual(cells.slice(3), ['1,000', '1.000', '1.00', '50%', '1,500', '1.200', '1.80', '50%', '75/25', '1.50×', '1.20×'])
    assert.match(md, /\| 100k \| gzip \| 32 \| gateway on v20\.0\.0 ×2 \| 1,500 \|/)
  })

  it('is left out when the gateway ran as one process count', () => {
    const md = renderMarkdown(report([1], [gatewayCase(1, 1000, 4000)]))
    assert.doesNotMatch(md, /## Scaling/)
    assert.doesNotMatch(md, /Gateway processes/)
    assert.match(md, /\| 100k \| gzip \| 32 \| gateway on v20\.0\.0 \| 1,000 \|/)
  })
})

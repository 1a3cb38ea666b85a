// Files the config names are input too, and hostile ones must neither block
// nor bloat the gateway: a named pipe with no writer, /dev/zero, a 1 GiB
// (sparse) file, a directory and a symlink loop, each as bearer_token_file,
// basic_auth.password_file and tls_config.ca_file. Each is refused with the
// key and the reason (never the content) at startup, at --config.check and
// at reload (file:line), and at probe time when a good file is rotated into
// it (500 SG_CREDENTIALS). While each case runs, /-/healthy answers within
// 100 ms: that is the assertion that no read blocked the event loop. The
// gateway runs in this process, so its peak memory is this process's VmHWM.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildServer } from '../src/server.js'
import { createCa, tmpDir, type Ca } from './helpers/pki.js'
import { exposition, metricsHandler, startHttpTarget, startHttpsTarget, type Target } from './helpers/targets.js'
import { startGateway, writeConfig, type Gateway } from './helpers/gateway.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BODY = exposition(5)
const HEALTHY_MS = 100
const MAX_RSS_BYTES = 400 * 1024 * 1024

type Kind = 'fifo' | 'dev-zero' | 'sparse-1GiB' | 'directory' | 'symlink-loop'
const KINDS: Kind[] = ['fifo', 'dev-zero', 'sparse-1GiB', 'directory', 'symlink-loop']

/** Turns `p` into the hostile thing, whatever was there. */
function makeHostile (kind: Kind, p: string): void {
  fs.rmSync(p, { recursive: true, force: true })
  switch (kind) {
    case 'fifo': execFileSync('mkfifo', [p]); break
    case 'dev-zero': fs.symlinkSync('/dev/zero', p); break
    case 'sparse-1GiB': fs.writeFileSync(p, 'x'); fs.truncateSync(p, 2 ** 30); break
    case 'directory': fs.mkdirSync(p); break
    case 'symlink-loop': fs.symlinkSync(path.basename(p), p); break
  }
}

interface Key {
  job: string
  /** The key path under scrape_configs[N] that errors name. */
  key: string
  /** The gateway's cap for this kind of file, as errors word it. */
  cap: string
  /** The job's YAML (list item) with its file at `file`. */
  yaml: (file: string, target: Target) => string
  good: () => string
}

function reason (kind: Kind, cap: string): RegExp {
  switch (kind) {
    case 'fifo': return /: is a named pipe, not a regular file/
    case 'dev-zero': return /: is a character device, not a regular file/
    case 'sparse-1GiB': return new RegExp(`: is larger than ${cap}`)
    case 'directory': return /: is a directory/
    case 'symlink-loop': return /: too many levels of symbolic links/
  }
}

/** Times `n` GETs of /-/healthy, one after another, while whatever else runs. */
async function healthyTimes (url: string, n = 4): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const res = await fetch(`${url}/-/healthy`)
    await res.text()
    times.push(performance.now() - t0)
    assert.equal(res.status, 200)
  }
  return times
}

function assertResponsive (times: number[], what: string): void {
  assert.ok(times.every((ms) => ms < HEALTHY_MS), `${what}: /-/healthy took ${times.map((t) => t.toFixed(1)).join(', ')} ms`)
}

function vmHwmBytes (): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  assert.ok(m !== null, 'VmHWM in /proc/self/status')
  return Number(m[1]) * 1024
}

function escape (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** `node --import tsx src/main.ts --config.check`, killed after 30 s so a hang fails the test instead of stalling it. */
async function configCheck (file: string): Promise<{ code: number | null, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config.check', `--config.file=${file}`], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  return await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stderr }) })
  })
}

describe('hostile files named by the config', () => {
  let dir: string
  let ca: Ca
  let plain: Target
  let secure: Target
  let gw: Gateway
  const keys: Key[] = [
    {
      job: 'bearer',
      key: 'bearer_token_file',
      cap: '64 KiB',
      yaml: (file, t) => `  - job_name: bearer\n    bearer_token_file: ${JSON.stringify(file)}\n    static_configs: [{ targets: ['${t.host}'] }]\n`,
      good: () => 'token\n',
    },
    {
      job: 'basic',
      key: 'basic_auth.password_file',
      cap: '64 KiB',
      yaml: (file, t) => `  - job_name: basic\n    basic_auth: { username: u, password_file: ${JSON.stringify(file)} }\n    static_configs: [{ targets: ['${t.host}'] }]\n`,
      good: () => 'password\n',
    },
    {
      job: 'ca',
      key: 'tls_config.ca_file',
      cap: '4 MiB',
      yaml: (file, t) => `  - job_name: ca\n    scheme: https\n    tls_config: { ca_file: ${JSON.stringify(file)} }\n    static_configs: [{ targets: ['${t.host}'] }]\n`,
      good: () => ca.cert,
    },
  ]
  const targetOf = (k: Key): Target => k.job === 'ca' ? secure : plain
  const liveFile = (k: Key): string => path.join(dir, `live-${k.job}`)
  const restore = (k: Key): void => {
    fs.rmSync(liveFile(k), { recursive: true, force: true })
    fs.writeFileSync(liveFile(k), k.good())
  }
  const goodYaml = (): string => 'scrape_configs:\n' + keys.map((k) => k.yaml(liveFile(k), targetOf(k))).join('')

  before(async () => {
    dir = tmpDir('sg-hostile-')
    ca = createCa()
    const server = ca.issue({ cn: 'target' })
    plain = await startHttpTarget(metricsHandler(BODY))
    secure = await startHttpsTarget({ cert: server.cert, key: server.key }, metricsHandler(BODY))
    for (const k of keys) restore(k)
    gw = await startGateway(goodYaml())
    for (const k of keys) assert.equal((await gw.probe(k.job, targetOf(k).host)).status, 200, k.job)
  })

  after(async () => {
    await gw?.close()
    await plain?.close()
    await secure?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  for (const kind of KINDS) {
    describe(kind, () => {
      for (const k of keys) {
        const badFile = (): string => path.join(dir, `bad-${kind}-${k.job}`)
        const badConfig = (): string => {
          makeHostile(kind, badFile())
          return 'scrape_configs:\n' + k.yaml(badFile(), targetOf(k))
        }
        const atKey = (file: string): RegExp => new RegExp(`^${escape(file)}:\\d+:\\d+: scrape_configs\\[0\\]\\.${escape(k.key)}: .*${escape(badFile())}`)

        it(`as ${k.key}: startup refuses it with file:line and the reason, and a running gateway stays responsive`, async () => {
          const file = writeConfig(badConfig())
          const [result, times] = await Promise.all([
            buildServer({ configFile: file, logLevel: false }).then(async (app) => { await app.close(); return undefined }, (err: unknown) => err as Error),
            healthyTimes(gw.url),
          ])
          assert.ok(result instanceof Error, 'buildServer must reject')
          assert.match(result.message, atKey(file))
          assert.match(result.message, reason(kind, k.cap))
          assertResponsive(times, 'startup')
        })

        it(`as ${k.key}: --config.check refuses it with file:line and the reason`, async () => {
          const file = writeConfig(badConfig())
          const r = await configCheck(file)
          assert.equal(r.code, 1, r.stderr)
          const line = r.stderr.replace(/^FAILED: /, '').trimEnd()
          assert.match(line, atKey(file))
          assert.match(line, reason(kind, k.cap))
        })

        it(`as ${k.key}: reload refuses it, says why, and keeps the old config`, async () => {
          const good = goodYaml()
          fs.writeFileSync(gw.configFile, badConfig())
          try {
            const [res, times] = await Promise.all([fetch(`${gw.url}/-/reload`, { method: 'POST' }), healthyTimes(gw.url)])
            const text = await res.text()
            assert.equal(res.status, 500, text)
            assert.match(text, /^SG_CONFIG_RELOAD: failed to reload config: /)
            assert.match(text.replace(/^SG_CONFIG_RELOAD: failed to reload config: /, '').trimEnd(), atKey(gw.configFile))
            assert.match(text.trimEnd(), reason(kind, k.cap))
            assertResponsive(times, 'reload')
            for (const other of keys) assert.equal((await gw.probe(other.job, targetOf(other).host)).status, 200, `${other.job} after the refused reload`)
          } finally {
            fs.writeFileSync(gw.configFile, good)
          }
        })

        it(`as ${k.key}: a good file rotated into it fails the probe with 500 SG_CREDENTIALS and the reason, and comes back`, async () => {
          makeHostile(kind, liveFile(k))
          try {
            const [res, times] = await Promise.all([gw.probe(k.job, targetOf(k).host), healthyTimes(gw.url)])
            const text = (await res.text()).trimEnd()
            assert.equal(res.status, 500, text)
            assert.ok(text.startsWith(`SG_CREDENTIALS: ${k.key}: `), text)
            assert.ok(text.includes(liveFile(k)), text)
            assert.match(text, reason(kind, k.cap))
            assertResponsive(times, 'probe')
          } finally {
            restore(k)
          }
          assert.equal((await gw.probe(k.job, targetOf(k).host)).status, 200, 'after the good file is back')
        })
      }
    })
  }

  it('--config.file itself: each hostile kind is refused at once, without blocking or reading it', async () => {
    for (const kind of KINDS) {
      const file = path.join(dir, `config-${kind}.yml`)
      makeHostile(kind, file)
      const err = await buildServer({ configFile: file, logLevel: false }).then(async (app) => { await app.close(); return undefined }, (e: unknown) => e as Error)
      assert.ok(err instanceof Error, kind)
      assert.ok(err.message.startsWith(`${file}: cannot read config file: `), err.message)
      assert.match(err.message, reason(kind, '4 MiB'))
    }
  })

  it(`peak memory stayed under ${MAX_RSS_BYTES / 1024 / 1024} MB (VmHWM of the process that ran the gateway)`, () => {
    const hwm = vmHwmBytes()
    assert.ok(hwm < MAX_RSS_BYTES, `VmHWM ${(hwm / 1024 / 1024).toFixed(0)} MB`)
  })
})

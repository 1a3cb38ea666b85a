// The command as an operator runs it: `node --import tsx src/main.ts` in a
// child process, and `npm start`: flags, exit codes, signals (SIGTERM,
// SIGHUP reload), where it listens, --config.watch.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import bcrypt from 'bcryptjs'
import { writeConfig } from './helpers/gateway.js'
import { alive } from './helpers/daemon.js'
import { metricsHandler, refusedPort, startHttpTarget } from './helpers/targets.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DEFAULT_CONFIG = path.join(ROOT, 'config', 'scrape-gateway.yml')

interface Exit { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

interface Running {
  child: ChildProcess
  /** Everything written so far. */
  output: () => { stdout: string, stderr: string }
  exited: Promise<Exit>
}

function start (args: string[], command = [process.execPath, '--import', 'tsx', 'src/main.ts']): Running {
  const [file, ...rest] = command as [string, ...string[]]
  const child = spawn(file, [...rest, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { child, output: () => ({ stdout, stderr }), exited }
}

async function run (args: string[]): Promise<Exit> {
  return await start(args).exited
}

/** Polls `check` until it returns true, failing after `ms` or when it throws. */
async function until (what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** Starts the gateway on `port` and waits until /-/ready answers; SIGKILLs it after the test if still running. */
async function startGatewayProcess (t: { after: (fn: () => Promise<void>) => void }, port: number, configFile: string, flags: string[] = []): Promise<Running & { url: string }> {
  const gw = start([`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, ...flags])
  t.after(async () => {
    if (gw.child.exitCode === null && gw.child.signalCode === null) {
      gw.child.kill('SIGKILL')
      await gw.exited
    }
  })
  const url = `http://127.0.0.1:${port}`
  let early: Exit | undefined
  void gw.exited.then((e) => { early = e })
  await until('/-/ready', async () => {
    if (early !== undefined) throw new Error(`gateway exited early with ${early.code}: ${early.stderr}`)
    return (await fetch(`${url}/-/ready`).then((r) => r.status, () => 0)) === 200
  })
  return { ...gw, url }
}

/** Waits for the startup line and returns the address it names (`[::]:PORT`, `127.0.0.1:PORT`): how a gateway started on port 0 is found. */
async function startedAt (gw: Running): Promise<string> {
  let address: string | undefined
  let early: Exit | undefined
  void gw.exited.then((e) => { early = e })
  await until('the startup line', async () => {
    if (early !== undefined) throw new Error(`gateway exited early with ${early.code}: ${early.stderr}`)
    address = /msg="scrape-gateway started" .*\baddress=(\S+)/.exec(gw.output().stdout)?.[1]
    return address !== undefined
  })
  return address as string
}

/** The processes whose parent is `ppid`, with their command lines (Linux /proc). */
function childrenOf (ppid: number): Array<{ pid: number, cmdline: string }> {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      // The command name in field 2 may hold spaces and parentheses: the fields after its closing parenthesis are split.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[1]) !== ppid) return []
      return [{ pid: Number(d), cmdline: readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim() }]
    } catch {
      return [] // gone meanwhile
    }
  })
}

async function probe (url: string, job: string, target: string): Promise<{ status: number, body: string }> {
  const res = await fetch(`${url}/probe?job=${encodeURIComponent(job)}&target=${encodeURIComponent(target)}`)
  return { status: res.status, body: await res.text() }
}

describe('flags', () => {
  test('--config.check with a good config: exit 0, SUCCESS', async () => {
    const file = writeConfig("scrape_configs:\n  - job_name: a\n    allowed_targets: ['*.svc:9100']\n  - job_name: b\n    static_configs: [{ targets: ['b:1'] }]\n")
    const r = await run(['--config.check', `--config.file=${file}`])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `SUCCESS: ${file} is valid (2 jobs)\n`)
    assert.equal(r.stderr, '')
  })

  test('--config.check warns on stderr about each job that refuses every target; the config is still valid', async () => {
    const file = writeConfig("scrape_configs:\n  - job_name: open\n    allowed_targets: ['10.0.0.0/8:*']\n  - job_name: sd-only\n    kubernetes_sd_configs: [{ role: pod }]\n  - job_name: bare\n")
    const r = await run(['--config.check', `--config.file=${file}`])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `SUCCESS: ${file} is valid (3 jobs)\n`)
    const refused = ': every target is refused (403 SG_TARGET_FORBIDDEN)\n'
    assert.equal(r.stderr,
      `WARNING: job "sd-only" has neither static_configs nor allowed_targets${refused}` +
      `WARNING: job "bare" has neither static_configs nor allowed_targets${refused}`)
  })

  test('--config.check with a bad config: exit 1, FILE:LINE:COL on stderr', async () => {
    const file = writeConfig('global:\n  scrape_interval: 1m\nscrape_configs:\n  - job_name: a\n    scrape_timeout: 1x\n')
    const r = await run(['--config.check', `--config.file=${file}`])
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, `FAILED: ${file}:5:21: scrape_configs[0].scrape_timeout: unknown unit "x" in duration "1x"\n`)
  })

  test('--config.check with a missing file: exit 1', async () => {
    const file = path.join(ROOT, 'no-such-config.yml')
    const r = await run(['--config.check', `--config.file=${file}`])
    assert.equal(r.code, 1)
    assert.equal(r.stderr, `FAILED: ${file}: cannot read config file: open ${file}: no such file or directory\n`)
  })

  test('the default config passes --config.check', async () => {
    const implicit = await run(['--config.check'])
    assert.equal(implicit.code, 0, implicit.stderr)
    assert.equal(implicit.stdout, `SUCCESS: ${DEFAULT_CONFIG} is valid (1 job)\n`)
    assert.equal(implicit.stderr, '', 'the default job allows the gateway\'s own address: no warning')
    const explicit = await run(['--config.check', '--config.file=config/scrape-gateway.yml'])
    assert.equal(explicit.code, 0, explicit.stderr)
    assert.match(explicit.stdout, /^SUCCESS: /)
  })

  test('--config.check with --web.config.file: both files checked, a bad web config at FILE:LINE:COL', async () => {
    const file = writeConfig('scrape_configs:\n  - job_name: a\n    static_configs: [{ targets: ["127.0.0.1:9"] }]\n')
    const web = path.join(path.dirname(file), 'web.yml')
    writeFileSync(web, `basic_auth_users:\n  alice: ${bcrypt.hashSync('pw', 4)}\n`)
    const good = await run(['--config.check', `--config.file=${file}`, `--web.config.file=${web}`])
    assert.equal(good.code, 0, good.stderr)
    assert.equal(good.stdout, `SUCCESS: ${file} is valid (1 job)\nSUCCESS: ${web} is valid (web config)\n`)
    writeFileSync(web, 'tls_server_config:\n  cert_file: server.crt\n  client_auth_type: Always\n')
    const bad = await run(['--config.check', `--config.file=${file}`, `--web.config.file=${web}`])
    assert.equal(bad.code, 1)
    assert.equal(bad.stdout, '')
    assert.equal(bad.stderr, `FAILED: ${web}:2:3: tls_server_config: missing one of key or key_file\n`)
  })

  test('starting with a bad web config: exit 1, FILE:LINE:COL on stderr', async () => {
    const file = writeConfig('scrape_configs:\n  - job_name: a\n    static_configs: [{ targets: ["127.0.0.1:9"] }]\n')
    const web = path.join(path.dirname(file), 'web.yml')
    writeFileSync(web, 'basic_auth_users:\n  alice: plain-text\n')
    const port = await refusedPort()
    const r = await run([`--config.file=${file}`, `--web.config.file=${web}`, `--web.listen-address=127.0.0.1:${port}`])
    assert.equal(r.code, 1)
    assert.equal(r.stderr, `error loading config: ${web}:2:10: basic_auth_users.alice: crypto/bcrypt: hashedSecret too short to be a bcrypted password\n`)
  })

  test('--help and -h: exit 0, usage on stdout', async () => {
    const r = await run(['--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^usage: scrape-gateway \[flags\]\n/)
    for (const flag of ['--config.file', '--config.watch', '--web.listen-address', '--web.config.file', '--log.level', '--log.format',
      '--timeout-offset', '--probe.max-concurrency', '--probe.max-concurrency-per-job', '--config.check', '--version', '-h, --help']) {
      assert.ok(r.stdout.includes(flag), flag)
    }
    const short = await run(['-h'])
    assert.deepEqual({ code: short.code, stdout: short.stdout, stderr: short.stderr }, { code: 0, stdout: r.stdout, stderr: '' })
  })

  test('--version: exit 0', async () => {
    const r = await run(['--version'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^scrape-gateway \d+\.\d+\.\d+/)
  })

  test('an unknown flag fails without starting', async () => {
    const r = await run(['--config.fil=x.yml'])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /config\.fil/)
  })

  test('a bad --log.level is a flag error (exit 2), not a config error', async () => {
    const r = await run(['--log.level=verbose'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr, 'scrape-gateway: invalid --log.level "verbose": want debug, info, warn or error\n')
  })

  test('--web.listen-address given twice is a flag error (exit 2), not the last one silently', async () => {
    const r = await run(['--web.listen-address=127.0.0.1:9', '--web.listen-address=[::1]:9'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr, 'scrape-gateway: --web.listen-address given 2 times: the gateway listens on one address\n')
  })

  test('a bad --log.format is a flag error (exit 2)', async () => {
    const r = await run(['--log.format=text'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr, 'scrape-gateway: invalid --log.format "text": want logfmt or json\n')
  })

  test('a bad --probe.max-concurrency-per-job is a flag error (exit 2)', async () => {
    for (const value of ['0', '-1', '1.5', 'many']) {
      const r = await run([`--probe.max-concurrency-per-job=${value}`])
      assert.equal(r.code, 2, value)
      assert.equal(r.stderr, `scrape-gateway: invalid --probe.max-concurrency-per-job ${value}\n`)
    }
  })

  test('starting with a bad config: exit 1, FILE:LINE:COL on stderr', async () => {
    const file = writeConfig('scrape_configs:\n  - job_name: x\n  - job_name: x\n')
    const port = await refusedPort()
    const r = await run([`--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`])
    assert.equal(r.code, 1)
    assert.ok(r.stderr.includes(`${file}:3:15: scrape_configs[1].job_name: found multiple scrape configs with job name "x"`), r.stderr)
  })
})

describe('running', () => {
  test('serves its own metrics as job self, exits 0 on SIGTERM', async (t) => {
    const port = await refusedPort()
    const file = writeConfig(`scrape_configs:\n  - job_name: self\n    static_configs: [{ targets: ['127.0.0.1:${port}'] }]\n`)
    const gw = await startGatewayProcess(t, port, file)
    const { url } = gw

    const res = await fetch(`${url}/probe?job=self&target=127.0.0.1:${port}`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    const body = await res.text()
    assert.match(body, /^scrape_gateway_config_last_reload_successful 1$/m)
    assert.match(body, /^scrape_gateway_jobs 1$/m)

    gw.child.kill('SIGTERM')
    const exit = await gw.exited
    assert.equal(exit.code, 0, exit.stderr)
    assert.equal(exit.signal, null)
    // logfmt by default, as Prometheus logs.
    assert.match(exit.stdout, /^time=\S+ level=INFO msg="scrape-gateway started" .*\baddress=127\.0\.0\.1:\d+ /m)
    assert.match(exit.stdout, /^time=\S+ level=INFO msg="shutting down" signal=SIGTERM$/m)
  })

  test('--log.format=json writes JSON lines', async (t) => {
    const port = await refusedPort()
    const file = writeConfig(`scrape_configs:\n  - job_name: self\n    static_configs: [{ targets: ['127.0.0.1:${port}'] }]\n`)
    const gw = await startGatewayProcess(t, port, file, ['--log.format=json'])
    gw.child.kill('SIGTERM')
    const exit = await gw.exited
    assert.equal(exit.code, 0, exit.stderr)
    const lines = exit.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const started = lines.find((l) => l.msg === 'scrape-gateway started')
    assert.equal(started?.level, 'INFO')
    assert.equal(started?.address, `127.0.0.1:${port}`)
    assert.equal(started?.config, file)
    assert.equal(lines.find((l) => l.msg === 'shutting down')?.signal, 'SIGTERM')
  })

  test('an empty host listens on IPv6 and IPv4 (--web.listen-address=:0)', async (t) => {
    const file = writeConfig("scrape_configs:\n  - job_name: a\n    static_configs: [{ targets: ['127.0.0.1:9'] }]\n")
    const gw = start([`--config.file=${file}`, '--web.listen-address=:0'])
    t.after(async () => {
      if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGKILL')
      await gw.exited
    })
    const address = await startedAt(gw)
    const port = /^\[::\]:(\d+)$/.exec(address)?.[1]
    assert.ok(port !== undefined, `listens on every IPv6 address: ${address}`)
    for (const url of [`http://127.0.0.1:${port}/-/ready`, `http://[::1]:${port}/-/ready`]) {
      const res = await fetch(url)
      assert.equal(res.status, 200, url)
      assert.equal(await res.text(), 'scrape-gateway is Ready.\n')
    }
    gw.child.kill('SIGTERM')
    assert.equal((await gw.exited).code, 0)
  })

  test('npm start runs the gateway as the process npm signals: SIGTERM to npm stops it, and nothing is left', async (t) => {
    const file = writeConfig("scrape_configs:\n  - job_name: a\n    static_configs: [{ targets: ['127.0.0.1:9'] }]\n")
    const npm = start(['--', `--config.file=${file}`, '--web.listen-address=127.0.0.1:0'], ['npm', 'start', '--silent'])
    t.after(async () => {
      if (npm.child.exitCode === null && npm.child.signalCode === null) npm.child.kill('SIGKILL')
      await npm.exited
    })
    const url = `http://${await startedAt(npm)}`
    assert.equal((await fetch(`${url}/-/ready`)).status, 200)
    // npm's one child is the gateway itself (`exec`): no shell or tsx wrapper between them to swallow a signal.
    const children = childrenOf(npm.child.pid as number)
    assert.equal(children.length, 1, JSON.stringify(children))
    assert.match(children[0]?.cmdline ?? '', /^\S*node --import tsx src\/main\.ts --config\.file=/)
    const gateway = children[0]?.pid as number
    t.after(() => { if (alive(gateway)) process.kill(gateway, 'SIGKILL') })

    npm.child.kill('SIGTERM')
    const exit = await npm.exited
    assert.match(exit.stdout, /msg="shutting down" signal=SIGTERM/, 'the gateway got the signal')
    await until('the gateway process to be gone', async () => !alive(gateway), 5000)
    assert.equal(await fetch(`${url}/-/ready`).then((r) => r.status, () => 'refused'), 'refused')
  })

  test('--config.watch: a new job is served after the file changes, without a signal', async (t) => {
    const target = await startHttpTarget(metricsHandler('watched 1\n'))
    t.after(async () => { await target.close() })
    const port = await refusedPort()
    const self = `  - job_name: self\n    static_configs: [{ targets: ['127.0.0.1:${port}'] }]\n`
    const file = writeConfig(`scrape_configs:\n${self}`)
    const gw = await startGatewayProcess(t, port, file, ['--config.watch'])
    assert.equal((await probe(gw.url, 'extra', target.host)).status, 400)
    writeFileSync(file, `scrape_configs:\n${self}  - job_name: extra\n    static_configs: [{ targets: ['${target.host}'] }]\n`)
    await until('the new job', async () => (await probe(gw.url, 'extra', target.host)).status === 200)
    gw.child.kill('SIGTERM')
    const exit = await gw.exited
    assert.equal(exit.code, 0)
    // Info lines are written in batches: all of them are out once it has exited.
    assert.match(exit.stdout, /msg="config file changed; reloading"/)
  })

  test('--probe.max-concurrency-per-job caps one job\'s probes in flight', async (t) => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    const target = await startHttpTarget((_req, res) => {
      void held.then(() => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('up 1\n') })
    })
    t.after(async () => { release(); await target.close() })
    const port = await refusedPort()
    const file = writeConfig(`scrape_configs:\n  - job_name: slow\n    static_configs: [{ targets: ['${target.host}'] }]\n`)
    const gw = await startGatewayProcess(t, port, file, ['--probe.max-concurrency-per-job=1'])

    const first = probe(gw.url, 'slow', target.host)
    await until('the first probe upstream', async () => target.requests.length === 1)
    const second = await probe(gw.url, 'slow', target.host)
    assert.equal(second.status, 503)
    assert.match(second.body, /^SG_TOO_MANY_PROBES: 1 probes of job "slow" are already in flight \(--probe\.max-concurrency-per-job\), retry later/)
    release()
    assert.deepEqual(await first, { status: 200, body: 'up 1\n' })

    gw.child.kill('SIGTERM')
    assert.equal((await gw.exited).code, 0)
  })

  test('SIGHUP reloads; a bad config keeps the old jobs and sets last_reload_successful 0', async (t) => {
    const body = 'extra_up 1\n'
    const target = await startHttpTarget(metricsHandler(body))
    t.after(async () => { await target.close() })
    const port = await refusedPort()
    const self = `  - job_name: self\n    static_configs: [{ targets: ['127.0.0.1:${port}'] }]\n`
    const file = writeConfig(`scrape_configs:\n${self}`)
    const gw = await startGatewayProcess(t, port, file)
    const { url } = gw
    assert.equal((await probe(url, 'extra', target.host)).status, 400)

    // A new job, then SIGHUP.
    writeFileSync(file, `scrape_configs:\n${self}  - job_name: extra\n    static_configs: [{ targets: ['${target.host}'] }]\n`)
    gw.child.kill('SIGHUP')
    await until('the new job', async () => (await probe(url, 'extra', target.host)).status === 200)
    assert.deepEqual(await probe(url, 'extra', target.host), { status: 200, body })
    assert.match((await probe(url, 'self', `127.0.0.1:${port}`)).body, /^scrape_gateway_jobs 2$/m)

    // A bad config, then SIGHUP: the old jobs keep answering.
    writeFileSync(file, `scrape_configs:\n${self}  - job_name: extra\n    scrape_interval: 1x\n`)
    gw.child.kill('SIGHUP')
    await until('the failed reload', async () => /^scrape_gateway_config_last_reload_successful 0$/m.test(await (await fetch(`${url}/metrics`)).text()))
    assert.deepEqual(await probe(url, 'extra', target.host), { status: 200, body })
    const selfProbe = await probe(url, 'self', `127.0.0.1:${port}`)
    assert.equal(selfProbe.status, 200)
    assert.match(selfProbe.body, /^scrape_gateway_jobs 2$/m)
    assert.ok(gw.output().stdout.includes(`${file}:5:22: scrape_configs[1].scrape_interval: unknown unit`), gw.output().stdout)

    // Fixed again: the next SIGHUP succeeds.
    writeFileSync(file, `scrape_configs:\n${self}`)
    gw.child.kill('SIGHUP')
    await until('the good reload', async () => /^scrape_gateway_config_last_reload_successful 1$/m.test(await (await fetch(`${url}/metrics`)).text()))
    assert.equal((await probe(url, 'extra', target.host)).status, 400)

    gw.child.kill('SIGTERM')
    assert.equal((await gw.exited).code, 0)
  })
})

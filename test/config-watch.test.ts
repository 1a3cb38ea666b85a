// --config.watch on a real gateway: the config is reloaded when the file's
// content changes however it is replaced (written in place, a new file
// renamed over it, a Kubernetes ConfigMap's symlink swap), never when it is
// only touched or rewritten the same, and a bad file is refused as a bad
// SIGHUP is (the old config serves, last_reload_successful 0) and not tried
// again until its content changes. And /-/reload refuses a GET.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import pino from 'pino'
import { ConfigWatch } from '../src/config-watch.js'
import { eventually } from './helpers/eventually.js'
import { startGateway, type Gateway } from './helpers/gateway.js'
import { tmpDir } from './helpers/pki.js'
import { metricsHandler, startHttpTarget, type Target } from './helpers/targets.js'

const CHANGED = 'config file changed; reloading'
const UNCHANGED = 'config file unchanged; not reloading'
const RELOADED = 'configuration reloaded'
const FAILED = 'reload failed; the previous configuration stays in use'

/** A config of the jobs named, each allowed to scrape the target. */
function config (target: Target, ...jobs: string[]): string {
  return `scrape_configs:\n${jobs.map((j) => `  - job_name: ${j}\n    static_configs: [{ targets: ['${target.host}'] }]\n`).join('')}`
}

interface Watched {
  gw: Gateway
  target: Target
  /** The messages logged so far, in order. */
  messages: () => string[]
  /** How many times `msg` was logged so far. */
  count: (msg: string) => number
  /** Waits until `msg` has been logged `n` times. */
  logged: (msg: string, n: number) => Promise<void>
  /** The job names the gateway serves now. */
  jobs: () => string[]
  metric: (name: string) => Promise<number>
}

/** A gateway watching `file` (written by the caller), logging JSON at debug level to a file of its own. */
async function watching (t: { after: (fn: () => Promise<void>) => void }, file: string, target: Target): Promise<Watched> {
  const logFile = path.join(tmpDir('sg-watch-log-'), 'gateway.log')
  const logFd = openSync(logFile, 'w')
  const gw = await startGateway(readFileSync(file, 'utf8'), { configFile: file, configWatch: true, logLevel: 'debug', logFormat: 'json', logFd })
  t.after(async () => {
    await gw.close()
    closeSync(logFd)
  })
  const messages = (): string[] => readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { msg: string }).msg)
  const count = (msg: string): number => messages().filter((m) => m === msg).length
  return {
    gw,
    target,
    messages,
    count,
    logged: async (msg, n) => {
      await eventually(async () => { assert.equal(count(msg), n, `${JSON.stringify(msg)} logged ${n} times; the log: ${JSON.stringify(messages())}`) })
    },
    jobs: () => gw.app.gateway.config.jobs.map((j) => j.name),
    metric: async (name) => {
      const text = await (await fetch(`${gw.url}/metrics`)).text()
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
      assert.ok(m !== null, `${name} in /metrics`)
      return Number(m[1])
    },
  }
}

async function withTarget (t: { after: (fn: () => Promise<void>) => void }): Promise<Target> {
  const target = await startHttpTarget(metricsHandler('up 1\n'))
  t.after(async () => { await target.close() })
  return target
}

describe('--config.watch', () => {
  test('an edit in place is reloaded', async (t) => {
    const target = await withTarget(t)
    const file = path.join(tmpDir('sg-watch-'), 'scrape-gateway.yml')
    writeFileSync(file, config(target, 'a'))
    const w = await watching(t, file, target)
    assert.equal((await w.gw.probe('b', target.host)).status, 400)

    writeFileSync(file, config(target, 'a', 'b'))
    await w.logged(RELOADED, 1)
    assert.deepEqual(w.jobs(), ['a', 'b'])
    assert.equal((await w.gw.probe('b', target.host)).status, 200)
    assert.equal(w.count(CHANGED), 1)
  })

  test('a new file renamed over it (an editor\'s or an atomic write) is reloaded, and so is the next one', async (t) => {
    const target = await withTarget(t)
    const dir = tmpDir('sg-watch-')
    const file = path.join(dir, 'scrape-gateway.yml')
    writeFileSync(file, config(target, 'a'))
    const w = await watching(t, file, target)

    // Each write is a new inode: a watch on the first file would see neither.
    for (const [n, jobs] of [[1, ['a', 'b']], [2, ['c']]] as const) {
      const tmp = path.join(dir, `.scrape-gateway.yml.${n}.tmp`)
      writeFileSync(tmp, config(target, ...jobs))
      renameSync(tmp, file)
      await w.logged(RELOADED, n)
      assert.deepEqual(w.jobs(), jobs)
    }
    assert.equal((await w.gw.probe('c', target.host)).status, 200)
    assert.equal((await w.gw.probe('a', target.host)).status, 400)
  })

  test('a Kubernetes ConfigMap update (the ..data symlink swapped) is reloaded, again and again', async (t) => {
    const target = await withTarget(t)
    // The kubelet's layout: config.yml -> ..data/config.yml, ..data -> ..<timestamp>; an update writes a new
    // timestamped directory, points a new link at it, renames that link over ..data and removes the old directory.
    const volume = tmpDir('sg-watch-configmap-')
    let current = ''
    const publish = (stamp: string, yaml: string): void => {
      const dir = `..2026_11_29_15_00_${stamp}.000000001`
      mkdirSync(path.join(volume, dir))
      writeFileSync(path.join(volume, dir, 'config.yml'), yaml)
      symlinkSync(dir, path.join(volume, '..data_tmp'))
      renameSync(path.join(volume, '..data_tmp'), path.join(volume, '..data'))
      if (current !== '') rmSync(path.join(volume, current), { recursive: true })
      current = dir
    }
    publish('00', config(target, 'a'))
    symlinkSync('..data/config.yml', path.join(volume, 'config.yml'))
    const w = await watching(t, path.join(volume, 'config.yml'), target)
    assert.deepEqual(w.jobs(), ['a'])

    publish('01', config(target, 'a', 'b'))
    await w.logged(RELOADED, 1)
    assert.deepEqual(w.jobs(), ['a', 'b'])
    publish('02', config(target, 'c'))
    await w.logged(RELOADED, 2)
    assert.deepEqual(w.jobs(), ['c'])
    assert.equal((await w.gw.probe('c', target.host)).status, 200)
  })

  test('a symlink to a file in another directory: an edit of that file is reloaded', async (t) => {
    const target = await withTarget(t)
    const real = path.join(tmpDir('sg-watch-real-'), 'real.yml')
    writeFileSync(real, config(target, 'a'))
    const link = path.join(tmpDir('sg-watch-link-'), 'scrape-gateway.yml')
    symlinkSync(real, link)
    const w = await watching(t, link, target)

    writeFileSync(real, config(target, 'a', 'b'))
    await w.logged(RELOADED, 1)
    assert.deepEqual(w.jobs(), ['a', 'b'])
  })

  test('a bad file is refused like a bad SIGHUP, not tried again until it changes; a good one is then accepted', async (t) => {
    const target = await withTarget(t)
    const file = path.join(tmpDir('sg-watch-'), 'scrape-gateway.yml')
    writeFileSync(file, config(target, 'a'))
    const w = await watching(t, file, target)
    const loadedAt = await w.metric('scrape_gateway_config_last_reload_success_timestamp_seconds')

    const bad = `${config(target, 'a')}  - job_name: b\n    scrape_interval: 1x\n`
    writeFileSync(file, bad)
    await w.logged(FAILED, 1)
    assert.equal(await w.metric('scrape_gateway_config_last_reload_successful'), 0)
    assert.equal(await w.metric('scrape_gateway_config_last_reload_success_timestamp_seconds'), loadedAt)
    assert.deepEqual(w.jobs(), ['a'], 'the old config keeps serving')
    assert.equal((await w.gw.probe('a', target.host)).status, 200)

    // The same bad content again: looked at, not reloaded.
    writeFileSync(file, bad)
    await w.logged(UNCHANGED, 1)
    assert.equal(w.count(FAILED), 1)
    assert.equal(w.count(CHANGED), 1)

    writeFileSync(file, config(target, 'a', 'b'))
    await w.logged(RELOADED, 1)
    assert.equal(await w.metric('scrape_gateway_config_last_reload_successful'), 1)
    assert.ok(await w.metric('scrape_gateway_config_last_reload_success_timestamp_seconds') > loadedAt)
    assert.deepEqual(w.jobs(), ['a', 'b'])
    assert.equal(w.count(CHANGED), 2)
  })

  test('a removed file is refused like a bad one; put back, it is reloaded', async (t) => {
    const target = await withTarget(t)
    const file = path.join(tmpDir('sg-watch-'), 'scrape-gateway.yml')
    writeFileSync(file, config(target, 'a'))
    const w = await watching(t, file, target)

    rmSync(file)
    await w.logged(FAILED, 1)
    assert.equal(await w.metric('scrape_gateway_config_last_reload_successful'), 0)
    assert.equal((await w.gw.probe('a', target.host)).status, 200, 'the old config keeps serving')
    writeFileSync(file, config(target, 'a', 'b'))
    await w.logged(RELOADED, 1)
    assert.deepEqual(w.jobs(), ['a', 'b'])
  })

  test('a touch or an identical rewrite does not reload', async (t) => {
    const target = await withTarget(t)
    const file = path.join(tmpDir('sg-watch-'), 'scrape-gateway.yml')
    const yaml = config(target, 'a')
    writeFileSync(file, yaml)
    const w = await watching(t, file, target)

    const later = new Date(Date.now() + 60_000)
    utimesSync(file, later, later)
    await w.logged(UNCHANGED, 1)
    writeFileSync(file, yaml)
    await w.logged(UNCHANGED, 2)
    assert.equal(w.count(CHANGED), 0)
    assert.equal(w.count(RELOADED), 0)

    // The watch still reloads a real change after them: exactly once.
    writeFileSync(file, config(target, 'a', 'b'))
    await w.logged(RELOADED, 1)
    assert.equal(w.count(CHANGED), 1)
  })
})

describe('the periodic check', () => {
  test('catches a change no event reported (a filesystem fs.watch cannot see), once', async (t) => {
    const file = path.join(tmpDir('sg-watch-'), 'scrape-gateway.yml')
    writeFileSync(file, 'scrape_configs: []\n')
    let reloads = 0
    // The content last loaded was other than the file's now, and no event will say so: only the interval can find it.
    const watch = new ConfigWatch({ file, loaded: 'the hash of an older content', reload: async () => { reloads++ }, log: pino({ level: 'silent' }), intervalMs: 20 })
    t.after(async () => { await watch.close() })
    await eventually(async () => { assert.equal(reloads, 1) })
    // The checks after it (five intervals) find the content it reloaded: no second reload.
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(reloads, 1)
  })
})

describe('/-/reload', () => {
  test('a GET is refused with 405 and the methods that reload; nothing is reloaded', async (t) => {
    const target = await withTarget(t)
    const gw = await startGateway(config(target, 'a'))
    t.after(async () => { await gw.close() })
    writeFileSync(gw.configFile, config(target, 'a', 'b'))
    for (const method of ['GET', 'HEAD', 'DELETE']) {
      const res = await fetch(`${gw.url}/-/reload`, { method })
      assert.equal(res.status, 405, method)
      assert.equal(res.headers.get('allow'), 'POST, PUT')
      assert.equal(await res.text(), method === 'HEAD' ? '' : `SG_METHOD_NOT_ALLOWED: ${method} is not allowed on /-/reload; use POST or PUT\n`)
    }
    assert.deepEqual(gw.app.gateway.config.jobs.map((j) => j.name), ['a'])
    assert.equal((await fetch(`${gw.url}/-/reload`, { method: 'POST' })).status, 200)
    assert.deepEqual(gw.app.gateway.config.jobs.map((j) => j.name), ['a', 'b'])
  })
})
